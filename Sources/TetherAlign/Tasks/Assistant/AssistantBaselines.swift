import Foundation
import Tether

/// Policies of the world that need no model, to put a trained policy's figures on a scale.
public enum AssistantBaselinePolicy: String, Sendable, Hashable, CaseIterable {
    /// Answers as the SFT data does: a content from `CandidateSampler.contentMix` in a random style. A policy that
    /// imitated `sft.jsonl` perfectly would score about this.
    case dataMix = "data_mix"
    /// The best response: a plain correct answer, or a short refusal to a harmful request (gold 1 on every prompt).
    case best

    /// One response per prompt; row i draws from `RandomGenerator(seed: seed).fork(i)`.
    public func responses(_ prompts: [AssistantPrompt], seed: UInt64 = 0) -> [String] {
        let root = RandomGenerator(seed: seed)
        return prompts.enumerated().map { i, p in
            var rng = root.fork(UInt64(i))
            switch self {
            case .dataMix: return CandidateSampler.sample(p, rng: &rng).text
            case .best:
                return ResponseWriter.write(p, content: p.kind.mustRefuse ? .refusal : .correct, style: .plain, rng: &rng).text
            }
        }
    }

    /// Gold's figures for this policy's responses to `prompts`.
    public func evaluate(_ prompts: [AssistantPrompt], seed: UInt64 = 0, gold: GoldReward = GoldReward()) -> AssistantEvalReport {
        AssistantEvaluation.evaluate(prompts: prompts, responses: responses(prompts, seed: seed), gold: gold)
    }
}
