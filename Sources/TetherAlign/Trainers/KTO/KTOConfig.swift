import Foundation

/// KTO settings (TRL's `KTOConfig`) in one flat object: training keys, shared preference keys and KTO's own.
public struct KTOConfig: Codable, Sendable, Equatable {
    /// Loop, optimizer, schedule, seeds.
    public var training = TrainingConfig()
    /// Lengths, eval split, LoRA.
    public var preference = PreferenceSettings()
    /// β (TRL's `beta`, 0.1).
    public var beta: Float = 0.1
    /// Weight of desirable examples' losses (`desirable_weight`, 1).
    public var desirableWeight: Float = 1
    /// Weight of undesirable examples' losses (`undesirable_weight`, 1); the paper keeps w_d·n_d / (w_u·n_u) in [1, 4/3].
    public var undesirableWeight: Float = 1
    /// Where reference log-probs come from (`reference`: copy or adapters_off).
    public var reference: ReferenceSource = .copy
    /// Compute reference log-probs once and cache them in the run folder (`precompute_ref_log_probs`; default on here).
    public var precomputeRefLogProbs = true

    /// The defaults.
    public init(training: TrainingConfig = TrainingConfig()) { self.training = training }

    enum CodingKeys: String, CodingKey {
        case beta, desirableWeight = "desirable_weight", undesirableWeight = "undesirable_weight"
        case reference, precomputeRefLogProbs = "precompute_ref_log_probs"
    }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try TrainingConfig(from: decoder)
        preference = try PreferenceSettings(from: decoder)
        beta = try c.decodeIfPresent(Float.self, forKey: .beta) ?? 0.1
        desirableWeight = try c.decodeIfPresent(Float.self, forKey: .desirableWeight) ?? 1
        undesirableWeight = try c.decodeIfPresent(Float.self, forKey: .undesirableWeight) ?? 1
        reference = try c.decodeIfPresent(ReferenceSource.self, forKey: .reference) ?? .copy
        precomputeRefLogProbs = try c.decodeIfPresent(Bool.self, forKey: .precomputeRefLogProbs) ?? true
        try validate()
    }

    /// Encodes all keys in one object.
    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        try preference.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(beta, forKey: .beta); try c.encode(desirableWeight, forKey: .desirableWeight)
        try c.encode(undesirableWeight, forKey: .undesirableWeight); try c.encode(reference, forKey: .reference)
        try c.encode(precomputeRefLogProbs, forKey: .precomputeRefLogProbs)
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        try training.validate()
        if training.packing { throw .badConfig(field: "packing", "preference and reward training score whole sequences; packing is not supported") }
        try preference.validate()
        if !(beta > 0) { throw .badConfig(field: "beta", "expected a positive number, got \(beta)") }
        if !(desirableWeight >= 0) { throw .badConfig(field: "desirable_weight", "expected a number >= 0, got \(desirableWeight)") }
        if !(undesirableWeight >= 0) { throw .badConfig(field: "undesirable_weight", "expected a number >= 0, got \(undesirableWeight)") }
        if training.microBatchSize < 2 {
            throw .badConfig(field: "per_device_train_batch_size", "KTO estimates its KL reference point over a batch: expected at least 2, got \(training.microBatchSize)")
        }
        if reference == .adaptersOff && !preference.usePeft {
            throw .badConfig(field: "reference", "adapters_off needs LoRA adapters (use_peft: true)")
        }
    }
}
