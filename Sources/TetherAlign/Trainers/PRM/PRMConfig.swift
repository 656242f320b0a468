import Foundation

/// Process-reward-model settings (TRL's `PRMConfig`) in one flat object.
public struct PRMConfig: Codable, Sendable, Equatable {
    /// Loop, optimizer, schedule, seeds, `max_length`.
    public var training = TrainingConfig()
    /// Text after each step; its last token is where the step is scored (`step_separator`, "\n").
    public var stepSeparator = "\n"
    /// Train only on the last step's label (`train_on_last_step_only`, false).
    public var trainOnLastStepOnly = false
    /// Records held out for evaluation when no eval set is given (`eval_size`; nil: none).
    public var evalSize: SplitSize? = nil

    /// The defaults.
    public init(training: TrainingConfig = TrainingConfig()) { self.training = training }

    enum CodingKeys: String, CodingKey {
        case stepSeparator = "step_separator", trainOnLastStepOnly = "train_on_last_step_only", evalSize = "eval_size"
    }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try TrainingConfig(from: decoder)
        stepSeparator = try c.decodeIfPresent(String.self, forKey: .stepSeparator) ?? "\n"
        trainOnLastStepOnly = try c.decodeIfPresent(Bool.self, forKey: .trainOnLastStepOnly) ?? false
        evalSize = try c.decodeIfPresent(SplitSize.self, forKey: .evalSize)
        try validate()
    }

    /// Encodes all keys in one object.
    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stepSeparator, forKey: .stepSeparator)
        try c.encode(trainOnLastStepOnly, forKey: .trainOnLastStepOnly)
        try c.encode(evalSize, forKey: .evalSize)
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        try training.validate()
        if training.packing { throw .badConfig(field: "packing", "preference and reward training score whole sequences; packing is not supported") }
        if stepSeparator.isEmpty { throw .badConfig(field: "step_separator", "expected a non-empty string") }
    }
}
