import Foundation
import Hummingbird

/// Looks up the session cookie, and turns `LabelError`s thrown below into their 4xx with a JSON message.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = LabelContext
    /// The session cookie's name.
    static let cookie = "tether_session"
    let store: LabelStore

    func handle(_ request: Request, context: LabelContext,
                next: (Request, LabelContext) async throws -> Response) async throws -> Response {
        var context = context
        if let token = request.cookies[Self.cookie]?.value, token.count == 64, token.allSatisfy(\.isHexDigit) {
            let store = self.store
            context.session = try await blocking { try store.session(token: token) }
            context.token = token
        }
        do {
            return try await next(request, context)
        } catch let e as LabelError {
            if e.kind == .unauthenticated && !request.uri.path.hasPrefix("/api/") && request.method == .get {
                return Response.redirect(to: "/login")
            }
            throw HTTPError(e.kind.status, message: e.message)
        } catch let e as DecodingError {
            throw HTTPError(.badRequest, message: Self.describe(e))
        }
    }

    /// A decoding error as "field X: problem".
    static func describe(_ e: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let key, let c): return "field \"\(path(c.codingPath + [key]))\": missing"
        case .typeMismatch(let t, let c): return "field \"\(path(c.codingPath))\": expected \(t)"
        case .valueNotFound(let t, let c): return "field \"\(path(c.codingPath))\": expected \(t), got null"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "body: not valid JSON" : "field \"\(path(c.codingPath))\": \(c.debugDescription)"
        @unknown default: return "body: cannot be decoded"
        }
    }
}

/// CSRF tokens: each session has one, echoed in forms (`csrf` field) and JSON writes (`X-CSRF-Token` header).
enum CSRF {
    /// Compares in constant time.
    static func matches(_ given: String?, _ expected: String) -> Bool {
        guard let given, given.utf8.count == expected.utf8.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(given.utf8, expected.utf8) { diff |= a ^ b }
        return diff == 0
    }

    /// Throws 403 unless `given` is the session's token.
    static func check(_ given: String?, session: Session) throws {
        guard matches(given, session.csrf) else { throw LabelError(.forbidden, "missing or wrong CSRF token") }
    }
}
