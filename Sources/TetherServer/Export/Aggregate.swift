import Foundation

/// One annotator's vote on a pair, in the pair's own orientation (its first candidate has the lower id).
public struct Vote: Sendable, Equatable {
    /// What the vote says, orientation-free.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// The pair's first candidate is better.
        case first
        /// The pair's second candidate is better.
        case second
        /// Equally good.
        case tie
        /// Neither is acceptable.
        case bothBad = "both_bad"
    }

    /// The pair.
    public var pair: Int64
    /// Who voted.
    public var user: Int64
    /// What they said.
    public var outcome: Outcome
    /// How much better (1–3), for `.first` / `.second`.
    public var strength: Int?

    /// A vote.
    public init(pair: Int64, user: Int64, outcome: Outcome, strength: Int? = nil) {
        self.pair = pair
        self.user = user
        self.outcome = outcome
        self.strength = strength
    }
}

/// How votes on a pair become one training example.
public enum AggregateMethod: String, Sendable, CaseIterable {
    /// The outcome most annotators chose; ties between outcomes give no example.
    case majority
    /// Bradley–Terry strengths fitted per prompt over all its candidates; the stronger candidate of each labelled pair is chosen.
    case bradleyTerry = "bradley-terry"
}

/// The consensus on one pair.
public struct PairConsensus: Sendable, Equatable {
    /// The pair.
    public var pair: Int64
    /// The outcome (after aggregation); nil when no outcome has a strict majority.
    public var outcome: Vote.Outcome?
    /// Share of the pair's votes agreeing with the majority outcome (1 for a single vote).
    public var agreement: Double
    /// Votes counted.
    public var votes: Int
    /// TRL's `margin`: mean strength of the winning votes (majority), or θ_chosen − θ_rejected (Bradley–Terry); nil when unknown.
    public var margin: Double?
}

/// Turns votes into per-pair consensus.
public enum Aggregator {
    /// Majority consensus of each pair's votes; `agreement` is the winning outcome's share.
    public static func majority(_ votes: [Vote]) -> [PairConsensus] {
        Dictionary(grouping: votes, by: \.pair).map { pair, vs in
            var counts: [Vote.Outcome: Int] = [:]
            for v in vs { counts[v.outcome, default: 0] += 1 }
            let best = counts.values.max() ?? 0
            let leaders = counts.filter { $0.value == best }.map(\.key)
            let outcome = leaders.count == 1 ? leaders[0] : nil
            var margin: Double?
            if let o = outcome, o == .first || o == .second {
                let strengths = vs.filter { $0.outcome == o }.compactMap(\.strength)
                if !strengths.isEmpty { margin = Double(strengths.reduce(0, +)) / Double(strengths.count) }
            }
            return PairConsensus(pair: pair, outcome: outcome, agreement: Double(best) / Double(vs.count),
                                 votes: vs.count, margin: margin)
        }.sorted { $0.pair < $1.pair }
    }

    /// Bradley–Terry consensus: per group of pairs sharing a prompt, fit strengths over its candidates from the
    /// first/second/tie votes, then orient each pair by strength. `pairs` maps a pair to (item, first, second).
    /// Pairs whose majority is "both bad" keep that outcome; equal strengths give a tie. Agreement is the majority's.
    public static func bradleyTerry(_ votes: [Vote], pairs: [Int64: (item: Int64, first: Int64, second: Int64)]) -> [PairConsensus] {
        let base = Dictionary(uniqueKeysWithValues: majority(votes).map { ($0.pair, $0) })
        var out: [PairConsensus] = []
        let byItem = Dictionary(grouping: base.keys.compactMap { p in pairs[p].map { (p, $0) } }, by: { $0.1.item })
        for (_, itemPairs) in byItem {
            var index: [Int64: Int] = [:]
            for (_, p) in itemPairs {
                if index[p.first] == nil { index[p.first] = index.count }
                if index[p.second] == nil { index[p.second] = index.count }
            }
            var comparisons: [Comparison] = []
            let pairSet = Set(itemPairs.map(\.0))
            for v in votes where pairSet.contains(v.pair) {
                let p = pairs[v.pair]!
                let f = index[p.first]!, s = index[p.second]!
                switch v.outcome {
                case .first: comparisons.append(Comparison(winner: f, loser: s))
                case .second: comparisons.append(Comparison(winner: s, loser: f))
                case .tie: comparisons.append(Comparison(winner: f, loser: s, tie: true))
                case .bothBad: break
                }
            }
            // A weak ridge keeps strengths finite when one candidate won every comparison (the usual case with 2).
            let fit = BradleyTerry.fit(players: index.count, comparisons: comparisons, ridge: 0.1)
            for (pairID, p) in itemPairs {
                var c = base[pairID]!
                if c.outcome != .bothBad {
                    let d = fit.scores[index[p.first]!] - fit.scores[index[p.second]!]
                    c.outcome = abs(d) < 1e-9 ? .tie : d > 0 ? .first : .second
                    c.margin = c.outcome == .tie ? nil : (abs(d) * 10000).rounded() / 10000
                }
                out.append(c)
            }
        }
        return out.sorted { $0.pair < $1.pair }
    }
}
