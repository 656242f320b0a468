import Foundation
import Tether

/// One sampled solution as a best-of-N selector sees it: its final answer and what the reward models said.
public struct BestOfNCandidate: Sendable, Hashable, Codable {
    /// The final answer read off the solution, or nil if it gives none.
    public var answer: Int?
    /// The outcome reward model's score of the whole solution (probability that the answer is right).
    public var outcomeScore: Float
    /// The process reward model's probability that each step is right, in order (empty: no step).
    public var stepScores: [Float]

    /// A candidate.
    public init(answer: Int?, outcomeScore: Float = 0, stepScores: [Float] = []) {
        self.answer = answer
        self.outcomeScore = outcomeScore
        self.stepScores = stepScores
    }

    enum CodingKeys: String, CodingKey {
        case answer
        case outcomeScore = "outcome_score", stepScores = "step_scores"
    }
}

/// How a process reward model's per-step scores become one score for the solution.
public enum StepScoreAggregation: String, Sendable, Hashable, Codable, CaseIterable {
    /// The weakest step (a chain is as good as its worst link; Lightman et al. use the product or the min).
    case min
    /// The product of the step probabilities (the chance that every step is right, if independent).
    case product
    /// The last step's score alone (what an outcome model sees, from a process model).
    case last

    /// One score from per-step probabilities; 0 for a solution with no step.
    public func aggregate(_ steps: [Float]) -> Float {
        guard !steps.isEmpty else { return 0 }
        switch self {
        case .min: return steps.min()!
        case .product: return steps.reduce(1, *)
        case .last: return steps.last!
        }
    }
}

/// A rule that picks one of N sampled solutions.
public enum BestOfNSelector: Sendable, Hashable {
    /// The highest outcome-reward score (ties: the earliest).
    case outcomeReward
    /// The highest aggregated process-reward score (ties: the earliest).
    case processReward(StepScoreAggregation)
    /// The most frequent final answer, ignoring solutions without one (ties: the answer seen first); the first
    /// solution with it. The first solution when none has an answer.
    case majorityVote
    /// A uniformly random solution.
    case random

    /// The name used in tables and JSON: `orm`, `prm_min`, `prm_product`, `prm_last`, `majority`, `random`.
    public var name: String {
        switch self {
        case .outcomeReward: return "orm"
        case .processReward(let a): return "prm_\(a.rawValue)"
        case .majorityVote: return "majority"
        case .random: return "random"
        }
    }

    /// The index of the chosen candidate (`candidates` non-empty); only `random` draws from `rng`.
    public func select(_ candidates: [BestOfNCandidate], rng: inout RandomGenerator) -> Int {
        precondition(!candidates.isEmpty, "BestOfNSelector.select: no candidates")
        switch self {
        case .outcomeReward: return Self.argmax(candidates.map(\.outcomeScore))
        case .processReward(let a): return Self.argmax(candidates.map { a.aggregate($0.stepScores) })
        case .random: return rng.nextInt(below: candidates.count)
        case .majorityVote:
            var counts: [Int: Int] = [:], first: [Int: Int] = [:]
            for (i, c) in candidates.enumerated() {
                guard let a = c.answer else { continue }
                counts[a, default: 0] += 1
                if first[a] == nil { first[a] = i }
            }
            // Most votes, then the earliest first appearance.
            guard let best = counts.max(by: { ($0.value, -first[$0.key]!) < ($1.value, -first[$1.key]!) }) else { return 0 }
            return first[best.key]!
        }
    }

    /// The index of the largest value, the earliest among equals (NaN never wins).
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices.dropFirst() where values[i] > values[best] || values[best].isNaN { best = i }
        return best
    }
}

/// Best-of-N accuracy: the share of (problem, group) picks whose final answer is right.
public enum BestOfN {
    /// Splits each problem's samples into consecutive groups of `budget` (a trailing partial group is dropped), lets
    /// `selector` pick one per group, and returns the fraction of picks whose answer equals the problem's
    /// `answers[i]`. Every group of every problem counts once, so N = 1 over 16 samples averages 16 picks.
    public static func accuracy(_ samples: [[BestOfNCandidate]], answers: [Int], budget: Int, selector: BestOfNSelector,
                                rng: inout RandomGenerator) -> Double {
        precondition(samples.count == answers.count && budget > 0, "BestOfN.accuracy: \(samples.count) problems, \(answers.count) answers, budget \(budget)")
        var right = 0, total = 0
        for (group, answer) in zip(samples, answers) {
            for start in stride(from: 0, through: group.count - budget, by: budget) {
                let pick = selector.select(Array(group[start..<(start + budget)]), rng: &rng)
                if group[start + pick].answer == answer { right += 1 }
                total += 1
            }
        }
        return total == 0 ? 0 : Double(right) / Double(total)
    }

    /// pass@N: the fraction of groups of `budget` samples holding at least one right answer (an oracle selector).
    public static func oracle(_ samples: [[BestOfNCandidate]], answers: [Int], budget: Int) -> Double {
        precondition(samples.count == answers.count && budget > 0, "BestOfN.oracle: \(samples.count) vs \(answers.count)")
        var right = 0, total = 0
        for (group, answer) in zip(samples, answers) {
            for start in stride(from: 0, through: group.count - budget, by: budget) {
                if group[start..<(start + budget)].contains(where: { $0.answer == answer }) { right += 1 }
                total += 1
            }
        }
        return total == 0 ? 0 : Double(right) / Double(total)
    }
}
