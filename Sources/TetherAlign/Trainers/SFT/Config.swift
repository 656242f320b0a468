import Foundation

/// SFT settings: the shared training config plus TRL's SFT options, in one flat object as TRL's `SFTConfig`
/// (which extends `TrainingArguments`): `{"learning_rate": 2e-5, "packing": true, "assistant_only_loss": true}`.
public struct SFTConfig: Codable, Sendable, Equatable {
    /// Loop, optimizer, schedule, seeds, length and packing.
    public var training = TrainingConfig()
    /// Train only on completions of prompt-completion data (TRL's default).
    public var completionOnlyLoss = true
    /// Train only on assistant turns of conversations (TRL's default is off).
    public var assistantOnlyLoss = false
    /// Records held out for evaluation when no eval set is given (nil: none).
    public var evalSize: SplitSize? = nil

    /// The defaults.
    public init(training: TrainingConfig = TrainingConfig()) { self.training = training }

    enum CodingKeys: String, CodingKey {
        case completionOnlyLoss = "completion_only_loss", assistantOnlyLoss = "assistant_only_loss", evalSize = "eval_size"
    }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try TrainingConfig(from: decoder)  // the same object: TRL's flat layout
        completionOnlyLoss = try c.decodeIfPresent(Bool.self, forKey: .completionOnlyLoss) ?? true
        assistantOnlyLoss = try c.decodeIfPresent(Bool.self, forKey: .assistantOnlyLoss) ?? false
        evalSize = try c.decodeIfPresent(SplitSize.self, forKey: .evalSize)
    }

    /// Encodes the training keys and the SFT keys side by side in one object.
    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(completionOnlyLoss, forKey: .completionOnlyLoss)
        try c.encode(assistantOnlyLoss, forKey: .assistantOnlyLoss)
        try c.encode(evalSize, forKey: .evalSize)
    }
}
