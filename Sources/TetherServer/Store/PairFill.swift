import GRDB

/// `pairs.filled`: how many of its K annotators a pair has, kept current so the next pair is found through an index;
/// and `projects.open_pairs`: how many pairs still want annotators (gold ones, and the others below K).
///
/// A pair's fill is its original (non-repeat) assignments less those answered by a live skip: an open assignment
/// holds its seat, a skip gives the seat back, undoing the skip takes it again; repeats never count. Each change is
/// made in the write transaction that creates the assignment, stores the label or retracts it (and import adds its
/// new pairs to `open_pairs`), so the counts can never disagree with the rows they summarise.
enum PairFill {
    /// Adds `delta` to one pair's fill, and moves the project's open count when the pair reaches or leaves K.
    static func adjust(_ db: Database, pair: Int64, by delta: Int) throws {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT p.filled, p.gold_winner IS NOT NULL AS gold, p.project_id, j.annotators_per_pair AS k
            FROM pairs p JOIN projects j ON j.id = p.project_id WHERE p.id = ?
            """, arguments: [pair]) else { return }
        let before: Int = row["filled"], k: Int = row["k"], gold: Bool = row["gold"]
        let after = before + delta
        try db.execute(sql: "UPDATE pairs SET filled = ? WHERE id = ?", arguments: [after, pair])
        let opened = gold ? 0 : (after < k ? 1 : 0) - (before < k ? 1 : 0)
        if opened != 0 {
            try db.execute(sql: "UPDATE projects SET open_pairs = open_pairs + ? WHERE id = ?", arguments: [opened, row["project_id"] as Int64])
        }
    }

    /// The SQL condition "the user (argument) has never been assigned pair `p`".
    private static let unseen = "NOT EXISTS (SELECT 1 FROM assignments a WHERE a.pair_id = p.id AND a.user_id = ?)"

    /// A pair of the project that still wants annotators and that `user` has never been assigned, or nil.
    ///
    /// Gold pairs (they go to everyone) already past K come first, the fullest first. Then the fullest level below K
    /// that has a pair the user has not seen, so pairs are completed before new ones are started; within a level the
    /// walk along the (project, filled, id) index starts at a random id, so annotators spread over the pairs. The work
    /// grows with the pairs this user has seen at a level, not with the size of the project.
    static func freshPair(_ db: Database, user: Int64, project p: Project) throws -> Int64? {
        let k = p.annotatorsPerPair
        if let gold = try Int64.fetchOne(db, sql: """
            SELECT id FROM pairs p WHERE project_id = ? AND gold_winner IS NOT NULL AND filled >= ? AND \(unseen)
            ORDER BY filled DESC, RANDOM() LIMIT 1
            """, arguments: [p.id, k, user]) {
            return gold
        }
        guard let lo = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM pairs WHERE project_id = ?", arguments: [p.id]),
              let hi = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM pairs WHERE project_id = ?", arguments: [p.id]) else {
            return nil
        }
        var below = k
        while let level = try Int.fetchOne(db, sql: "SELECT MAX(filled) FROM pairs WHERE project_id = ? AND filled < ?",
                                           arguments: [p.id, below]) {
            let start = Int64.random(in: lo...hi)
            for side in ["id >= ?", "id < ?"] {
                if let id = try Int64.fetchOne(db, sql: """
                    SELECT id FROM pairs p WHERE project_id = ? AND filled = ? AND \(side) AND \(unseen) ORDER BY id LIMIT 1
                    """, arguments: [p.id, level, start, user]) {
                    return id
                }
            }
            below = level
        }
        return nil
    }

    /// How many pairs of the project still wait for `user`: the project's open pairs less those the user has been
    /// assigned. Reads one counter and walks the user's own assignments; the project's pairs are not counted.
    static func remaining(_ db: Database, user: Int64, project p: Project) throws -> Int {
        let open = try Int.fetchOne(db, sql: "SELECT open_pairs FROM projects WHERE id = ?", arguments: [p.id]) ?? 0
        // CROSS JOIN keeps SQLite walking this user's assignments rather than the project's pairs.
        let seen = try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT a.pair_id) FROM assignments a CROSS JOIN pairs p ON p.id = a.pair_id
            WHERE a.user_id = ? AND p.project_id = ? AND (p.filled < ? OR p.gold_winner IS NOT NULL)
            """, arguments: [user, p.id, p.annotatorsPerPair]) ?? 0
        return open - seen
    }
}
