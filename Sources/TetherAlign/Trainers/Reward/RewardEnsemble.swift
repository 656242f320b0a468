import Foundation
import Tether
import TetherLM

/// How an ensemble's member rewards become one reward.
public enum EnsembleAggregation: Sendable, Equatable {
    /// The members' mean.
    case mean
    /// The lowest member (the most pessimistic).
    case min
    /// mean − λ·std (population std over members): uncertainty-penalised, as in conservative reward ensembles.
    case meanMinusStd(lambda: Float)

    /// Parses `mean`, `min` or `mean-std` (with `lambda`).
    public init?(name: String, lambda: Float = 1) {
        switch name {
        case "mean": self = .mean
        case "min": self = .min
        case "mean-std", "mean_minus_std": self = .meanMinusStd(lambda: lambda)
        default: return nil
        }
    }

    /// Aggregates per-member scores, `scores[member][row]`, into one score per row.
    public func aggregate(_ scores: [[Float]]) -> [Float] {
        precondition(!scores.isEmpty && scores.allSatisfy { $0.count == scores[0].count }, "aggregate: members disagree on row count")
        let k = Float(scores.count)
        return scores[0].indices.map { i in
            let column = scores.map { $0[i] }
            switch self {
            case .mean: return column.reduce(0, +) / k
            case .min: return column.min()!
            case .meanMinusStd(let lambda):
                let m = column.reduce(0, +) / k
                let variance = column.reduce(0) { $0 + ($1 - m) * ($1 - m) } / k
                return m - lambda * variance.squareRoot()
            }
        }
    }
}

/// K reward models (different seeds or bootstrap resamples) scored together and aggregated.
public final class RewardEnsemble {
    /// The members.
    public let members: [ScoreModel]
    /// How member rewards are combined.
    public var aggregation: EnsembleAggregation

    /// An ensemble of `members` (at least one).
    public init(members: [ScoreModel], aggregation: EnsembleAggregation = .mean) {
        precondition(!members.isEmpty, "RewardEnsemble: no members")
        self.members = members
        self.aggregation = aggregation
    }

    /// Each member's rewards for `sequences`: [member][row].
    public func memberScores(_ sequences: [[Int32]], padId: Int32 = 0, batchSize: Int = 16) -> [[Float]] {
        members.map { rewardScores(model: $0, sequences: sequences, padId: padId, batchSize: batchSize) }
    }

    /// The aggregated reward of each sequence: (N).
    public func scores(_ sequences: [[Int32]], padId: Int32 = 0, batchSize: Int = 16) -> [Float] {
        aggregation.aggregate(memberScores(sequences, padId: padId, batchSize: batchSize))
    }

    /// Per pair, whether its chosen sequence gets the higher aggregated reward.
    public func rankedRight(_ pairs: [RewardPair], padId: Int32 = 0) -> [Bool] {
        let c = scores(pairs.map(\.chosen), padId: padId), r = scores(pairs.map(\.rejected), padId: padId)
        return zip(c, r).map { $0 > $1 }
    }

    /// Fraction of pairs whose chosen sequence gets the higher aggregated reward.
    public func accuracy(_ pairs: [RewardPair], padId: Int32 = 0) -> Double {
        RewardAccuracy(rankedRight: rankedRight(pairs, padId: padId)).evalAccuracy
    }
}
