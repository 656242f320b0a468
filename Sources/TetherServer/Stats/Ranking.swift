import Foundation
import GRDB

/// One candidate source (a model, a person) on the arena-style leaderboard.
public struct SourceRank: Sendable, Equatable, Codable {
    /// The source's name (`(none)` for candidates imported without one).
    public var source: String
    /// Bradley–Terry θ (sum-zero).
    public var score: Double
    /// θ on the Elo-like arena scale (1000 + 400 θ / ln 10).
    public var elo: Double
    /// 95% interval of `elo`.
    public var eloLow: Double
    /// 95% interval of `elo`.
    public var eloHigh: Double
    /// Comparisons against other sources.
    public var games: Double
}

extension LabelStore {
    /// Bradley–Terry ranking of candidate sources from every live A/B/tie vote between different sources, strongest first.
    public func sourceRanking(project name: String) throws -> [SourceRank] {
        try pool.read { db in
            guard let p = try Self.project(db, name: name) else { throw LabelError(.notFound, "no project \"\(name)\"") }
            let votes = try Self.votes(db, project: p.id, includeRepeats: false)
            var sourceOf: [Int64: String] = [:]
            var pairEnds: [Int64: (Int64, Int64)] = [:]
            for r in try Row.fetchAll(db, sql: """
                SELECT p.id, p.first_id, p.second_id, f.source AS fs, s.source AS ss FROM pairs p
                JOIN candidates f ON f.id = p.first_id JOIN candidates s ON s.id = p.second_id WHERE p.project_id = ?
                """, arguments: [p.id]) {
                pairEnds[r["id"]] = (r["first_id"], r["second_id"])
                sourceOf[r["first_id"]] = r["fs"] ?? "(none)"
                sourceOf[r["second_id"]] = r["ss"] ?? "(none)"
            }
            var index: [String: Int] = [:]
            var names: [String] = []
            func player(_ s: String) -> Int {
                if let i = index[s] { return i }
                index[s] = names.count
                names.append(s)
                return names.count - 1
            }
            var comparisons: [Comparison] = []
            for v in votes {
                guard let (f, s) = pairEnds[v.pair], let fs = sourceOf[f], let ss = sourceOf[s], fs != ss else { continue }
                let a = player(fs), b = player(ss)
                switch v.outcome {
                case .first: comparisons.append(Comparison(winner: a, loser: b))
                case .second: comparisons.append(Comparison(winner: b, loser: a))
                case .tie: comparisons.append(Comparison(winner: a, loser: b, tie: true))
                case .bothBad: break
                }
            }
            let fit = BradleyTerry.fit(players: names.count, comparisons: comparisons, ridge: 0.01)
            return names.indices.map { i in
                let (lo, hi) = fit.interval(i)
                return SourceRank(source: names[i], score: fit.scores[i], elo: BradleyTerry.elo(fit.scores[i]),
                                  eloLow: BradleyTerry.elo(lo), eloHigh: BradleyTerry.elo(hi), games: fit.games[i])
            }.sorted { $0.score > $1.score }
        }
    }
}
