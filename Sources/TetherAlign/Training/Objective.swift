import Foundation
import Tether
import TetherNN

/// What one micro-batch contributes to a step: a loss summed over its units, and metric sums over the same units.
public struct ObjectiveOutput {
    /// Σ loss over the micro-batch's units: a scalar with autograd.
    public var lossSum: Tensor
    /// Units the sums run over (trained tokens for language modelling, pairs for DPO).
    public var units: Int
    /// Input (non-pad) tokens seen, for `num_tokens` and tokens/s.
    public var inputTokens: Int
    /// Metric sums over the units (e.g. `mean_token_accuracy`: correct tokens); the loop divides by all units.
    public var metricSums: [String: Double]

    /// An output.
    public init(lossSum: Tensor, units: Int, inputTokens: Int, metricSums: [String: Double] = [:]) {
        self.lossSum = lossSum
        self.units = units
        self.inputTokens = inputTokens
        self.metricSums = metricSums
    }
}

/// A trainer's part of the loop: how to score a batch, and how to save and load its model.
///
/// The loop divides every micro-batch's `lossSum` by the units of the whole accumulated batch, so the gradient does
/// not depend on how a step's rows are split into micro-batches.
public protocol TrainingObjective: AnyObject {
    /// A batch of training rows.
    associatedtype Batch
    /// The module whose trainable parameters the optimizer updates.
    var module: Module { get }
    /// Units `loss` will sum over, counted without a forward pass.
    func units(in batch: Batch) -> Int
    /// Names the examples in a batch, for error messages.
    func describe(_ batch: Batch) -> String
    /// Forward pass: the loss summed over the batch's units, and metric sums.
    func loss(_ batch: Batch) -> ObjectiveOutput
    /// Writes the model into a checkpoint folder (Hugging Face layout).
    func saveModel(to folder: URL) throws
    /// Reads the model back from a checkpoint folder written by `saveModel`.
    func loadModel(from folder: URL) throws
    /// The objective's own generators (e.g. sampling), saved in checkpoints and restored on resume; dropout
    /// generators inside `module` are saved by the loop and need not be listed.
    var generators: [String: RandomGenerator] { get set }
    /// Whether `loss` may run on several micro-batches at once from different threads (`concurrent_micro_batches`):
    /// it reads shared state only.
    var allowsConcurrentMicroBatches: Bool { get }
}

extension TrainingObjective {
    /// Not unless the objective says so.
    public var allowsConcurrentMicroBatches: Bool { false }

    /// No generators of its own.
    public var generators: [String: RandomGenerator] {
        get { [:] }
        set {}
    }
}

/// Rows to train or evaluate on, by index; the loop picks the indices (seeded order, exact resume).
public struct TrainingData<Batch> {
    /// Number of rows.
    public var count: Int
    /// Builds the batch of the rows at these indices.
    public var batch: ([Int]) -> Batch

    /// Data of `count` rows.
    public init(count: Int, batch: @escaping ([Int]) -> Batch) {
        self.count = count
        self.batch = batch
    }
}
