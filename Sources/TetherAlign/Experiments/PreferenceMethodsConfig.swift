import Foundation

/// An offline preference-optimisation method compared by ``PreferenceMethods``.
public enum PreferenceMethod: String, Codable, Sendable, CaseIterable {
    /// DPO with the sigmoid (Bradley–Terry) loss, summed log-probs, a frozen SFT reference.
    case dpo
    /// IPO: DPO's squared loss towards a margin of 1/(2β), on length-normalised log-probs.
    case ipo
    /// KTO on thumbs-up / thumbs-down completions (`kto.jsonl`), with the batch KL reference point.
    case kto
    /// KTO on the preference pairs split into a thumbs-up (chosen) and a thumbs-down (rejected), as TRL converts
    /// paired data: the same loss, but the labels now say which of two responses is better, length included.
    case ktoPairs = "kto_pairs"
    /// ORPO: NLL on the chosen response plus λ times the odds-ratio term; no reference.
    case orpo
    /// SimPO: length-normalised log-probs with a target margin γ; no reference.
    case simpo

    /// The method's name in tables.
    public var label: String {
        switch self {
        case .dpo: return "DPO (sigmoid)"
        case .ipo: return "IPO"
        case .kto: return "KTO (thumbs)"
        case .ktoPairs: return "KTO (pairs as thumbs)"
        case .orpo: return "ORPO"
        case .simpo: return "SimPO"
        }
    }
}

/// One method's training settings in the experiment: AdamW with warm-up and cosine decay on full weights.
public struct PreferenceMethodSettings: Codable, Sendable, Equatable {
    /// The method.
    public var method: PreferenceMethod
    /// Optimizer steps.
    public var steps: Int
    /// Pairs (KTO: completions) per step.
    public var batchSize: Int
    /// Peak learning rate.
    public var learningRate: Float
    /// β (for ORPO: λ, the weight of the odds-ratio term).
    public var beta: Float
    /// SimPO's target margin γ (ignored by the other methods).
    public var simpoGamma: Float

    /// A method's settings.
    public init(_ method: PreferenceMethod, steps: Int, batchSize: Int, learningRate: Float, beta: Float, simpoGamma: Float = 0.5) {
        self.method = method
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.beta = beta
        self.simpoGamma = simpoGamma
    }

    enum CodingKeys: String, CodingKey {
        case method, steps, beta
        case batchSize = "batch_size", learningRate = "learning_rate", simpoGamma = "simpo_gamma"
    }
}

/// The settings of `tether experiment preference-methods`: the gold world, the tiny SFT policy (README's recipe) and
/// each method's training, sized to take a few minutes on a 2-core CPU (release build). Coded with snake_case keys
/// and saved in the run folder.
public struct PreferenceMethodsConfig: Codable, Sendable, Equatable {
    /// Seed of the world, the tokenizer corpus, initialisation, data order and sampling.
    public var seed: UInt64 = 0
    /// Training prompts of the world (`tether data make assistant --prompts`).
    public var prompts = 2000
    /// Label noise of the simulated raters (0: clean labels).
    public var noise = 0.0
    /// The raters' bias towards long, flattering, formatted answers (0: gold's preferences).
    public var bias = 0.0
    /// The rater's score from which a `kto.jsonl` completion gets a thumbs-up (`PreferenceLabeler.desirableThreshold`).
    public var ktoDesirableThreshold = PreferenceLabeler.defaultDesirableThreshold
    /// Distinct training prompts held out as a validation split (nil: none). When set, those prompts are removed
    /// from every training set and the table is measured on them instead of the held-out evaluation prompts: the
    /// split to tune on, so that tuning never looks at the test prompts.
    public var validationPrompts: Int? = nil
    /// BPE vocabulary (qwen2 pre-tokenizer).
    public var vocabSize = 512
    /// Width of the GPT-2 model (README's `tiny`: d 128, 2 layers, 4 heads).
    public var hiddenSize = 128
    /// Transformer blocks.
    public var layers = 2
    /// Attention heads.
    public var heads = 4
    /// Pretraining on the SFT texts (prompt + completion), packed.
    public var pretrain = PreferenceMethodsConfig.stage(steps: 300, learningRate: 3e-3, batch: 16)
    /// SFT on `sft.jsonl` (completion-only loss), packed: copies the data's mix of good and bad responses.
    public var sft = PreferenceMethodsConfig.stage(steps: 100, learningRate: 1e-3, batch: 16)
    /// Longest preference sequence (prompt + completion) in tokens.
    public var preferenceMaxLength = 128
    /// The methods, trained in this order, each from the SFT weights.
    public var methods: [PreferenceMethodSettings] = PreferenceMethod.allCases.map(PreferenceMethodsConfig.settings)

