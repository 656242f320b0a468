import Foundation
import Tether
import TetherLM

/// Turns tokenized examples into the rows a causal-LM loop trains on: packed (best-fit decreasing) or one per row,
/// truncated to `maxLength`. Refuses examples with nothing to train, naming them.
public enum LMRows {
    /// Rows for `examples`; errors name examples by their index.
    public static func make(_ examples: [TokenizedExample], maxLength: Int, packing: Bool) throws(TrainingError) -> [SequenceRow] {
        guard !examples.isEmpty else { throw .noData("no examples") }
        let fitted = examples.map { $0.truncated(to: maxLength) }
        if let bad = fitted.firstIndex(where: { $0.trainedTokens == 0 }) {
            let n = fitted.filter { $0.trainedTokens == 0 }.count
            throw .allLabelsMasked(step: 0, batch: "example \(bad) (and \(n - 1) more) has no trained token after masking "
                                   + "and truncation to \(maxLength) tokens")
        }
        return packing ? Packing.pack(fitted, maxLength: maxLength) : fitted.enumerated().map { SequenceRow($1, index: $0) }
    }
}

/// Supervised fine-tuning (TRL's `SFTTrainer`): prompt-completion data with completion-only loss, conversations with
/// assistant-only loss, plain text with loss on every token, all on the shared ``TrainingLoop``.
public final class SFTTrainer {
    /// The settings.
    public let config: SFTConfig
    /// The model and its loss.
    public let objective: CausalLMObjective
    /// The loop running it.
    public let loop: TrainingLoop<CausalLMObjective>

    /// A new SFT run on tokenized examples (eval: a given set, else `evalSize` held out with the data seed).
    public init(config: SFTConfig, model: CausalLM, train: [TokenizedExample], eval: [TokenizedExample]? = nil,
                padId: Int32 = 0) throws {
        self.config = config
        objective = CausalLMObjective(model: model)
        let (t, e) = try Self.data(config: config, train: train, eval: eval, padId: padId)
        loop = try TrainingLoop(config: config.training, objective: objective, train: t, eval: e)
    }

    /// A new SFT run on TRL-format records, tokenized with `tokenizer` (its loss flags are set from `config`).
    public convenience init(config: SFTConfig, model: CausalLM, tokenizer: ExampleTokenizer, train: [AnyExample],
                            eval: [AnyExample]? = nil, padId: Int32 = 0) throws {
        var tok = tokenizer
        tok.completionOnlyLoss = config.completionOnlyLoss
        tok.assistantOnlyLoss = config.assistantOnlyLoss
        tok.maxLength = config.training.maxLength
        try self.init(config: config, model: model, train: train.map(tok.tokenize), eval: eval?.map(tok.tokenize), padId: padId)
    }

    /// Continues the run in `run` (pass the same data and a model of the same shape; its weights are restored).
    public init(resuming run: URL, config: SFTConfig, model: CausalLM, train: [TokenizedExample],
                eval: [TokenizedExample]? = nil, padId: Int32 = 0) throws {
        self.config = config
        objective = CausalLMObjective(model: model)
        let (t, e) = try Self.data(config: config, train: train, eval: eval, padId: padId)
        loop = try TrainingLoop.resume(from: run, objective: objective, train: t, eval: e)
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try loop.run() }

    /// Train and eval data for the loop.
    static func data(config: SFTConfig, train: [TokenizedExample], eval: [TokenizedExample]?,
                     padId: Int32) throws -> (TrainingData<Batch>, TrainingData<Batch>?) {
        var trainSet = train, evalSet = eval
        if evalSet == nil, let size = config.evalSize {
            (trainSet, evalSet) = try DataOrder.trainEvalSplit(train, eval: size, seed: config.training.dataSeed)
        }
        let collate = Collator(padId: padId)
        let rows = try LMRows.make(trainSet, maxLength: config.training.maxLength, packing: config.training.packing)
        let evalRows = try evalSet.map { try LMRows.make($0, maxLength: config.training.maxLength, packing: config.training.packing) }
        return (TrainingData(count: rows.count) { collate($0.map { rows[$0] }) },
                evalRows.map { r in TrainingData(count: r.count) { collate($0.map { r[$0] }) } })
    }
}
