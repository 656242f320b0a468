import Foundation
import Tether
import TetherLM
import TetherNN

/// A preference pair as two whole sequences (prompt + completion) for a reward model, with its optional margin.
public struct RewardPair: Sendable, Equatable {
    /// Prompt + chosen completion.
    public var chosen: [Int32]
    /// Prompt + rejected completion.
    public var rejected: [Int32]
    /// How much better `chosen` is (the record's `margin` column), if given.
    public var margin: Float?

    /// A pair.
    public init(chosen: [Int32], rejected: [Int32], margin: Float? = nil) {
        self.chosen = chosen
        self.rejected = rejected
        self.margin = margin
    }

    /// A tokenized preference pair as whole sequences, each cut to its first `maxLength` tokens.
    public init(_ tokens: PreferenceTokens, margin: Float? = nil, maxLength: Int) {
        self.init(chosen: Array((tokens.prompt + tokens.chosen).prefix(maxLength)),
                  rejected: Array((tokens.prompt + tokens.rejected).prefix(maxLength)), margin: margin)
    }
}

/// Right-padded sequences for a scorer: (B, S) ids and mask.
public struct ScoreBatch: Sendable {
    /// (B, S) ids, pads hold the pad id.
    public var ids: IndexTensor
    /// (B, S) 1 for real tokens.
    public var attentionMask: Tensor

    /// Right-pads `sequences` (each non-empty).
    public init(_ sequences: [[Int32]], padId: Int32) {
        precondition(!sequences.isEmpty && sequences.allSatisfy { !$0.isEmpty }, "ScoreBatch: empty batch or sequence")
        let s = sequences.map(\.count).max()!
        ids = IndexTensor(sequences.flatMap { $0 + [Int32](repeating: padId, count: s - $0.count) }, shape: [sequences.count, s])
        attentionMask = Tensor(sequences.flatMap { [Float](repeating: 1, count: $0.count) + [Float](repeating: 0, count: s - $0.count) },
                               shape: [sequences.count, s])
    }
}

/// A reward-model batch: chosen and rejected sequences in one forward.
public struct RewardBatch {
    /// (2B) rows: the chosen sequences, then the rejected ones.
    public var sequences: ScoreBatch
    /// (B) margins, when every pair of the batch has one (else nil).
    public var margins: Tensor?
    /// The pairs' indices.
    public var rows: [Int]
}

/// Scalar rewards of sequences, `batchSize` at a time, without gradients, in evaluation mode: (N).
public func rewardScores(model: ScoreModel, sequences: [[Int32]], padId: Int32 = 0, batchSize: Int = 16) -> [Float] {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    return noGrad {
        stride(from: 0, to: sequences.count, by: batchSize).flatMap { start in
            let b = ScoreBatch(Array(sequences[start..<min(start + batchSize, sequences.count)]), padId: padId)
            return model(b.ids, attentionMask: b.attentionMask).scalars()              // (b, 1)
        }
    }
}

/// The reward model's part of the loop: Bradley–Terry loss on the scalar head, TRL's metrics.
public final class RewardObjective: TrainingObjective {
    /// The scorer trained.
    public let model: ScoreModel
    /// c of the centering term (nil: off).
    public let centerRewardsCoefficient: Float?

    /// An objective training `model`.
    public init(model: ScoreModel, centerRewardsCoefficient: Float? = nil) {
        self.model = model
        self.centerRewardsCoefficient = centerRewardsCoefficient
    }

    /// The scorer.
    public var module: Module { model }
    /// The loss reads the scorer only, so micro-batches may be scored at once.
    public var allowsConcurrentMicroBatches: Bool { true }
    /// Pairs in the batch.
    public func units(in batch: RewardBatch) -> Int { batch.rows.count }
    /// The pairs' indices.
    public func describe(_ batch: RewardBatch) -> String { "pairs " + batch.rows.map(String.init).joined(separator: ", ") }

