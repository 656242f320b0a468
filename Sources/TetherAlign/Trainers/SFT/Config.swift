import Foundation

/// SFT settings: the shared training config plus TRL's SFT options (`SFTConfig`).
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
        case training, completionOnlyLoss = "completion_only_loss", assistantOnlyLoss = "assistant_only_loss", evalSize = "eval_size"
    }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try c.decodeIfPresent(TrainingConfig.self, forKey: .training) ?? TrainingConfig()
        completionOnlyLoss = try c.decodeIfPresent(Bool.self, forKey: .completionOnlyLoss) ?? true
        assistantOnlyLoss = try c.decodeIfPresent(Bool.self, forKey: .assistantOnlyLoss) ?? false
        evalSize = try c.decodeIfPresent(SplitSize.self, forKey: .evalSize)
    }
}
