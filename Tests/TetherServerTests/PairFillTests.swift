import Foundation
import GRDB
import Testing
@testable import TetherServer

/// Pairs whose stored `filled` differs from its definition (original assignments less those answered by a live skip).
func fillMismatches(_ db: Database) throws -> [Int64] {
    try Int64.fetchAll(db, sql: """
        SELECT id FROM pairs WHERE filled != (
            SELECT COUNT(*) FROM assignments a WHERE a.pair_id = pairs.id AND a.is_repeat = 0
              AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.assignment_id = a.id AND l.retracted_at IS NULL AND l.choice = 'skip'))
        """)
}

/// Projects whose stored `open_pairs` differs from its definition (gold pairs, and the others below K).
func openMismatches(_ db: Database) throws -> [Int64] {
    try Int64.fetchAll(db, sql: """
        SELECT id FROM projects WHERE open_pairs != (SELECT COUNT(*) FROM pairs p WHERE p.project_id = projects.id
            AND (p.gold_winner IS NOT NULL OR p.filled < projects.annotators_per_pair))
        """)
}

/// The pair an assignment shows, and that pair's stored fill.
func pairAndFill(_ store: LabelStore, assignment: Int64) throws -> (pair: Int64, filled: Int) {
    try store.pool.read { db in
        let row = try #require(try Row.fetchOne(db, sql: """
            SELECT p.id, p.filled FROM assignments a JOIN pairs p ON p.id = a.pair_id WHERE a.id = ?
            """, arguments: [assignment]))
        return (row["id"], row["filled"])
    }
}

@Suite struct PairFillTests {
    @Test func countsFollowLabelsSkipsAndUndo() throws {
        let store = try temporaryStore()
        try store.createProject("p", annotatorsPerPair: 2, repeatShare: 0)
        try store.importText(pairRows(3), project: "p")
        let alice = try store.annotator("alice"), bob = try store.annotator("bob")
        func fill(_ t: PairTask) throws -> Int { try pairAndFill(store, assignment: t.assignment).filled }

        let t = try #require(try store.nextPair(user: alice, project: "p"))
        #expect(try fill(t) == 1, "an open assignment holds its seat")
        try store.submit(LabelInput(assignment: t.assignment, choice: .skip), user: alice)
        #expect(try fill(t) == 0, "a skip gives the seat back")
        #expect(try store.undo(user: alice, project: "p") == t.assignment)
        #expect(try fill(t) == 1, "undoing the skip reopens the assignment, which holds the seat again")
        try store.submit(LabelInput(assignment: t.assignment, choice: .a), user: alice)
        #expect(try fill(t) == 1)
        try store.undo(user: alice, project: "p")
        #expect(try fill(t) == 1, "undoing an answer leaves the assignment open: still one seat")
        try store.submit(LabelInput(assignment: t.assignment, choice: .tie), user: alice)
        #expect(try store.pool.read(fillMismatches).isEmpty)
        #expect(try store.pool.read(openMismatches).isEmpty)

        // Bob fills the pair's second seat or another pair's first; either way the counts agree with the rows.
        let u = try #require(try store.nextPair(user: bob, project: "p"))
        try store.submit(LabelInput(assignment: u.assignment, choice: .b), user: bob)
        #expect(try store.pool.read(fillMismatches).isEmpty)
        let total = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT SUM(filled) FROM pairs")! }
        #expect(total == 2)
        #expect(try store.pool.read(openMismatches).isEmpty)
    }

    @Test func randomLabellingWithSkipsUndoAndRepeatsKeepsCountsAndRules() throws {
        let store = try temporaryStore()
        try store.createProject("p", annotatorsPerPair: 2, repeatShare: 0.2)
        try store.importText(pairRows(12, gold: 2), project: "p")
        let users = try (0..<4).map { try store.annotator("u\($0)") }
        var rng = SystemRandomNumberGenerator()
        for step in 0..<300 {
            let u = users[Int.random(in: 0..<users.count, using: &rng)]
            if Int.random(in: 0..<6, using: &rng) == 0 {
                try store.undo(user: u, project: "p")
            } else if let t = try store.nextPair(user: u, project: "p") {
                let choice: Choice = [.a, .b, .tie, .bothBad, .skip, .skip].randomElement(using: &rng)!
                try store.submit(LabelInput(assignment: t.assignment, choice: choice), user: u)
            }
            #expect(try store.pool.read(fillMismatches).isEmpty, "step \(step)")
            #expect(try store.pool.read(openMismatches).isEmpty, "step \(step)")
        }
        let (twice, overfilled, repeats) = try store.pool.read { db in
            (try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM (SELECT 1 FROM assignments WHERE is_repeat = 0 GROUP BY pair_id, user_id HAVING COUNT(*) > 1)
                """)!,
             // Only an undone skip can take a seat back after someone else was given it.
             try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM pairs p WHERE gold_winner IS NULL AND filled > 2 + (SELECT COUNT(*) FROM labels l
                  JOIN assignments a ON a.id = l.assignment_id WHERE l.pair_id = p.id AND a.is_repeat = 0 AND l.choice = 'skip'
                  AND l.retracted_at IS NOT NULL)
                """)!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE is_repeat = 1")!)
        }
        // Nobody was shown a pair twice (repeats aside), and no ordinary pair was given more than K annotators.
        #expect(twice == 0 && overfilled == 0)
        #expect(repeats > 0, "repeats happened")
    }

    /// A database as v1 left it: two annotators' history, with a skip, an undone skip, a repeat, and a gold pair.
    func makeV1Database(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: Schema.v1)
        try queue.write { db in
            let now = Date().timeIntervalSince1970
            for (id, name) in [(1, "u1"), (2, "u2")] {
                try db.execute(sql: "INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, ?, 'annotator', ?, ?)",
                               arguments: [id, name, "not a hash", now])
            }
            try db.execute(sql: "INSERT INTO projects (id, name, annotators_per_pair, repeat_share, created_at) VALUES (1, 'p', 2, 0, ?)",
                           arguments: [now])
            for i in 1...4 {  // item i has candidates 2i-1 and 2i, and pair i; pair 4 is gold
                try db.execute(sql: """
                    INSERT INTO items (id, project_id, content_hash, prompt_json, gold, source_file, source_line, created_at)
                    VALUES (?, 1, ?, ?, ?, 'rows.jsonl', ?, ?)
                    """, arguments: [i, "h\(i)", "\"Q\(i)?\"", i == 4 ? 0 : nil, i, now])
                for (k, c) in [2 * i - 1, 2 * i].enumerated() {
                    try db.execute(sql: "INSERT INTO candidates (id, item_id, position, completion_json) VALUES (?, ?, ?, ?)",
                                   arguments: [c, i, k, "\"answer \(c)\""])
                }
                try db.execute(sql: "INSERT INTO pairs (id, item_id, project_id, first_id, second_id, gold_winner) VALUES (?, ?, 1, ?, ?, ?)",
                               arguments: [i, i, 2 * i - 1, 2 * i, i == 4 ? 7 : nil])
            }
            // (assignment, pair, user, repeat): labels below.
            for (a, pair, user, rep) in [(1, 1, 1, 0), (2, 1, 2, 0), (3, 2, 1, 0), (4, 3, 1, 0), (5, 3, 1, 1)] {
                try db.execute(sql: """
                    INSERT INTO assignments (id, pair_id, user_id, left_id, right_id, is_repeat, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [a, pair, user, 2 * pair - 1, 2 * pair, rep, now])
            }
            // (assignment, choice, retracted): u2 skipped pair 1; u1 skipped pair 2 and undid it (open again).
            for (a, choice, retracted) in [(1, "a", false), (2, "skip", false), (3, "skip", true), (4, "b", false), (5, "b", false)] {
                try db.execute(sql: """
                    INSERT INTO labels (assignment_id, user_id, pair_id, choice, seconds, created_at, retracted_at)
                    SELECT id, user_id, pair_id, ?, 1, ?, ? FROM assignments WHERE id = ?
                    """, arguments: [choice, now, retracted ? now : nil, a])
            }
        }
    }

    @Test func aV1DatabaseMigratesAndKeepsWorking() throws {
        let path = try temporaryFolder().appendingPathComponent("v1.sqlite").path
        try makeV1Database(path)
        let store = try LabelStore(path: path)
        let (applied, fills, openPairs) = try store.pool.read { db in
            (try Schema.migrator.appliedIdentifiers(db),
             try Int.fetchAll(db, sql: "SELECT filled FROM pairs ORDER BY id"),
             try Int.fetchOne(db, sql: "SELECT open_pairs FROM projects")!)
        }
        #expect(applied == [Schema.v1, Schema.v2] as Set)
        #expect(openPairs == 4, "all four pairs still want annotators")
        #expect(fills == [1, 1, 1, 0], "pair 1: u1 (u2 skipped); pair 2: u1's reopened assignment; pair 3: u1 (the repeat not counted)")

        let u1 = User(id: 1, name: "u1", role: .annotator), u2 = User(id: 2, name: "u2", role: .annotator)
        let open = try #require(try store.nextPair(user: u1, project: "p"))
        #expect(open.assignment == 3 && open.remaining == 2, "u1's undone skip comes back first; pair 4 (gold) still waits")
        // Label everything left; K = 2 with u2 and a new annotator, gold to everyone.
        let u3 = try store.annotator("u3")
        for u in [u1, u2, u3] {
            while let t = try store.nextPair(user: u, project: "p") {
                try store.submit(LabelInput(assignment: t.assignment, choice: .a), user: u)
            }
        }
        let (mismatches, perPair, after) = try store.pool.read { db in
            (try fillMismatches(db) + openMismatches(db),
             try Row.fetchAll(db, sql: """
                SELECT pair_id, GROUP_CONCAT(user_id) AS users FROM (SELECT pair_id, user_id FROM assignments
                WHERE is_repeat = 0 ORDER BY pair_id, user_id) GROUP BY pair_id ORDER BY pair_id
                """).map { "\($0["pair_id"] as Int64):\($0["users"] as String)" },
             try Int.fetchAll(db, sql: "SELECT filled FROM pairs ORDER BY id"))
        }
        #expect(mismatches.isEmpty)
        // Pair 1 had u1 and u2 (who skipped, so u3 takes the seat); pairs 2 and 3 get a second annotator; gold goes to all.
        #expect(perPair == ["1:1,2,3", "2:1,2", "3:1,2", "4:1,2,3"])
        #expect(after == [2, 2, 2, 3])
        let stillOpen = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT open_pairs FROM projects")! }
        #expect(stillOpen == 1, "only the gold pair still wants annotators")
        #expect(try store.nextPair(user: u3, project: "p") == nil)
    }
}
