import Foundation
import Tether
import TetherLM
import TetherNN

/// The causal-LM objective shared by pretraining and SFT: next-token cross-entropy over trained labels,
/// with TRL's `entropy` and `mean_token_accuracy`.
public final class CausalLMObjective: TrainingObjective {
    /// The model trained.
    public let model: CausalLM
    /// Rows of the log-prob chunk (memory vs speed).
    public var chunkRows = 256

    /// An objective training `model`.
    public init(model: CausalLM) { self.model = model }

    /// The model, as the module the optimizer updates.
    public var module: Module { model }
    /// The loss reads the model only, so micro-batches may be scored at once.
    public var allowsConcurrentMicroBatches: Bool { true }

    /// Trained targets (labels not -100).
    public func units(in batch: Batch) -> Int { batch.trainedTokens }

    /// The example indices of each row, e.g. `examples 3, 7+9` (a packed row joins its members with +).
    public func describe(_ batch: Batch) -> String {
        "examples " + batch.members.map { $0.map(String.init).joined(separator: "+") }.joined(separator: ", ")
    }

    /// Σ −log p over trained targets (fused LM head), with correct-token and entropy sums.
    public func loss(_ batch: Batch) -> ObjectiveOutput {
        let hidden = model.hidden(batch.ids, attentionMask: batch.attentionMask, positions: batch.positions,
                                  segments: batch.segments)                                  // (B, T, C)
        let s = sftLoss(model: model, hidden: hidden, labels: batch.labels, chunkRows: chunkRows)
        let inputTokens = Int(batch.attentionMask.scalars().reduce(0, +))
        return ObjectiveOutput(lossSum: s.sum, units: s.count, inputTokens: inputTokens,
                               metricSums: ["mean_token_accuracy": Double(s.correct), "entropy": s.entropySum])
    }

    /// The model in HF layout, plus the PEFT adapter files when LoRA adapters are attached.
    public func saveModel(to folder: URL) throws {
        try model.save(to: folder)
        if model.adapterConfig != nil { try model.saveAdapter(to: folder) }
    }

    /// Loads the base weights, then the adapters if the folder has them (this replaces the adapter tensors).
    public func loadModel(from folder: URL) throws {
        try Checkpoint.load(into: model, family: model.config.family, from: folder)
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent(LoRAAdapterFile.configName).path) {
            try model.loadAdapter(from: folder)
        }
    }
}
