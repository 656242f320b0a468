import Foundation
import Tether
import TetherLM
import TetherNN

/// ORPO's part of the loop: length-normalised log-probs of chosen and rejected in one forward, no reference model,
/// the ``orpoLoss`` and TRL's metrics (`nll_loss`, `log_odds_ratio`, `log_odds_chosen`, `rewards/...`, `logps/...`).
public final class ORPOObjective: TrainingObjective {
    /// The policy trained.
    public let model: CausalLM
    /// λ.
    public let beta: Float

    /// An objective training `model` with odds-ratio weight `beta`.
    public init(model: CausalLM, beta: Float) {
        self.model = model
        self.beta = beta
    }

    /// The policy.
    public var module: Module { model }
    /// Pairs in the batch.
    public func units(in batch: PreferenceBatch) -> Int { batch.rows.count }
    /// The pairs' indices.
    public func describe(_ batch: PreferenceBatch) -> String { "pairs " + batch.rows.map(String.init).joined(separator: ", ") }

    /// Σ (NLL − λ·log σ(log odds ratio)) over the pairs, with metric sums.
    public func loss(_ batch: PreferenceBatch) -> ObjectiveOutput {
        let n = batch.rows.count
        let logps = model.sequenceLogProbs(batch.pairs, reduction: .mean)                              // (2B)
        let chosen = logps.slice(axis: 0, 0..<n), rejected = logps.slice(axis: 0, n..<(2 * n))         // (B) each
        let out = orpoLoss(chosen: chosen, rejected: rejected, lambda: beta)
        var metrics = preferenceMetricSums(PreferenceLoss(losses: out.losses, chosenRewards: out.chosenRewards,
                                                          rejectedRewards: out.rejectedRewards),
                                           policyChosen: chosen, policyRejected: rejected)
        func sum(_ t: Tensor) -> Double { t.scalars().reduce(0.0) { $0 + Double($1) } }
        metrics["nll_loss"] = sum(out.nll)
        metrics["log_odds_ratio"] = sum(out.logOddsRatio)
        metrics["log_odds_chosen"] = sum(out.logOdds)
        return ObjectiveOutput(lossSum: out.losses.sum(), units: n, inputTokens: batch.pairs.inputTokens, metricSums: metrics)
    }

    /// The model in HF layout, plus the PEFT adapter files when LoRA adapters are attached.
    public func saveModel(to folder: URL) throws { try CausalLMObjective(model: model).saveModel(to: folder) }
    /// Loads what ``saveModel(to:)`` wrote.
    public func loadModel(from folder: URL) throws { try CausalLMObjective(model: model).loadModel(from: folder) }
}

/// Odds-ratio preference optimisation (TRL's `ORPOTrainer`): SFT and preference in one loss, no reference model.
public final class ORPOTrainer {
    /// The settings.
    public let config: ORPOConfig
    /// The policy and its loss.
    public let objective: ORPOObjective
    /// The loop running it.
    public let loop: TrainingLoop<ORPOObjective>

    /// A new ORPO run on tokenized pairs (eval: a given set, else `eval_size` pairs held out with the data seed).
    public init(config: ORPOConfig, model: CausalLM, train: [PreferenceTokens], eval: [PreferenceTokens]? = nil,
                padId: Int32 = 0) throws {
        let (t, e) = try Self.prepare(config: config, model: model, train: train, eval: eval, padId: padId)
        self.config = config
        objective = ORPOObjective(model: model, beta: config.beta)
        loop = try TrainingLoop(config: config.training, objective: objective, train: t, eval: e)
    }

    /// Continues the run in `run` (same data, a model of the same shape).
    public init(resuming run: URL, config: ORPOConfig, model: CausalLM, train: [PreferenceTokens],
                eval: [PreferenceTokens]? = nil, padId: Int32 = 0) throws {
        let (t, e) = try Self.prepare(config: config, model: model, train: train, eval: eval, padId: padId)
        self.config = config
        objective = ORPOObjective(model: model, beta: config.beta)
        loop = try TrainingLoop.resume(from: run, objective: objective, train: t, eval: e)
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try loop.run() }

    private static func prepare(config: ORPOConfig, model: CausalLM, train: [PreferenceTokens], eval: [PreferenceTokens]?,
                                padId: Int32) throws -> (TrainingData<PreferenceBatch>, TrainingData<PreferenceBatch>?) {
        try config.validate()
        var trainSet = train, evalSet = eval
        if evalSet == nil, let size = config.preference.evalSize {
            (trainSet, evalSet) = try DataOrder.trainEvalSplit(train, eval: size, seed: config.training.dataSeed)
        }
        try PreferencePairs.validate(trainSet, set: "training")
        if let evalSet { try PreferencePairs.validate(evalSet, set: "eval") }
        if let lora = config.preference.lora, model.adapterConfig == nil { try model.applyLoRA(lora, seed: config.training.seed) }
        let m = PreferencePairs.lengthLimit(config.training.maxLength, model: model.config)
        return (PreferencePairs.data(trainSet, maxLength: m, padId: padId),
                evalSet.map { PreferencePairs.data($0, maxLength: m, padId: padId) })
    }
}
