import Foundation
import GRDB

/// Rows deleted by `LabelStore.purgeExpired`.
public struct PurgeCount: Sendable, Equatable {
    /// Sessions that had expired or ended (logout ends a session by expiring it).
    public var sessions: Int
    /// Failed-login records older than the rate-limiting window.
    public var loginFailures: Int
}

extension LabelStore {
    /// Deletes expired or ended sessions and failed-login records older than `loginWindow`.
    ///
    /// Every login (successful or not) does this in its own write, and `tether label serve` does it at start, so the
    /// two tables hold at most one session lifetime of logins and one window of failures. `now` defaults to the clock.
    @discardableResult
    public func purgeExpired(now: Double? = nil) throws -> PurgeCount {
        let now = now ?? Self.now()
        return try pool.write { db in try Self.purgeExpired(db, now: now) }
    }

    static func purgeExpired(_ db: Database, now: Double) throws -> PurgeCount {
        try db.execute(sql: "DELETE FROM sessions WHERE expires_at <= ?", arguments: [now])
        let sessions = db.changesCount
        try db.execute(sql: "DELETE FROM login_failures WHERE at <= ?", arguments: [now - loginWindow])
        return PurgeCount(sessions: sessions, loginFailures: db.changesCount)
    }
}