    /// A method's default settings: 250 steps of 16 (two epochs of the pairs) at learning rate 2e-4; β 0.1 for DPO
    /// and KTO (TRL's), 0.5 for IPO (a target log-ratio margin of 1 nat per token), λ 1 for ORPO, β 2 and γ 1 for SimPO
    /// (the SimPO paper's range).
    public static func settings(_ method: PreferenceMethod) -> PreferenceMethodSettings {
        switch method {
        case .dpo, .kto, .ktoPairs: return PreferenceMethodSettings(method, steps: 250, batchSize: 16, learningRate: 2e-4, beta: 0.1)
        case .ipo: return PreferenceMethodSettings(method, steps: 250, batchSize: 16, learningRate: 2e-4, beta: 0.5)
        case .orpo: return PreferenceMethodSettings(method, steps: 250, batchSize: 16, learningRate: 2e-4, beta: 1.0)
        case .simpo: return PreferenceMethodSettings(method, steps: 250, batchSize: 16, learningRate: 2e-4, beta: 2.0, simpoGamma: 1.0)
        }
    }
    /// Responses sampled per evaluation prompt (temperature 1, no filter: the policy itself, for the KL estimate).
    public var samplesPerPrompt = 4
    /// Most tokens per sampled response.
    public var maxNewTokens = 64

    /// The defaults.
    public init() {}

    /// A training stage: AdamW with 5% warm-up and cosine decay, no intermediate checkpoints, 128 tokens, packed.
    public static func stage(steps: Int, learningRate: Float, batch: Int) -> TrainingConfig {
        var c = TrainingConfig()
        c.maxSteps = steps
        c.learningRate = learningRate
        c.microBatchSize = batch
        c.warmupSteps = max(1, steps / 20)
        c.schedule = .cosine
        c.saveSteps = nil
        c.loggingSteps = 10
        c.maxLength = 128
        c.packing = true
        return c
    }

    /// Throws naming the first setting that cannot work.
    public func validate() throws(TrainingError) {
        if prompts < 10 { throw .badConfig(field: "prompts", "expected at least 10, got \(prompts)") }
        if let v = validationPrompts, v < 1 || v >= prompts / 2 {
            throw .badConfig(field: "validation_prompts", "expected 1 to \(prompts / 2 - 1), got \(v)")
        }
        if methods.isEmpty { throw .badConfig(field: "methods", "expected at least one method") }
        for m in methods {
            if m.steps < 1 { throw .badConfig(field: "methods.\(m.method.rawValue).steps", "expected at least 1, got \(m.steps)") }
            if m.batchSize < 2 { throw .badConfig(field: "methods.\(m.method.rawValue).batch_size", "expected at least 2, got \(m.batchSize)") }
        }
        if samplesPerPrompt < 1 { throw .badConfig(field: "samples_per_prompt", "expected at least 1, got \(samplesPerPrompt)") }
        if maxNewTokens < 1 { throw .badConfig(field: "max_new_tokens", "expected at least 1, got \(maxNewTokens)") }
        if preferenceMaxLength < 8 { throw .badConfig(field: "preference_max_length", "expected at least 8, got \(preferenceMaxLength)") }
    }

    enum CodingKeys: String, CodingKey {
        case seed, prompts, noise, bias, pretrain, sft, methods, layers, heads
        case hiddenSize = "hidden_size", ktoDesirableThreshold = "kto_desirable_threshold"
        case validationPrompts = "validation_prompts", vocabSize = "vocab_size", preferenceMaxLength = "preference_max_length"
        case samplesPerPrompt = "samples_per_prompt", maxNewTokens = "max_new_tokens"
    }
}
