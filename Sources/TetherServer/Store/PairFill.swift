import GRDB

/// `pairs.filled`: how many of its K annotators a pair has, kept current so the next pair is found through an index.
///
/// A pair's fill is its original (non-repeat) assignments less those answered by a live skip: an open assignment
/// holds its seat, a skip gives the seat back, undoing the skip takes it again; repeats never count. Each change is
/// made in the write transaction that creates the assignment, stores the label or retracts it, so the count can
/// never disagree with the rows it summarises.
enum PairFill {
    /// Adds `delta` to one pair's fill.
    static func adjust(_ db: Database, pair: Int64, by delta: Int) throws {
        try db.execute(sql: "UPDATE pairs SET filled = filled + ? WHERE id = ?", arguments: [delta, pair])
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

    /// How many pairs of the project still wait for `user`: those wanting annotators (gold, or below K) less those
    /// the user has been assigned. Counts index entries of the project and the user's own assignments; no pair is
    /// inspected row by row.
    static func remaining(_ db: Database, user: Int64, project p: Project) throws -> Int {
        let open = try Int.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM pairs WHERE project_id = ?1 AND filled < ?2)
                 + (SELECT COUNT(*) FROM pairs WHERE project_id = ?1 AND filled >= ?2 AND gold_winner IS NOT NULL)
            """, arguments: [p.id, p.annotatorsPerPair]) ?? 0
        // CROSS JOIN keeps SQLite walking this user's assignments rather than the project's pairs.
        let seen = try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT a.pair_id) FROM assignments a CROSS JOIN pairs p ON p.id = a.pair_id
            WHERE a.user_id = ? AND p.project_id = ? AND (p.filled < ? OR p.gold_winner IS NOT NULL)
            """, arguments: [user, p.id, p.annotatorsPerPair]) ?? 0
        return open - seen
    }
}
