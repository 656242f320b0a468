import Foundation
import Hummingbird
import NIOCore

/// The per-request context: the logged-in session (if any) and the client's address (for login rate limiting).
public struct LabelContext: RequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The session the cookie names, once `SessionMiddleware` has looked it up.
    public var session: Session?
    /// The session cookie's raw token (for logout).
    public var token: String?
    /// The peer's IP address, or "unknown".
    public let client: String

    /// Largest request body read (forms, JSON labels); larger bodies get 413.
    public var maxUploadSize: Int { 64 * 1024 }

    /// A context for a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        client = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The session, or 401.
    func requireSession() throws -> Session {
        guard let session else { throw LabelError(.unauthenticated, "not logged in, or the session expired") }
        return session
    }

    /// The session of an admin, or 401/403.
    func requireAdmin() throws -> Session {
        let s = try requireSession()
        guard s.user.role == .admin else { throw LabelError(.forbidden, "only an admin may do this") }
        return s
    }
}

/// Runs blocking work (SQLite, bcrypt) on a Dispatch queue, off Swift's cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}

extension LabelError.Kind {
    /// The HTTP status of this kind.
    var status: HTTPResponse.Status {
        switch self {
        case .invalid: return .badRequest
        case .unauthenticated: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .tooManyRequests: return .tooManyRequests
        }
    }
}
