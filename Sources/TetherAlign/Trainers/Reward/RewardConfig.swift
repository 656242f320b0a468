import Foundation

/// Reward-model settings (TRL's `RewardConfig`) in one flat object, plus the ensemble's.
public struct RewardConfig: Codable, Sendable, Equatable {
    /// Loop, optimizer, schedule, seeds, `max_length` (prompt + completion tokens kept, from the start).
    public var training = TrainingConfig()
    /// c in c·(r_c + r_r)², pulling rewards towards mean zero (`center_rewards_coefficient`; nil: off, as TRL).
    public var centerRewardsCoefficient: Float? = nil
    /// Records held out for evaluation when no eval set is given (`eval_size`; nil: none).
    public var evalSize: SplitSize? = nil
    /// Members of the ensemble (`ensemble_size`, 1): member k trained with seed `seed + k` (its own fresh head) and
    /// data order `data_seed + k`.
    public var ensembleSize = 1
    /// Train each member on a bootstrap resample of the training pairs (`ensemble_bootstrap`, false).
    public var ensembleBootstrap = false
    /// Add the token verifier to a fresh scorer (`token_verifier`, false): a learned per-token weight on the LM head's
    /// log-prob of each written token, summed into the reward (``ScoreModel``).
    public var tokenVerifier = false

    /// The defaults.
    public init(training: TrainingConfig = TrainingConfig()) { self.training = training }

    enum CodingKeys: String, CodingKey {
        case centerRewardsCoefficient = "center_rewards_coefficient", evalSize = "eval_size"
        case ensembleSize = "ensemble_size", ensembleBootstrap = "ensemble_bootstrap"
        case tokenVerifier = "token_verifier"
    }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try TrainingConfig(from: decoder)
        centerRewardsCoefficient = try c.decodeIfPresent(Float.self, forKey: .centerRewardsCoefficient)
        evalSize = try c.decodeIfPresent(SplitSize.self, forKey: .evalSize)
        ensembleSize = try c.decodeIfPresent(Int.self, forKey: .ensembleSize) ?? 1
        ensembleBootstrap = try c.decodeIfPresent(Bool.self, forKey: .ensembleBootstrap) ?? false
        tokenVerifier = try c.decodeIfPresent(Bool.self, forKey: .tokenVerifier) ?? false
        try validate()
    }

    /// Encodes all keys in one object.
    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(centerRewardsCoefficient as Float?, forKey: .centerRewardsCoefficient)
        try c.encode(evalSize, forKey: .evalSize)
        try c.encode(ensembleSize, forKey: .ensembleSize); try c.encode(ensembleBootstrap, forKey: .ensembleBootstrap)
        try c.encode(tokenVerifier, forKey: .tokenVerifier)
    }

    /// Member `k` of the ensemble whose run folder is `run`: one reward model with seed `seed + k` and data order
    /// `data_seed + k`, its run folder `run/member-k`. A single model (`ensembleSize` 1) is its own member, in `run`.
    public func member(_ k: Int, in run: URL) -> RewardConfig {
        var m = self
        m.evalSize = nil
        m.ensembleSize = 1
        guard ensembleSize > 1 else {
            m.training.outputDir = run.deletingLastPathComponent().path
            m.training.runName = run.lastPathComponent
            return m
        }
        m.training.outputDir = run.path
        m.training.runName = "member-\(k)"
        m.training.seed = training.seed + UInt64(k)
        m.training.dataSeed = training.dataSeed + UInt64(k)
        return m
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        try training.validate()
        if training.packing { throw .badConfig(field: "packing", "preference and reward training score whole sequences; packing is not supported") }
        if let c = centerRewardsCoefficient, !(c >= 0) {
            throw .badConfig(field: "center_rewards_coefficient", "expected a number >= 0 or null, got \(c)")
        }
        if ensembleSize < 1 { throw .badConfig(field: "ensemble_size", "expected at least 1, got \(ensembleSize)") }
    }
}
