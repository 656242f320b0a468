import Foundation

/// ORPO settings (TRL's `ORPOConfig`) in one flat object: the training keys, the shared preference keys, and `beta`.
public struct ORPOConfig: Codable, Sendable, Equatable {
    /// Loop, optimizer, schedule, seeds.
    public var training = TrainingConfig()
    /// Lengths, eval split, LoRA.
    public var preference = PreferenceSettings()
    /// λ, the weight of the odds-ratio term against the NLL (TRL's `beta`, 0.1).
    public var beta: Float = 0.1

    /// The defaults.
    public init(training: TrainingConfig = TrainingConfig()) { self.training = training }

    enum CodingKeys: String, CodingKey { case beta }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try TrainingConfig(from: decoder)
        preference = try PreferenceSettings(from: decoder)
        beta = try c.decodeIfPresent(Float.self, forKey: .beta) ?? 0.1
        try validate()
    }

    /// Encodes all keys in one object.
    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        try preference.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(beta, forKey: .beta)
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        try training.validate()
        if training.packing { throw .badConfig(field: "packing", "preference and reward training score whole sequences; packing is not supported") }
        try preference.validate()
        if !(beta >= 0) { throw .badConfig(field: "beta", "expected a number >= 0, got \(beta)") }
    }
}
