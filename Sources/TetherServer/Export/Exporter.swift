import Foundation
import GRDB
import TetherAlign

/// Choices for turning a project's labels into TRL data.
public struct ExportOptions: Sendable, Equatable {
    /// What a "both bad" consensus becomes.
    public enum BothBad: String, Sendable, CaseIterable {
        /// Both completions become undesirable KTO rows (`label: false`); no preference row.
        case undesirable
        /// Dropped from both files.
        case drop
    }
    /// What a tie consensus becomes.
    public enum Ties: String, Sendable, CaseIterable {
        /// Dropped from both files (a preference row needs a winner).
        case drop
        /// Both completions count as desirable in KTO; no preference row.
        case desirable
    }

    /// How votes are combined.
    public var aggregate: AggregateMethod = .majority
    /// Drop pairs whose majority share of votes is below this (0 keeps all).
    public var minAgreement: Double = 0
    /// Drop pairs with fewer votes than this.
    public var minVotes: Int = 1
    /// What "both bad" becomes.
    public var bothBad: BothBad = .undesirable
    /// What a tie becomes.
    public var ties: Ties = .drop

    /// Options; by default majority, every pair, both-bad as undesirable, ties dropped.
    public init(aggregate: AggregateMethod = .majority, minAgreement: Double = 0, minVotes: Int = 1,
                bothBad: BothBad = .undesirable, ties: Ties = .drop) {
        self.aggregate = aggregate
        self.minAgreement = minAgreement
        self.minVotes = minVotes
        self.bothBad = bothBad
        self.ties = ties
    }
}

/// A project's labels as TRL rows: preference (`prompt`, `chosen`, `rejected`, optional `margin`) and unpaired (`prompt`, `completion`, `label`).
public struct ExportedData: Sendable, Equatable {
    /// Preference rows, one JSON object each.
    public var preference: [[String: JSONValue]]
    /// KTO rows, one per candidate with a clear net verdict.
    public var unpaired: [[String: JSONValue]]
    /// Pairs with at least one vote, before filtering.
    public var labelledPairs: Int
    /// Pairs dropped by `minAgreement`, `minVotes` or a split vote.
    public var droppedPairs: Int

    /// Rows as JSON Lines (sorted keys, one object a line).
    public static func jsonLines(_ rows: [[String: JSONValue]]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return rows.map { String(decoding: (try? encoder.encode($0)) ?? Data(), as: UTF8.self) + "\n" }.joined()
    }
}

extension LabelStore {
    /// Every live, non-repeat, non-skip vote in a project, in pair orientation.
    /// (Repeats measure self-consistency; counting them would give one person two votes.)
    public func votes(project name: String) throws -> [Vote] {
        try pool.read { db in
            guard let p = try Self.project(db, name: name) else { throw LabelError(.notFound, "no project \"\(name)\"") }
            return try Self.votes(db, project: p.id, includeRepeats: false)
        }
    }

    static func votes(_ db: Database, project: Int64, includeRepeats: Bool) throws -> [Vote] {
        try Row.fetchAll(db, sql: """
            SELECT l.pair_id, l.user_id, l.choice, l.winner_id, l.strength, p.first_id FROM labels l
            JOIN pairs p ON p.id = l.pair_id JOIN assignments a ON a.id = l.assignment_id
            WHERE p.project_id = ? AND l.retracted_at IS NULL AND l.choice != 'skip' \(includeRepeats ? "" : "AND a.is_repeat = 0")
            ORDER BY l.id
            """, arguments: [project]).map { r in
            let outcome: Vote.Outcome
            switch r["choice"] as String {
            case "tie": outcome = .tie
            case "both_bad": outcome = .bothBad
            default: outcome = (r["winner_id"] as Int64) == (r["first_id"] as Int64) ? .first : .second
            }
            return Vote(pair: r["pair_id"], user: r["user_id"], outcome: outcome, strength: r["strength"])
        }
    }

