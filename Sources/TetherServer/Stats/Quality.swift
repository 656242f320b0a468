import Foundation
import GRDB

/// One annotator's figures in a project, as the admin page shows them.
public struct AnnotatorQuality: Sendable, Equatable, Codable {
    /// The annotator.
    public var user: String
    /// Live labels (repeats and skips included).
    public var labels: Int
    /// Skips among them.
    public var skips: Int
    /// Median seconds from a pair being shown to its label.
    public var medianSeconds: Double?
    /// Mean Cohen's kappa against each other annotator with at least `minOverlap` shared pairs.
    public var kappa: Double?
    /// Share of repeated pairs answered as the first time.
    public var selfConsistency: Double?
    /// Repeats answered.
    public var repeats: Int
    /// Share of gold pairs answered with the known winner.
    public var goldAccuracy: Double?
    /// Gold pairs answered (ties, both-bad included, as wrong).
    public var goldAnswered: Int
    /// Share of A among A/B choices (0.5 is no position bias).
    public var shareA: Double?
}

/// A project's quality report: per annotator, and Krippendorff's alpha over everyone.
public struct QualityReport: Sendable, Equatable, Codable {
    /// Per annotator, by name.
    public var annotators: [AnnotatorQuality]
    /// Krippendorff's alpha (nominal) over all non-skip, non-repeat votes.
    public var alpha: Double?
    /// Share of A among all A/B choices.
    public var shareA: Double?
}

extension LabelStore {
    /// Pairs two annotators must share before their kappa counts.
    public static let minOverlap = 3

    /// Counts, speed, agreement, self-consistency, gold accuracy and position bias for every annotator of a project.
    public func quality(project name: String) throws -> QualityReport {
        try pool.read { db in
            guard let p = try Self.project(db, name: name) else { throw LabelError(.notFound, "no project \"\(name)\"") }
            let rows = try Row.fetchAll(db, sql: """
                SELECT l.user_id, u.name, l.pair_id, l.choice, l.winner_id, l.seconds, a.is_repeat, p.first_id, p.gold_winner
                FROM labels l JOIN assignments a ON a.id = l.assignment_id JOIN pairs p ON p.id = l.pair_id
                JOIN users u ON u.id = l.user_id
                WHERE p.project_id = ? AND l.retracted_at IS NULL ORDER BY l.id
                """, arguments: [p.id])
            struct L { var user: Int64; var name: String; var pair: Int64; var choice: String; var outcome: Vote.Outcome?
                       var seconds: Double; var isRepeat: Bool; var goldRight: Bool? }
            let labels: [L] = rows.map { r in
                let choice: String = r["choice"]
                let winner: Int64? = r["winner_id"]
                let first: Int64 = r["first_id"]
                let outcome: Vote.Outcome? = switch choice {
                case "a", "b": winner == first ? .first : .second
                case "tie": .tie
                case "both_bad": .bothBad
                default: nil
                }
                let gold: Int64? = r["gold_winner"]
                let right: Bool? = gold == nil || choice == "skip" ? nil : winner == gold
                return L(user: r["user_id"], name: r["name"], pair: r["pair_id"], choice: choice, outcome: outcome,
                         seconds: r["seconds"], isRepeat: r["is_repeat"], goldRight: right)
            }
            // First (non-repeat) outcome per (user, pair).
            var firstVote: [Int64: [Int64: Vote.Outcome]] = [:]
            for l in labels where !l.isRepeat { if let o = l.outcome { firstVote[l.user, default: [:]][l.pair] = o } }
            func share(_ xs: [Bool]) -> Double? { xs.isEmpty ? nil : Double(xs.filter { $0 }.count) / Double(xs.count) }
            var report: [AnnotatorQuality] = []
            for (user, ls) in Dictionary(grouping: labels, by: \.user) {
                let secs = ls.map(\.seconds).sorted()
                var kappas: [Double] = []
                for (other, theirs) in firstVote where other != user {
                    let shared = (firstVote[user] ?? [:]).compactMap { pair, mine in theirs[pair].map { (mine, $0) } }
                    if shared.count >= Self.minOverlap, let k = Agreement.cohenKappa(shared) { kappas.append(k) }
                }
                let repeats = ls.filter { $0.isRepeat && $0.outcome != nil }
                let consistent = repeats.compactMap { r in firstVote[user]?[r.pair].map { $0 == r.outcome } }
                let gold = ls.filter { !$0.isRepeat }.compactMap(\.goldRight)
                let ab = ls.filter { $0.choice == "a" || $0.choice == "b" }.map { $0.choice == "a" }
                report.append(AnnotatorQuality(
                    user: ls[0].name, labels: ls.count, skips: ls.filter { $0.choice == "skip" }.count,
                    medianSeconds: secs.isEmpty ? nil : secs.count % 2 == 1 ? secs[secs.count / 2] : (secs[secs.count / 2 - 1] + secs[secs.count / 2]) / 2,
                    kappa: kappas.isEmpty ? nil : kappas.reduce(0, +) / Double(kappas.count),
                    selfConsistency: share(consistent), repeats: consistent.count,
                    goldAccuracy: share(gold), goldAnswered: gold.count, shareA: share(ab)))
            }
            var units: [Int64: [Vote.Outcome]] = [:]
            for (_, votes) in firstVote { for (pair, o) in votes { units[pair, default: []].append(o) } }
            let alpha = Agreement.krippendorffAlpha(units: Array(units.values))
            let ab = labels.filter { $0.choice == "a" || $0.choice == "b" }.map { $0.choice == "a" }
            return QualityReport(annotators: report.sorted { $0.user < $1.user }, alpha: alpha, shareA: share(ab))
        }
    }
}
