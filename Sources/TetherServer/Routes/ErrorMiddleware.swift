import Foundation
import Hummingbird

/// Turns failures into answers: `{"error": {"message"}}` JSON under `/api`, a small HTML page on every other route.
///
/// It runs inside `SessionMiddleware`, so an error page shows who is logged in. A page that needs a login and is
/// fetched without one (a GET answered 401) redirects to the login page instead. Only the errors a request can cause
/// (`LabelError`, decoding errors, HTTP errors) are answered here; anything else (a database failure) goes on to
/// Hummingbird, which logs it and answers 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = LabelContext
    let renderer: Renderer

    func handle(_ request: Request, context: LabelContext,
                next: (Request, LabelContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            guard let (status, message) = Self.statusAndMessage(error) else { throw error }
            if Self.isAPI(request.uri.path) {
                throw HTTPError(status, headers: (error as? HTTPError)?.headers ?? [:], message: message)
            }
            if status == .unauthorized && request.method == .get { return Response.redirect(to: "/login") }
            return renderer.page("error", ["title": "\(status.code) \(status.reasonPhrase)", "code": status.code,
                                           "reason": status.reasonPhrase, "message": message],
                                 session: context.session, status: status)
        }
    }

    /// True for the JSON API's paths.
    static func isAPI(_ path: String) -> Bool { path == "/api" || path.hasPrefix("/api/") }

    /// The status and a plain message for an error the user can act on; nil for anything else.
    static func statusAndMessage(_ error: any Error) -> (HTTPResponse.Status, String)? {
        switch error {
        case let e as LabelError: return (e.kind.status, e.message)
        case let e as DecodingError: return (.badRequest, describe(e))
        case let e as HTTPError: return (e.status, e.body ?? defaultMessage(e.status))
        case let e as any HTTPResponseError: return (e.status, defaultMessage(e.status))
        default: return nil
        }
    }

    /// The message for an HTTP error that carries none (the router's 404, the body limit's 413).
    static func defaultMessage(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: return "no such address"
        case .contentTooLarge: return "the request is too large (at most \(64 * 1024) bytes)"
        case .methodNotAllowed: return "this address does not take \(status.reasonPhrase)"
        default: return status.reasonPhrase.lowercased()
        }
    }

    /// A decoding error as "field X: problem".
    static func describe(_ e: DecodingError) -> String {
        // A decoder that loses the coding path (the form decoder does, for values) gets "a field" rather than `field ""`.
        func field(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "a field" : "field \"\(keys.map(\.stringValue).joined(separator: "."))\""
        }
        switch e {
        case .keyNotFound(let key, let c): return "\(field(c.codingPath + [key])): missing"
        case .typeMismatch(let t, let c): return "\(field(c.codingPath)): expected \(t)"
        case .valueNotFound(let t, let c): return "\(field(c.codingPath)): expected \(t), got null"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "body: not valid JSON" : "\(field(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "body: cannot be decoded"
        }
    }
}
