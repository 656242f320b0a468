import Foundation
import TetherLM

/// Where reference log-probs come from (for the methods that need them).
public enum ReferenceSource: String, Codable, Sendable, CaseIterable {
    /// A frozen copy of the starting model (a second model in memory while it is used).
    case copy
    /// The policy itself with its LoRA adapters switched off: no second copy (needs `use_peft`).
    case adaptersOff = "adapters_off"
}

/// Settings shared by the offline preference trainers (DPO, KTO, ORPO), flat in their configs with TRL's names.
public struct PreferenceSettings: Codable, Sendable, Equatable {
    /// Prompt tokens kept (the last ones) (TRL's `max_prompt_length`, 512).
    public var maxPromptLength: Int? = 512
    /// Completion tokens kept (the first ones) (TRL's `max_completion_length`; nil: no limit).
    public var maxCompletionLength: Int? = nil
    /// Records held out for evaluation when no eval set is given (nil: none).
    public var evalSize: SplitSize? = nil
    /// Train LoRA adapters instead of every weight (TRL's `use_peft`, default off).
    public var usePeft = false
    /// LoRA rank (`lora_r`, 16 as TRL's `ModelConfig`).
    public var loraR = 16
    /// LoRA α (`lora_alpha`, 32).
    public var loraAlpha: Float = 32
    /// LoRA dropout (`lora_dropout`, 0.05).
    public var loraDropout: Float = 0.05

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case maxPromptLength = "max_prompt_length", maxCompletionLength = "max_completion_length", evalSize = "eval_size"
        case usePeft = "use_peft", loraR = "lora_r", loraAlpha = "lora_alpha", loraDropout = "lora_dropout"
    }

    /// Decodes the settings; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.maxPromptLength) { maxPromptLength = try c.decodeIfPresent(Int.self, forKey: .maxPromptLength) }
        maxCompletionLength = try c.decodeIfPresent(Int.self, forKey: .maxCompletionLength)
        evalSize = try c.decodeIfPresent(SplitSize.self, forKey: .evalSize)
        usePeft = try c.decodeIfPresent(Bool.self, forKey: .usePeft) ?? false
        loraR = try c.decodeIfPresent(Int.self, forKey: .loraR) ?? 16
        loraAlpha = try c.decodeIfPresent(Float.self, forKey: .loraAlpha) ?? 32
        loraDropout = try c.decodeIfPresent(Float.self, forKey: .loraDropout) ?? 0.05
        try validate()
    }

    /// Encodes every key (an unset optional as null).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxPromptLength as Int?, forKey: .maxPromptLength)
        try c.encode(maxCompletionLength as Int?, forKey: .maxCompletionLength)
        try c.encode(evalSize, forKey: .evalSize)
        try c.encode(usePeft, forKey: .usePeft); try c.encode(loraR, forKey: .loraR)
        try c.encode(loraAlpha, forKey: .loraAlpha); try c.encode(loraDropout, forKey: .loraDropout)
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        if let m = maxPromptLength, m < 1 { throw .badConfig(field: "max_prompt_length", "expected at least 1 or null, got \(m)") }
        if let m = maxCompletionLength, m < 1 { throw .badConfig(field: "max_completion_length", "expected at least 1 or null, got \(m)") }
        if loraR < 1 { throw .badConfig(field: "lora_r", "expected at least 1, got \(loraR)") }
        if !(loraDropout >= 0 && loraDropout < 1) { throw .badConfig(field: "lora_dropout", "expected a number in [0, 1), got \(loraDropout)") }
    }

    /// The LoRA config `use_peft` asks for (every linear layer but the LM head), or nil.
    public var lora: LoRAConfig? {
        usePeft ? LoRAConfig(r: loraR, alpha: loraAlpha, dropout: loraDropout, targetModules: .allLinear) : nil
    }
}

/// DPO settings (TRL's `DPOConfig`, plus SimPO's `simpo_gamma` from `CPOConfig`), in one flat object.
public struct DPOConfig: Codable, Sendable, Equatable {
    /// Loop, optimizer, schedule, seeds.
    public var training = TrainingConfig()
    /// Lengths, eval split, LoRA.
    public var preference = PreferenceSettings()
    /// β: strength of the KL leash to the reference (TRL's `beta`, 0.1; SimPO's paper uses about 2).
    public var beta: Float = 0.1
    /// The loss variant (`loss_type`: sigmoid, ipo, hinge, robust, simpo).
    public var lossType: DPOLossType = .sigmoid
    /// ε: the probability a preference label is flipped (`label_smoothing`, 0; sigmoid, robust and simpo).
    public var labelSmoothing: Float = 0
    /// γ: SimPO's target reward margin (`simpo_gamma`, 0.5).
    public var simpoGamma: Float = 0.5
    /// Where reference log-probs come from (`reference`: copy or adapters_off).
    public var reference: ReferenceSource = .copy
    /// Compute reference log-probs once before training and cache them in the run folder (`precompute_ref_log_probs`;
    /// default on here: the frozen copy is freed before training starts).
    public var precomputeRefLogProbs = true

    /// The defaults, with DPO's learning rate (TRL: 1e-6 for full models; tiny models want more).
    public init(training: TrainingConfig = TrainingConfig()) {
        self.training = training
    }

    enum CodingKeys: String, CodingKey {
        case beta, lossType = "loss_type", labelSmoothing = "label_smoothing", simpoGamma = "simpo_gamma"
        case reference, precomputeRefLogProbs = "precompute_ref_log_probs"
    }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try TrainingConfig(from: decoder)
        preference = try PreferenceSettings(from: decoder)
        beta = try c.decodeIfPresent(Float.self, forKey: .beta) ?? 0.1
        lossType = try c.decodeIfPresent(DPOLossType.self, forKey: .lossType) ?? .sigmoid
        labelSmoothing = try c.decodeIfPresent(Float.self, forKey: .labelSmoothing) ?? 0
        simpoGamma = try c.decodeIfPresent(Float.self, forKey: .simpoGamma) ?? 0.5
        reference = try c.decodeIfPresent(ReferenceSource.self, forKey: .reference) ?? .copy
        precomputeRefLogProbs = try c.decodeIfPresent(Bool.self, forKey: .precomputeRefLogProbs) ?? true
        try validate()
    }

    /// Encodes the training, shared and DPO keys side by side in one object.
    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        try preference.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(beta, forKey: .beta); try c.encode(lossType, forKey: .lossType)
        try c.encode(labelSmoothing, forKey: .labelSmoothing); try c.encode(simpoGamma, forKey: .simpoGamma)
        try c.encode(reference, forKey: .reference); try c.encode(precomputeRefLogProbs, forKey: .precomputeRefLogProbs)
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        try training.validate()
        if training.packing { throw .badConfig(field: "packing", "preference and reward training score whole sequences; packing is not supported") }
        try preference.validate()
        if !(beta > 0) { throw .badConfig(field: "beta", "expected a positive number, got \(beta)") }
        if !(labelSmoothing >= 0 && labelSmoothing < 0.5) {
            throw .badConfig(field: "label_smoothing", "expected a number in [0, 0.5), got \(labelSmoothing)")
        }
        if labelSmoothing > 0 && (lossType == .ipo || lossType == .hinge) {
            throw .badConfig(field: "label_smoothing", "\(lossType.rawValue) has no label smoothing; use sigmoid, robust or simpo")
        }
        if reference == .adaptersOff && !preference.usePeft && lossType.needsReference {
            throw .badConfig(field: "reference", "adapters_off needs LoRA adapters (use_peft: true)")
        }
    }
}
