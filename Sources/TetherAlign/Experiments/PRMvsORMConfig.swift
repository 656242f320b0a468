import Foundation

/// The PRM-vs-ORM best-of-N experiment's settings, sized to finish in a few minutes on a 2-core CPU (release build).
/// Coded with snake_case keys (saved with the run).
public struct PRMvsORMConfig: Codable, Sendable, Equatable {
    /// Seed of the problems, the tokenizer's corpus, initialisation, data order and sampling.
    public var seed: UInt64 = 0
    /// Held-out problems the policy is sampled on (none is a training problem of the policy or the reward models).
    public var problems = 100
    /// Operands are drawn from 1...max_operand (9: one digit, so a tiny policy learns the sums in minutes).
    public var maxOperand = 9
    /// Solutions sampled per problem: the largest N.
    public var samples = 16
    /// The N of best-of-N, each dividing `samples`; each problem's samples split into `samples / N` groups.
    public var budgets = [1, 4, 16]
    /// Worked solutions the policy is fine-tuned on.
    public var policyExamples = 4_000
    /// Share of the policy's solutions with an injected wrong step, so that its samples vary.
    public var policyErrorFraction = 0.25
    /// Step-labeled solutions the reward models train on (other problems than the policy's).
    public var rewardExamples = 4_000
    /// Share of the reward models' solutions with an injected wrong step.
    public var rewardErrorFraction = 0.5
    /// Sampling temperature.
    public var temperature: Float = 1
    /// Most tokens per sampled solution.
    public var maxNewTokens = 64
    /// Vocabulary of the BPE tokenizer (digits are always single tokens).
    public var vocabSize = 256
    /// Width of the Llama-style models.
    public var hiddenSize = 128
    /// Width of the SwiGLU MLP.
    public var intermediateSize = 384
    /// Transformer blocks.
    public var layers = 2
    /// Attention heads.
    public var heads = 4
    /// The policy: SFT from random weights, loss on the solution only.
    public var policy = PRMvsORMConfig.stage(steps: 600, learningRate: 3e-3, batch: 32)
    /// Each reward model (PRM on every step's label, ORM on the last step's only), started from the policy.
    public var rewardModel = PRMvsORMConfig.stage(steps: 300, learningRate: 1e-3, batch: 32)

    /// The defaults.
    public init() {}

    /// A config small enough for a unit test (seconds): few problems, steps and samples.
    public static var tiny: PRMvsORMConfig {
        var c = PRMvsORMConfig()
        c.problems = 4
        c.samples = 4
        c.budgets = [1, 2, 4]
        c.policyExamples = 64
        c.rewardExamples = 64
        c.maxNewTokens = 24
        c.vocabSize = 280
        c.hiddenSize = 32
        c.intermediateSize = 64
        c.layers = 1
        c.heads = 2
        c.policy = stage(steps: 3, learningRate: 3e-3, batch: 8)
        c.rewardModel = stage(steps: 2, learningRate: 1e-3, batch: 8)
        return c
    }

    /// A training stage's config: the quickstart's (AdamW, warm-up, cosine decay, no intermediate checkpoints) with
    /// room for a 4-operand chain (about 60 tokens with one token per digit).
    public static func stage(steps: Int, learningRate: Float, batch: Int) -> TrainingConfig {
        var c = QuickstartConfig.stage(steps: steps, learningRate: learningRate, batch: batch)
        c.maxLength = 96
        return c
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        if problems < 1 { throw .badConfig(field: "problems", "expected at least 1, got \(problems)") }
        if maxOperand < 2 { throw .badConfig(field: "max_operand", "expected at least 2, got \(maxOperand)") }
        if samples < 1 { throw .badConfig(field: "samples", "expected at least 1, got \(samples)") }
        if budgets.isEmpty || budgets.contains(where: { $0 < 1 || samples % $0 != 0 }) {
            throw .badConfig(field: "budgets", "expected values >= 1 dividing samples (\(samples)), got \(budgets)")
        }
        if policyExamples < 1 { throw .badConfig(field: "policy_examples", "expected at least 1, got \(policyExamples)") }
        if rewardExamples < 1 { throw .badConfig(field: "reward_examples", "expected at least 1, got \(rewardExamples)") }
        for (name, p) in [("policy_error_fraction", policyErrorFraction), ("reward_error_fraction", rewardErrorFraction)]
        where !(0...1).contains(p) {
            throw .badConfig(field: name, "expected a probability in 0...1, got \(p)")
        }
        if !(temperature > 0) { throw .badConfig(field: "temperature", "expected > 0 (samples must vary), got \(temperature)") }
        if maxNewTokens < 1 { throw .badConfig(field: "max_new_tokens", "expected at least 1, got \(maxNewTokens)") }
        if hiddenSize % heads != 0 { throw .badConfig(field: "heads", "expected a divisor of hidden_size \(hiddenSize), got \(heads)") }
        try policy.validate()
        try rewardModel.validate()
    }

    enum CodingKeys: String, CodingKey {
        case maxOperand = "max_operand"
        case seed, problems, samples, budgets, temperature, layers, heads, policy
        case policyExamples = "policy_examples", policyErrorFraction = "policy_error_fraction"
        case rewardExamples = "reward_examples", rewardErrorFraction = "reward_error_fraction"
        case maxNewTokens = "max_new_tokens", vocabSize = "vocab_size", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", rewardModel = "reward_model"
    }
}
