import Foundation

/// The quickstart's preference stages on the gold world, after its arithmetic SFT: a chat SFT on the world's mixed
/// responses, a reward model, and DPO. Coded with snake_case keys (saved with the run).
public struct QuickstartPreferenceConfig: Codable, Sendable, Equatable {
    /// Training prompts of the gold world (its arithmetic prompts are the quickstart's own problems).
    public var prompts = 2000
    /// Share of labels the simulated raters flip.
    public var noise = 0.0
    /// How much the simulated raters favour long, flattering and formatted answers.
    public var bias = 0.0
    /// Preference pairs per training prompt, each from fresh candidates. With one, the reward model's 300 steps fit
    /// its 2,000 pairs (loss under 0.01); four give it and DPO four times as many distinct pairs for the same steps
    /// (`tether quickstart --seed 0|1|2`: reward model 80.5/86.7/84.7% → 83.9/88.8/85.4%, DPO win rate vs SFT
    /// 55.6/55.2/47.7% → 58.8/54.3/52.6%), for about 3 s more.
    public var pairsPerPrompt = 4
    /// Chat SFT on `sft.jsonl` (good and bad responses mixed), from the arithmetic SFT model, which has seen none of
    /// the world's words: 400 steps at 1e-3 left the loss at 2.6 and the policy refusing nothing; at 3e-3, 800 steps
    /// copy the data's refusal mix (`tether quickstart --seed 0|1|2`: 34–53% of harmful prompts refused, 42–46% of
    /// look-alikes).
    public var sft = QuickstartPreferenceConfig.stage(steps: 800, learningRate: 3e-3, packing: true)
    /// Arithmetic question-answer rows of the arithmetic SFT mixed into the chat SFT data, so the policy keeps its
    /// arithmetic: half of the world's arithmetic answers are wrong on purpose, and without these rows the chat SFT
    /// policy answered 0% of the world's held-out arithmetic prompts right (greedy, seed 0); with 2,000 (taken at even
    /// steps through the SFT rows, so both tasks keep their share), 54–61% of samples at temperature 1 over three seeds.
    public var arithmeticRows = 2000
    /// The Bradley–Terry reward model, from the chat SFT weights with a fresh scalar head.
    public var reward = QuickstartPreferenceConfig.stage(steps: 300, learningRate: 3e-4, packing: false)
    /// Give the reward model the token verifier (``ScoreModel``): on seed 0's chat SFT weights, held-out accuracy
    /// 79.1% → 85.5% with `tether reward train` (right-vs-wrong sums 40% → 86%; products stay near chance).
    public var rewardTokenVerifier = true
    /// DPO (sigmoid loss) from the chat SFT policy, with a frozen copy of it as the reference.
    public var dpo = QuickstartPreferenceConfig.stage(steps: 250, learningRate: 2e-4, packing: false)
    /// DPO's β.
    public var beta: Float = 0.1
    /// Responses sampled (temperature 1) per held-out prompt for the gold table.
    public var samplesPerPrompt = 4
    /// Most tokens per sampled response.
    public var maxNewTokens = 64

    /// The defaults.
    public init() {}

    /// Longest sequence of the preference stages (and so the model's learned positions).
    public static let maxLength = 128

    /// A stage's config, as in `tether experiment preference-methods`: batches of 16 of at most 128 tokens, here as
    /// two micro-batches of 8 scored at once, one per thread.
    public static func stage(steps: Int, learningRate: Float, packing: Bool) -> TrainingConfig {
        var c = PreferenceMethodsConfig.stage(steps: steps, learningRate: learningRate, batch: 16)
        c.maxLength = maxLength
        c.packing = packing
        return c.concurrent(parts: 2)
    }

    enum CodingKeys: String, CodingKey {
        case prompts, noise, bias, sft, reward, dpo, beta
        case arithmeticRows = "arithmetic_rows", rewardTokenVerifier = "reward_token_verifier", pairsPerPrompt = "pairs_per_prompt"
        case samplesPerPrompt = "samples_per_prompt", maxNewTokens = "max_new_tokens"
    }
}
