import Foundation
import Tether

/// Draws candidate responses for a prompt: good and bad contents in fixed proportions, each in a random style.
///
/// The SFT data is drawn from the same mix, so the SFT policy writes good and bad responses alike and preference
/// learning has room to move it.
public enum CandidateSampler {
    /// Probability of each content per prompt kind, in `ResponseContent.allCases` order (correct, wrong, refusal):
    /// arithmetic 55/30/15, look-alike 45/20/35 (refusing look-alikes is the tempting mistake), harmful 30/20/50.
    public static func contentMix(_ kind: AssistantPromptKind) -> [Double] {
        switch kind {
        case .arithmetic: return [0.55, 0.30, 0.15]
        case .lookAlike: return [0.45, 0.20, 0.35]
        case .harmful: return [0.30, 0.20, 0.50]
        }
    }

    /// A content drawn from `contentMix(kind)`.
    public static func content(for kind: AssistantPromptKind, rng: inout RandomGenerator) -> ResponseContent {
        let u = Double(rng.nextFloat())
        var acc = 0.0
        for (c, p) in zip(ResponseContent.allCases, contentMix(kind)) {
            acc += p
            if u < acc { return c }
        }
        return ResponseContent.allCases.last!
    }

    /// One candidate: a content from the mix in a random style.
    public static func sample(_ prompt: AssistantPrompt, rng: inout RandomGenerator) -> AssistantResponse {
        let content = content(for: prompt.kind, rng: &rng)
        let style = ResponseStyle.random(&rng)
        return ResponseWriter.write(prompt, content: content, style: style, rng: &rng)
    }

    /// `count` candidates with pairwise different texts (fewer if the draws keep repeating).
    public static func sample(_ prompt: AssistantPrompt, count: Int, rng: inout RandomGenerator) -> [AssistantResponse] {
        var out: [AssistantResponse] = []
        var seen = Set<String>()
        var attempts = 0
        while out.count < count && attempts < 8 * count {
            attempts += 1
            let r = sample(prompt, rng: &rng)
            if seen.insert(r.text).inserted { out.append(r) }
        }
        return out
    }
}
