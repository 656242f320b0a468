import Foundation
import GRDB
import TetherAlign

/// An annotator's answer about a pair shown as A (left) and B (right).
public enum Choice: String, Sendable, Codable, CaseIterable {
    /// A (the left answer) is better.
    case a
    /// B (the right answer) is better.
    case b
    /// Equally good.
    case tie
    /// Neither is acceptable.
    case bothBad = "both_bad"
    /// No opinion; the pair goes to someone else.
    case skip
}

/// How much better the winner is; becomes TRL's `margin` on export.
public enum Strength: Int, Sendable, Codable, CaseIterable {
    /// Slightly better.
    case slightly = 1
    /// Clearly better.
    case clearly = 2
    /// Much better.
    case much = 3
}

/// A pair to label, as one annotator sees it: candidate order is this annotator's own, drawn at random and recorded.
public struct PairTask: Sendable, Equatable, Codable {
    /// The assignment's id, which a label answers.
    public var assignment: Int64
    /// The project's name.
    public var project: String
    /// The prompt (a string or a message list).
    public var prompt: JSONValue
    /// Candidate shown as A.
    public var a: JSONValue
    /// Candidate shown as B.
    public var b: JSONValue
    /// Labels this annotator has given in the project (live, repeats included).
    public var done: Int
    /// Pairs still waiting for this annotator, this one included.
    public var remaining: Int
}

/// A label as submitted.
public struct LabelInput: Sendable, Equatable {
    /// The assignment answered.
    public var assignment: Int64
    /// The answer.
    public var choice: Choice
    /// How much better (only with `.a` or `.b`).
    public var strength: Strength?
    /// Why, in the annotator's words (at most `maxReasonLength` characters).
    public var reason: String?

    /// A label.
    public init(assignment: Int64, choice: Choice, strength: Strength? = nil, reason: String? = nil) {
        self.assignment = assignment
        self.choice = choice
        self.strength = strength
        self.reason = reason
    }

    /// Longest reason kept.
    public static let maxReasonLength = 2000
}

