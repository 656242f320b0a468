import Foundation
import GRDB
import Testing
@testable import TetherServer

@Suite struct CleanupTests {
    /// Rows in `sessions` and in `login_failures`.
    func rows(_ store: LabelStore) throws -> [Int] {
        try store.pool.read { db in
            [try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions")!, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM login_failures")!]
        }
    }

    /// Adds a session that expired a minute ago and a failed login from before the rate-limiting window.
    func addStaleRows(_ store: LabelStore, user: User) throws {
        let now = Date().timeIntervalSince1970
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, 'c', ?, ?)",
                           arguments: [LabelStore.randomToken(), user.id, now - 3600, now - 60])
            try db.execute(sql: "INSERT INTO login_failures (key, at) VALUES ('user:old', ?)", arguments: [now - LabelStore.loginWindow - 60])
        }
    }

    @Test func expiredSessionsAndOldFailuresAreDeleted() throws {
        let store = try temporaryStore()
        let ann = try store.annotator("ann")
        #expect(throws: LabelError.self) { try store.login(name: "ann", password: "wrong-password", client: "test") }
        let (_, live) = try store.login(name: "ann", password: "password-ann", client: "test", lifetime: 3600)
        let (_, ended) = try store.login(name: "ann", password: "password-ann", client: "test", lifetime: 3600)
        try store.logout(token: ended)
        try addStaleRows(store, user: ann)
        #expect(try rows(store) == [3, 3])

        #expect(try store.purgeExpired() == PurgeCount(sessions: 2, loginFailures: 1), "the expired and the logged-out session")
        #expect(try rows(store) == [1, 2], "the live session and the recent failures stay")
        #expect(try store.session(token: live) != nil)
        #expect(try store.login(name: "ann", password: "password-ann", client: "test").0.user == ann, "rate limiting still counts recent failures")

        // Later: the live sessions and the failures have run out.
        let later = Date().timeIntervalSince1970 + 8 * 3600 + 1
        #expect(try store.purgeExpired(now: later) == PurgeCount(sessions: 2, loginFailures: 2))
        #expect(try rows(store) == [0, 0])
    }

    @Test func everyLoginPurges() throws {
        let store = try temporaryStore()
        let ann = try store.annotator("ann")
        try addStaleRows(store, user: ann)
        _ = try store.login(name: "ann", password: "password-ann", client: "test")
        #expect(try rows(store) == [1, 0], "a successful login deletes the stale rows")
        try addStaleRows(store, user: ann)
        #expect(throws: LabelError.self) { try store.login(name: "ann", password: "wrong-password", client: "test") }
        #expect(try rows(store) == [1, 2], "so does a failed one, keeping its own two records")
    }
}