    /// The project's labels aggregated into TRL preference and KTO rows (see `ExportOptions` for ties and "both bad").
    ///
    /// KTO: each candidate scores +1 per pair it won, −1 per pair it lost, −1 per "both bad" (with `.undesirable`)
    /// and +1 per tie (with `.desirable`); a positive total is `label: true`, a negative one `false`, zero is left out.
    public func export(project name: String, options: ExportOptions = ExportOptions()) throws -> ExportedData {
        guard (0...1).contains(options.minAgreement) else {
            throw LabelError(.invalid, "min agreement: expected 0 to 1, got \(options.minAgreement)")
        }
        return try pool.read { db in
            guard let p = try Self.project(db, name: name) else { throw LabelError(.notFound, "no project \"\(name)\"") }
            let votes = try Self.votes(db, project: p.id, includeRepeats: false)
            var pairs: [Int64: (item: Int64, first: Int64, second: Int64)] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, item_id, first_id, second_id FROM pairs WHERE project_id = ?", arguments: [p.id]) {
                pairs[r["id"]] = (r["item_id"], r["first_id"], r["second_id"])
            }
            var prompts: [Int64: JSONValue] = [:], completions: [Int64: JSONValue] = [:]
            let decoder = JSONDecoder()
            for r in try Row.fetchAll(db, sql: "SELECT id, prompt_json FROM items WHERE project_id = ?", arguments: [p.id]) {
                prompts[r["id"]] = try decoder.decode(JSONValue.self, from: Data((r["prompt_json"] as String).utf8))
            }
            for r in try Row.fetchAll(db, sql: """
                SELECT c.id, c.completion_json FROM candidates c JOIN items i ON i.id = c.item_id WHERE i.project_id = ?
                """, arguments: [p.id]) {
                completions[r["id"]] = try decoder.decode(JSONValue.self, from: Data((r["completion_json"] as String).utf8))
            }
            let consensus = options.aggregate == .majority ? Aggregator.majority(votes) : Aggregator.bradleyTerry(votes, pairs: pairs)
            var preference: [[String: JSONValue]] = []
            var score: [Int64: Int] = [:]  // candidate -> net KTO verdict
            var order: [Int64] = []        // candidates in first-seen order, for a stable file
            func bump(_ c: Int64, _ d: Int) {
                if score[c] == nil { order.append(c) }
                score[c, default: 0] += d
            }
            var dropped = 0
            for c in consensus {
                guard let outcome = c.outcome, c.agreement >= options.minAgreement, c.votes >= options.minVotes,
                      let pair = pairs[c.pair] else { dropped += 1; continue }
                switch outcome {
                case .first, .second:
                    let (w, l) = outcome == .first ? (pair.first, pair.second) : (pair.second, pair.first)
                    var row: [String: JSONValue] = ["prompt": prompts[pair.item]!, "chosen": completions[w]!, "rejected": completions[l]!]
                    if let m = c.margin { row["margin"] = .number(m) }
                    preference.append(row)
                    bump(w, 1); bump(l, -1)
                case .tie:
                    if options.ties == .desirable { bump(pair.first, 1); bump(pair.second, 1) }
                case .bothBad:
                    if options.bothBad == .undesirable { bump(pair.first, -1); bump(pair.second, -1) }
                }
            }
            var itemOf: [Int64: Int64] = [:]
            for (_, p) in pairs { itemOf[p.first] = p.item; itemOf[p.second] = p.item }
            let unpaired: [[String: JSONValue]] = order.compactMap { c in
                guard let s = score[c], s != 0 else { return nil }
                return ["prompt": prompts[itemOf[c]!]!, "completion": completions[c]!, "label": .bool(s > 0)]
            }
            return ExportedData(preference: preference, unpaired: unpaired, labelledPairs: consensus.count, droppedPairs: dropped)
        }
    }
}
