import Foundation
import GRDB
import Testing
import TetherServer

/// `tether label serve` as users start it.
@Suite struct LabelServeCLITests {
    @Test func serveDeletesExpiredSessionsAndOldFailedLoginsWhenItStarts() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-label-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("labels.sqlite").path
        do {
            let store = try LabelStore(path: db)
            let ann = try store.addUser("ann", role: .annotator, password: "password-ann", cost: 4)
            let now = Date().timeIntervalSince1970
            try await store.pool.write { db in
                try db.execute(sql: "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ('old', ?, 'c', ?, ?)",
                               arguments: [ann.id, now - 7200, now - 3600])
                try db.execute(sql: "INSERT INTO login_failures (key, at) VALUES ('user:ann', ?)", arguments: [now - 3600])
            }
        }
        let server = try ServeProcess(db: db)  // returns once serve prints its listening line
        server.killNine()
        let counts = try await LabelStore(path: db).pool.read { db in
            [try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sessions")!, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM login_failures")!]
        }
        #expect(counts == [0, 0])
    }
}
