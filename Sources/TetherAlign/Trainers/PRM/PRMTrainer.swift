import Foundation
import Tether
import TetherLM
import TetherNN
import TetherTokenizers

/// A stepwise example tokenized: prompt, then each step followed by the separator; a label at each step's last token.
public struct PRMTokens: Sendable, Equatable {
    /// Token ids.
    public var ids: [Int32]
    /// Position of the last token of each step's separator (where the step is scored).
    public var stepEnds: [Int]
    /// Whether each step is correct.
    public var labels: [Bool]

    /// An example.
    public init(ids: [Int32], stepEnds: [Int], labels: [Bool]) {
        precondition(stepEnds.count == labels.count && stepEnds.allSatisfy { $0 < ids.count }, "PRMTokens: bad step ends")
        self.ids = ids
        self.stepEnds = stepEnds
        self.labels = labels
    }

    /// Tokenizes `prompt`, then each step + `separator`, as TRL's `PRMTrainer` does; steps past `maxLength` tokens are dropped.
    public init(_ example: StepwiseSupervisionExample, tokenizer: Tokenizer, separator: String, maxLength: Int) {
        var ids = tokenizer.encode(example.prompt)
        var ends: [Int] = [], labels: [Bool] = []
        for (step, label) in zip(example.completions, example.labels) {
            let s = tokenizer.encode(step + separator, addSpecialTokens: false)
            guard !s.isEmpty, ids.count + s.count <= maxLength else { break }
            ids += s
            ends.append(ids.count - 1)
            labels.append(label)
        }
        self.init(ids: ids, stepEnds: ends, labels: labels)
    }
}

/// A batch of stepwise examples: (B, S) ids, mask, and (B, S) targets (1 correct, 0 wrong, -100 elsewhere).
public struct PRMBatch {
    /// Right-padded sequences.
    public var sequences: ScoreBatch
    /// (B, S) step labels at step ends, -100 elsewhere.
    public var targets: IndexTensor
    /// Scored steps.
    public var steps: Int
    /// The examples' indices.
    public var rows: [Int]
}

/// Per-step probabilities that each step is correct: softmax of the 2-way head at each step end, without gradients.
public func prmStepScores(model: ScoreModel, examples: [PRMTokens], padId: Int32 = 0) -> [[Float]] {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    return noGrad {
        examples.map { e in
            let b = ScoreBatch([e.ids], padId: padId)
            let p = model.tokenScores(b.ids).softmax(axis: -1).scalars()   // (1, T, 2)
            return e.stepEnds.map { p[$0 * 2 + 1] }
        }
    }
}

/// The process reward model's part of the loop: cross-entropy of the 2-way token head at step ends; `accuracy`.
public final class PRMObjective: TrainingObjective {
    /// The scorer (2 labels: wrong, correct).
    public let model: ScoreModel

    /// An objective training `model`.
    public init(model: ScoreModel) {
        precondition(model.labels == 2, "PRMObjective: the head needs 2 labels (wrong, correct), has \(model.labels)")
        self.model = model
    }

    /// The scorer.
    public var module: Module { model }
    /// Scored steps.
    public func units(in batch: PRMBatch) -> Int { batch.steps }
    /// The examples' indices.
    public func describe(_ batch: PRMBatch) -> String { "examples " + batch.rows.map(String.init).joined(separator: ", ") }

    /// Σ cross-entropy over scored steps, with correct-prediction counts.
    public func loss(_ batch: PRMBatch) -> ObjectiveOutput {
        let logits = model.tokenScores(batch.sequences.ids, attentionMask: batch.sequences.attentionMask)   // (B, S, 2)
        let sum = Tensor.crossEntropy(logits: logits, targets: batch.targets, reduction: .sum)
        let l = logits.detach().scalars(), t = batch.targets.values
        var correct = 0
        for (i, target) in t.enumerated() where target != -100 {
            if (l[2 * i + 1] > l[2 * i] ? 1 : 0) == target { correct += 1 }
        }
        return ObjectiveOutput(lossSum: sum, units: batch.steps,
                               inputTokens: Int(batch.sequences.attentionMask.scalars().reduce(0, +)),
                               metricSums: ["accuracy": Double(correct)])
    }

    /// The scorer in HF layout.
    public func saveModel(to folder: URL) throws { try model.save(to: folder) }
    /// Loads what ``saveModel(to:)`` wrote.
    public func loadModel(from folder: URL) throws { try Checkpoint.load(into: model, family: model.config.family, from: folder) }
}

/// Process-reward-model training (TRL's `PRMTrainer`) on the shared loop.
public final class PRMTrainer {
    /// The settings.
    public let config: PRMConfig
    /// The scorer and its loss.
    public let objective: PRMObjective
    /// The loop running it.
    public let loop: TrainingLoop<PRMObjective>

    /// A new run (eval: a given set, else `eval_size` examples held out with the data seed).
    public init(config: PRMConfig, model: ScoreModel, train: [PRMTokens], eval: [PRMTokens]? = nil, padId: Int32 = 0) throws {
        try config.validate()
        var trainSet = train, evalSet = eval
        if evalSet == nil, let size = config.evalSize {
            (trainSet, evalSet) = try DataOrder.trainEvalSplit(train, eval: size, seed: config.training.dataSeed)
        }
        func make(_ set: [PRMTokens], _ name: String) throws -> TrainingData<PRMBatch> {
            guard !set.isEmpty else { throw TrainingError.noData("the \(name) set has no examples") }
            if let i = set.firstIndex(where: { $0.stepEnds.isEmpty }) {
                throw TrainingError.noData("\(name) example \(i) has no step within max_length")
            }
            let lastOnly = config.trainOnLastStepOnly
            return TrainingData(count: set.count) { rows in
                let seqs = ScoreBatch(rows.map { set[$0].ids }, padId: padId)
                let s = seqs.ids.shape[1]
                var targets = [Int32](repeating: -100, count: rows.count * s), steps = 0
                for (r, row) in rows.enumerated() {
                    let e = set[row]
                    for (k, (end, label)) in zip(e.stepEnds, e.labels).enumerated() where !lastOnly || k == e.stepEnds.count - 1 {
                        targets[r * s + end] = label ? 1 : 0
                        steps += 1
                    }
                }
                return PRMBatch(sequences: seqs, targets: IndexTensor(targets, shape: [rows.count, s]), steps: steps, rows: rows)
            }
        }
        self.config = config
        objective = PRMObjective(model: model)
        loop = try TrainingLoop(config: config.training, objective: objective, train: try make(trainSet, "training"),
                                eval: try evalSet.map { try make($0, "eval") })
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try loop.run() }
}
