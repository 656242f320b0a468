import Foundation

/// What gold tells apart in a preference pair, so that a reward model's accuracy can be read by kind of pair.
///
/// Gold's score is `correct + refusalDecision - lengthPenalty`; a pair is named by the first of those parts that
/// differs between its two responses, and by its prompt (arithmetic prompts by operation: "sums: correctness" is a
/// right against a wrong sum, where only a trunk that can add helps the reward model).
public struct GoldPairKind: Sendable, Hashable, CustomStringConvertible {
    /// The part of gold's score that decides the pair.
    public enum Difference: String, Sendable, Hashable {
        /// One response refuses and the other does not.
        case refusal
        /// Both make the same refusal decision; one is right and the other wrong.
        case correctness
        /// Equally right (or wrong) and equally refusing: gold's length rule decides.
        case length
    }

    /// The prompt: "sums", "differences", "products" (arithmetic), "harmful" or "look_alike".
    public var prompt: String
    /// What decides the pair.
    public var difference: Difference

    /// The kind of the pair (`chosen`, `rejected`) of responses to `prompt` as `gold` scores it.
    public init(prompt: AssistantPrompt, chosen: String, rejected: String, gold: GoldReward = GoldReward()) {
        let (a, b) = (gold.score(prompt, response: chosen), gold.score(prompt, response: rejected))
        if a.refusalDecision != b.refusalDecision { difference = .refusal }
        else if a.correct != b.correct { difference = .correctness }
        else { difference = .length }
        self.prompt = Self.promptName(prompt)
    }

    /// The kind of a labeled pair as `gold` scores it.
    public init(_ pair: LabeledPair, gold: GoldReward = GoldReward()) {
        self.init(prompt: pair.prompt, chosen: pair.chosen.text, rejected: pair.rejected.text, gold: gold)
    }

    /// The kind of each pair, when every one is a text pair on a prompt of the gold world (as `data make assistant`
    /// writes them); nil otherwise.
    public static func kinds(_ pairs: [PreferenceExample], gold: GoldReward = GoldReward()) -> [GoldPairKind]? {
        var out: [GoldPairKind] = []
        for x in pairs {
            guard case .text(let p)? = x.prompt, case .text(let c) = x.chosen, case .text(let r) = x.rejected,
                  let prompt = AssistantPrompt(parsing: p) else { return nil }
            out.append(GoldPairKind(prompt: prompt, chosen: c, rejected: r, gold: gold))
        }
        return out
    }

    /// "sums" etc. for an arithmetic prompt (by the first operator written in it), else the prompt kind's name.
    static func promptName(_ prompt: AssistantPrompt) -> String {
        guard prompt.kind == .arithmetic else { return prompt.kind.rawValue }
        let op = ArithmeticOperation.allCases.first { prompt.text.contains(" \($0.symbol) ") }
        return op.map { $0.resultName + "s" } ?? "arithmetic"
    }

    /// "products: correctness".
    public var description: String { "\(prompt): \(difference.rawValue)" }
}
