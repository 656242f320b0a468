import Foundation
import Tether

/// A simulated human rater: gold plus a bias towards long, flattering or formatted answers, plus label noise.
///
/// The rater's score of a response is `gold.total + bias * appeal`, where `appeal` (at most 2) is what people
/// wrongly like: 0.5 for flattery, 0.5 for formatting, and up to 1 for length (words / `appealWords`). With
/// `bias` 0 the rater agrees with gold; with `bias` 1 appeal outweighs a whole correct answer when it is large.
/// Each label is then flipped with probability `noise`.
public struct PreferenceLabeler: Sendable, Hashable {
    /// Probability that a label is flipped after the rater decides (0...1).
    public var noise: Double
    /// Weight of spurious appeal in the rater's score (0: gold's preferences).
    public var bias: Double
    /// Whether preference pairs carry a `margin`: the rater's score difference, chosen minus rejected
    /// (negative after a flip, as a confused rater's would be).
    public var margin: Bool
    /// The gold reward the rater starts from.
    public var gold: GoldReward
    /// Words at which length appeal saturates.
    public static let appealWords = 30.0
    /// KTO: a completion is desirable when the rater's score reaches this. Gold gives 1 to a correct, concise
    /// answer and at least 0.5 to a correct one with chatter, so at 0.5 a thumbs-up means "right" and says nothing of
    /// length; near 1 it means "right and no longer than needed", as gold's pairwise preferences do.
    public var desirableThreshold: Double
    /// The default `desirableThreshold`: right, at most 5 words beyond need (gold 0.9), or a short right refusal.
    public static let defaultDesirableThreshold = 0.9

    /// A rater.
    public init(noise: Double = 0, bias: Double = 0, margin: Bool = false, gold: GoldReward = GoldReward(),
                desirableThreshold: Double = PreferenceLabeler.defaultDesirableThreshold) {
        self.noise = noise
        self.bias = bias
        self.margin = margin
        self.gold = gold
        self.desirableThreshold = desirableThreshold
    }

    /// Throws naming the field if a knob is out of range.
    public func validate() throws(DatasetError) {
        guard (0...1).contains(noise) else { throw DatasetError(field: "noise", "expected a probability in 0...1, got \(noise)") }
        guard bias >= 0 && bias.isFinite else { throw DatasetError(field: "bias", "expected a number >= 0, got \(bias)") }
        guard desirableThreshold.isFinite else {
            throw DatasetError(field: "desirable_threshold", "expected a finite number, got \(desirableThreshold)")
        }
    }

    /// What people wrongly like in a text: flattery 0.5, formatting 0.5, length up to 1.
    public static func appeal(_ f: ResponseFeatures) -> Double {
        (f.flatters ? 0.5 : 0) + (f.formatted ? 0.5 : 0) + min(1, Double(f.words) / appealWords)
    }

    /// The rater's score of `response` to `prompt` (before noise).
    public func score(_ prompt: AssistantPrompt, _ response: String) -> Double {
        let g = gold.score(prompt, response: response)
        return g.total + bias * Self.appeal(g.features)
    }

    /// A labeled pair from `candidates`: the first pair (in a seeded order) the rater does not score equal, the
    /// higher-scored as chosen, then swapped with probability `noise`. Nil if every pair ties.
    public func pair(_ prompt: AssistantPrompt, candidates: [AssistantResponse],
                     rng: inout RandomGenerator) -> LabeledPair? {
        var pairs: [(Int, Int)] = []
        for i in candidates.indices { for j in candidates.indices where j > i { pairs.append((i, j)) } }
        rng.shuffle(&pairs)
        let scores = candidates.map { score(prompt, $0.text) }
        guard let (i, j) = pairs.first(where: { abs(scores[$0.0] - scores[$0.1]) > 1e-9 }) else { return nil }
        var (c, r) = scores[i] > scores[j] ? (i, j) : (j, i)
        let flipped = Double(rng.nextFloat()) < noise
        if flipped { swap(&c, &r) }
        return LabeledPair(prompt: prompt, chosen: candidates[c], rejected: candidates[r],
                           margin: margin ? scores[c] - scores[r] : nil, flipped: flipped)
    }

    /// The KTO label of one completion: desirable when the rater's score reaches `desirableThreshold`, then
    /// flipped with probability `noise`.
    public func thumb(_ prompt: AssistantPrompt, _ response: AssistantResponse,
                      rng: inout RandomGenerator) -> LabeledCompletion {
        let desirable = score(prompt, response.text) >= desirableThreshold
        let flipped = Double(rng.nextFloat()) < noise
        return LabeledCompletion(prompt: prompt, completion: response, label: desirable != flipped, flipped: flipped)
    }
}

/// A preference pair as the rater labeled it.
public struct LabeledPair: Sendable, Hashable {
    /// The prompt.
    public var prompt: AssistantPrompt
    /// The response the rater preferred.
    public var chosen: AssistantResponse
    /// The other one.
    public var rejected: AssistantResponse
    /// The rater's score difference (chosen minus rejected) when margins are on.
    public var margin: Double?
    /// Whether label noise swapped the rater's decision.
    public var flipped: Bool
}

/// A thumbs-up or thumbs-down on one completion (KTO).
public struct LabeledCompletion: Sendable, Hashable {
    /// The prompt.
    public var prompt: AssistantPrompt
    /// The completion judged.
    public var completion: AssistantResponse
    /// True for thumbs-up.
    public var label: Bool
    /// Whether label noise flipped it.
    public var flipped: Bool
}