    /// Σ Bradley–Terry loss over the pairs, with `accuracy`, `margin`, `mean_reward`, `min_reward`, `max_reward` sums.
    public func loss(_ batch: RewardBatch) -> ObjectiveOutput {
        let n = batch.rows.count
        let rewards = model(batch.sequences.ids, attentionMask: batch.sequences.attentionMask).reshape([2 * n])  // (2B)
        let chosen = rewards.slice(axis: 0, 0..<n), rejected = rewards.slice(axis: 0, n..<(2 * n))              // (B) each
        let losses = bradleyTerryLoss(chosen: chosen, rejected: rejected, margin: batch.margins,
                                      centerRewardsCoefficient: centerRewardsCoefficient)
        let tokens = Int(batch.sequences.attentionMask.scalars().reduce(0, +))
        return ObjectiveOutput(lossSum: losses.sum(), units: n, inputTokens: tokens,
                               metricSums: rewardMetricSums(chosen: chosen.detach().scalars(), rejected: rejected.detach().scalars()))
    }

    /// The scorer in HF layout (`score.weight`).
    public func saveModel(to folder: URL) throws { try model.save(to: folder) }
    /// Loads what ``saveModel(to:)`` wrote.
    public func loadModel(from folder: URL) throws { try Checkpoint.load(into: model, family: model.config.family, from: folder) }
}

/// Reward-model training (TRL's `RewardTrainer`) on the shared loop.
public final class RewardTrainer {
    /// The settings.
    public let config: RewardConfig
    /// The scorer and its loss.
    public let objective: RewardObjective
    /// The loop running it.
    public let loop: TrainingLoop<RewardObjective>

    /// A new run (eval: a given set, else `eval_size` pairs held out with the data seed).
    public init(config: RewardConfig, model: ScoreModel, train: [RewardPair], eval: [RewardPair]? = nil, padId: Int32 = 0) throws {
        let (t, e) = try Self.data(config: config, train: train, eval: eval, padId: padId)
        self.config = config
        objective = RewardObjective(model: model, centerRewardsCoefficient: config.centerRewardsCoefficient)
        loop = try TrainingLoop(config: config.training, objective: objective, train: t, eval: e)
    }

    /// Continues the run in `run` (same data, a scorer of the same shape).
    public init(resuming run: URL, config: RewardConfig, model: ScoreModel, train: [RewardPair], eval: [RewardPair]? = nil,
                padId: Int32 = 0) throws {
        let (t, e) = try Self.data(config: config, train: train, eval: eval, padId: padId)
        self.config = config
        objective = RewardObjective(model: model, centerRewardsCoefficient: config.centerRewardsCoefficient)
        loop = try TrainingLoop.resume(from: run, objective: objective, train: t, eval: e)
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try loop.run() }

    /// `pairs` resampled with replacement (same count), seeded: one bootstrap replicate for an ensemble member.
    public static func bootstrap<T>(_ pairs: [T], seed: UInt64) -> [T] {
        var rng = RandomGenerator(seed: seed)
        return pairs.indices.map { _ in pairs[rng.nextInt(below: pairs.count)] }
    }

    /// The training and evaluation pairs after the `eval_size` split (what ``init(config:model:train:eval:padId:)`` uses).
    public static func split(config: RewardConfig, train: [RewardPair], eval: [RewardPair]?) throws -> (train: [RewardPair], eval: [RewardPair]?) {
        guard eval == nil, let size = config.evalSize else { return (train, eval) }
        let (t, e) = try DataOrder.trainEvalSplit(train, eval: size, seed: config.training.dataSeed)
        return (t, e)
    }

    static func data(config: RewardConfig, train: [RewardPair], eval: [RewardPair]?,
                     padId: Int32) throws -> (TrainingData<RewardBatch>, TrainingData<RewardBatch>?) {
        try config.validate()
        let (trainSet, evalSet) = try split(config: config, train: train, eval: eval)
        for (name, set) in [("training", trainSet)] + (evalSet.map { [("eval", $0)] } ?? []) {
            guard !set.isEmpty else { throw TrainingError.noData("the \(name) set has no preference pairs") }
            if let i = set.firstIndex(where: { $0.chosen.isEmpty || $0.rejected.isEmpty }) {
                throw TrainingError.noData("\(name) pair \(i) has an empty chosen or rejected sequence")
            }
        }
        func make(_ set: [RewardPair]) -> TrainingData<RewardBatch> {
            TrainingData(count: set.count) { rows in
                let margins = rows.allSatisfy { set[$0].margin != nil }
                    ? Tensor(rows.map { set[$0].margin! }, shape: [rows.count]) : nil
                return RewardBatch(sequences: ScoreBatch(rows.map { set[$0].chosen } + rows.map { set[$0].rejected }, padId: padId),
                                   margins: margins, rows: rows)
            }
        }
        return (make(trainSet), evalSet.map(make))
    }
}
