import Foundation
import Tether
import TetherLM
import TetherNN

/// The reference policy of DPO and KTO: a frozen model, or the policy itself with its LoRA adapters switched off.
/// Scores without gradients, in evaluation mode (no dropout), through ``CausalLM/sequenceLogProbs(_:reduction:chunkRows:)``.
public final class ReferenceModel {
    /// The model that computes the scores.
    public let model: CausalLM
    /// Whether scoring switches the model's adapters off (the policy doubling as its own reference).
    public let adaptersOff: Bool

    /// A frozen model as the reference (e.g. ``frozenCopy(of:)``).
    public init(frozen model: CausalLM) {
        model.freeze()
        model.eval()
        self.model = model
        adaptersOff = false
    }

    /// The policy with its adapters switched off as the reference: no second copy of the weights.
    public init(adaptersOf policy: CausalLM) {
        model = policy
        adaptersOff = true
    }

    /// A deep copy of `model`'s weights (its adapters, if any, are not copied), frozen, as the reference.
    public static func frozenCopy(of model: CausalLM) throws -> ReferenceModel {
        let copy = CausalLM(config: model.config, seed: 0)
        let weights = model.stateDict().filter { !LoRA.isAdapterParameter($0.key) }
        try copy.load(stateDict: weights)
        return ReferenceModel(frozen: copy)
    }

    /// Sequence log-probs of each row of `batch` under the reference: (B).
    public func logProbs(_ batch: CompletionBatch, reduction: SequenceReduction) -> Tensor {
        noGrad {
            guard adaptersOff else { return model.sequenceLogProbs(batch, reduction: reduction).detach() }
            let wasTraining = model.isTraining
            model.eval()
            defer { model.train(wasTraining) }
            return model.withAdaptersDisabled { model.sequenceLogProbs(batch, reduction: reduction).detach() }
        }
    }

    /// Sequence log-probs of many (prompt, completion) pairs, `batchSize` at a time, in order.
    public func logProbs(_ pairs: [(prompt: [Int32], completion: [Int32])], reduction: SequenceReduction,
                         batchSize: Int = 16, padId: Int32 = 0) -> [Float] {
        stride(from: 0, to: pairs.count, by: batchSize).flatMap { start in
            logProbs(CompletionBatch(pairs: Array(pairs[start..<min(start + batchSize, pairs.count)]), padId: padId),
                     reduction: reduction).scalars()
        }
    }
}

/// Reference log-probs computed once and kept in the run folder (`reference_logps.json`), so a resumed run reuses
/// them instead of loading the reference again.
public enum ReferenceCache {
    /// The file name in the run folder.
    public static let fileName = "reference_logps.json"

    /// Writes named arrays of log-probs (e.g. `train_chosen`) into `run`.
    public static func write(_ values: [String: [Float]], run: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(values).write(to: run.appendingPathComponent(fileName), options: .atomic)
    }

    /// Reads the arrays written by ``write(_:run:)``, or nil when the run has none.
    public static func read(run: URL) throws -> [String: [Float]]? {
        let url = run.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try JSONDecoder().decode([String: [Float]].self, from: Data(contentsOf: url))
    }
}