extension LabelStore {
    /// The annotator's next pair in `project`: their open assignment if any, else a repeat (for self-consistency) when due,
    /// else a fresh pair fewer than K others have labelled and they have never seen. Nil when their queue is empty.
    ///
    /// One write transaction, so concurrent annotators never exceed K per pair, and the UNIQUE (pair, user, repeat)
    /// constraint makes a second showing of a pair to the same person impossible. Fresh pairs are found through the
    /// per-pair fill counts (`PairFill`), not by counting every pair's assignments.
    public func nextPair(user: User, project name: String) throws -> PairTask? {
        // Choose (and record) the assignment in the write transaction; read its content and counts after it,
        // so other annotators' writes do not wait for them.
        let chosen = try pool.write { db -> (Int64, Project)? in
            guard let p = try Self.project(db, name: name) else { throw LabelError(.notFound, "no project \"\(name)\"") }
            if let open = try Int64.fetchOne(db, sql: """
                SELECT a.id FROM assignments a JOIN pairs p ON p.id = a.pair_id
                WHERE a.user_id = ? AND p.project_id = ?
                  AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.assignment_id = a.id AND l.retracted_at IS NULL)
                ORDER BY a.id LIMIT 1
                """, arguments: [user.id, p.id]) {
                return (open, p)
            }
            let originals = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM assignments a JOIN pairs p ON p.id = a.pair_id
                WHERE a.user_id = ? AND p.project_id = ? AND a.is_repeat = 0
                """, arguments: [user.id, p.id]) ?? 0
            let repeats = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM assignments a JOIN pairs p ON p.id = a.pair_id
                WHERE a.user_id = ? AND p.project_id = ? AND a.is_repeat = 1
                """, arguments: [user.id, p.id]) ?? 0
            var pick: (pair: Int64, isRepeat: Bool)?
            if p.repeatShare > 0 && Double(repeats + 1) <= p.repeatShare * Double(originals + repeats + 1) {
                // A pair this annotator answered (not skipped) at least 3 assignments ago and never repeated.
                pick = try Int64.fetchOne(db, sql: """
                    SELECT a.pair_id FROM assignments a JOIN pairs p ON p.id = a.pair_id
                    JOIN labels l ON l.assignment_id = a.id AND l.retracted_at IS NULL AND l.choice != 'skip'
                    WHERE a.user_id = ? AND p.project_id = ? AND a.is_repeat = 0
                      AND a.id < (SELECT COALESCE(MAX(id), 0) - 2 FROM assignments WHERE user_id = ?)
                      AND NOT EXISTS (SELECT 1 FROM assignments r WHERE r.pair_id = a.pair_id AND r.user_id = a.user_id AND r.is_repeat = 1)
                    ORDER BY RANDOM() LIMIT 1
                    """, arguments: [user.id, p.id, user.id]).map { ($0, true) }
            }
            if pick == nil {
                pick = try PairFill.freshPair(db, user: user.id, project: p).map { ($0, false) }
            }
            guard let (pair, isRepeat) = pick else { return nil }
            let row = try Row.fetchOne(db, sql: "SELECT first_id, second_id FROM pairs WHERE id = ?", arguments: [pair])!
            let first: Int64 = row["first_id"], second: Int64 = row["second_id"]
            let swap = Bool.random()
            try db.execute(sql: """
                INSERT INTO assignments (pair_id, user_id, left_id, right_id, is_repeat, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [pair, user.id, swap ? second : first, swap ? first : second, isRepeat, Self.now()])
            let id = db.lastInsertedRowID
            if !isRepeat { try PairFill.adjust(db, pair: pair, by: 1) }
            return (id, p)
        }
        guard let (assignment, project) = chosen else { return nil }
        return try pool.read { db in try Self.task(db, assignment: assignment, user: user, project: project) }
    }

    static func task(_ db: Database, assignment: Int64, user: User, project p: Project) throws -> PairTask {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT i.prompt_json, l.completion_json AS left_json, r.completion_json AS right_json
            FROM assignments a JOIN pairs p ON p.id = a.pair_id JOIN items i ON i.id = p.item_id
            JOIN candidates l ON l.id = a.left_id JOIN candidates r ON r.id = a.right_id
            WHERE a.id = ? AND a.user_id = ?
            """, arguments: [assignment, user.id]) else {
            throw LabelError(.notFound, "no assignment \(assignment)")
        }
        // CROSS JOIN (here and below) makes SQLite walk this user's labels, not every pair of the project.
        let done = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM labels l CROSS JOIN pairs p ON p.id = l.pair_id
            WHERE l.user_id = ? AND p.project_id = ? AND l.retracted_at IS NULL
            """, arguments: [user.id, p.id]) ?? 0
        let fresh = try PairFill.remaining(db, user: user.id, project: p)
        let decoder = JSONDecoder()
        func value(_ s: String) throws -> JSONValue { try decoder.decode(JSONValue.self, from: Data(s.utf8)) }
        return PairTask(assignment: assignment, project: p.name, prompt: try value(row["prompt_json"]),
                        a: try value(row["left_json"]), b: try value(row["right_json"]), done: done, remaining: fresh + 1)
    }

    /// Records a label for one of the user's own open assignments; returns the label's id.
    ///
    /// Another annotator's assignment is `.notFound` (as an unknown id is); an answered one is `.conflict`.
    @discardableResult
    public func submit(_ input: LabelInput, user: User) throws -> Int64 {
        if input.strength != nil && input.choice != .a && input.choice != .b {
            throw LabelError(.invalid, "strength: only an A or B choice has a strength, got \(input.choice.rawValue)")
        }
        let reason = input.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let reason, reason.count > LabelInput.maxReasonLength {
            throw LabelError(.invalid, "reason: at most \(LabelInput.maxReasonLength) characters, got \(reason.count)")
        }
        return try pool.write { db in
            guard let a = try Row.fetchOne(db, sql: "SELECT * FROM assignments WHERE id = ? AND user_id = ?",
                                           arguments: [input.assignment, user.id]) else {
                throw LabelError(.notFound, "no assignment \(input.assignment)")
            }
            if try Int.fetchOne(db, sql: "SELECT 1 FROM labels WHERE assignment_id = ? AND retracted_at IS NULL",
                                arguments: [input.assignment]) != nil {
                throw LabelError(.conflict, "assignment \(input.assignment) is labelled already (undo it first)")
            }
            let winner: Int64? = input.choice == .a ? a["left_id"] : input.choice == .b ? a["right_id"] : nil
            let now = Self.now()
            let created: Double = a["created_at"]
            try db.execute(sql: """
                INSERT INTO labels (assignment_id, user_id, pair_id, choice, winner_id, strength, reason, seconds, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [input.assignment, user.id, a["pair_id"] as Int64, input.choice.rawValue, winner,
                                 input.strength?.rawValue, reason?.isEmpty == false ? reason : nil, max(0, now - created), now])
            let id = db.lastInsertedRowID
            if input.choice == .skip && !(a["is_repeat"] as Bool) { try PairFill.adjust(db, pair: a["pair_id"], by: -1) }
            return id
        }
    }

    /// Retracts the user's latest live label in `project` (kept, marked retracted) and reopens its assignment.
    /// Returns the reopened assignment's id, or nil when there is nothing to undo.
    @discardableResult
    public func undo(user: User, project name: String) throws -> Int64? {
        try pool.write { db in
            guard let p = try Self.project(db, name: name) else { throw LabelError(.notFound, "no project \"\(name)\"") }
            guard let row = try Row.fetchOne(db, sql: """
                SELECT l.id, l.assignment_id, l.pair_id, l.choice, a.is_repeat FROM labels l CROSS JOIN pairs p ON p.id = l.pair_id
                JOIN assignments a ON a.id = l.assignment_id
                WHERE l.user_id = ? AND p.project_id = ? AND l.retracted_at IS NULL ORDER BY l.id DESC LIMIT 1
                """, arguments: [user.id, p.id]) else { return nil }
            try db.execute(sql: "UPDATE labels SET retracted_at = ? WHERE id = ?", arguments: [Self.now(), row["id"] as Int64])
            // A retracted skip takes its seat back: the reopened assignment is this annotator's again.
            if (row["choice"] as String) == Choice.skip.rawValue && !(row["is_repeat"] as Bool) {
                try PairFill.adjust(db, pair: row["pair_id"], by: 1)
            }
            return row["assignment_id"]
        }
    }
}

extension LabelStore {
    /// The user's live labels in a project.
    public func labelCount(user: User, project name: String) throws -> Int {
        try pool.read { db in
            guard let p = try Self.project(db, name: name) else { throw LabelError(.notFound, "no project \"\(name)\"") }
            return try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM labels l CROSS JOIN pairs p ON p.id = l.pair_id
                WHERE l.user_id = ? AND p.project_id = ? AND l.retracted_at IS NULL
                """, arguments: [user.id, p.id]) ?? 0
        }
    }
}
