import Foundation
import Hummingbird

/// Looks up the session cookie and puts the live session (if any) in the request context.
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
        return try await next(request, context)
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
