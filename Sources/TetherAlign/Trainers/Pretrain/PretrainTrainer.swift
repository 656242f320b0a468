import Foundation
import Tether
import TetherLM

/// Pretraining: a causal LM on plain `text` (every token trained, EOS after each document), optionally packed.
/// The same objective and loop as SFT; only the data differ.
public final class PretrainTrainer {
    /// The settings (`completion_only_loss` and `assistant_only_loss` do not apply).
    public let config: SFTConfig
    /// The SFT machinery it runs on.
    public let sft: SFTTrainer

    /// A new pretraining run over `texts` tokenized by `tokenizer` (EOS appended when it has one).
    public init(config: TrainingConfig, model: CausalLM, tokenizer: ExampleTokenizer, texts: [String],
                evalTexts: [String]? = nil, padId: Int32 = 0) throws {
        self.config = Self.sftConfig(config)
        let tokenize = { try Self.tokenize($0, tokenizer, maxLength: config.maxLength) }
        sft = try SFTTrainer(config: self.config, model: model, train: tokenize(texts), eval: evalTexts.map(tokenize), padId: padId)
    }

    /// Continues the run in `run` (same texts and tokenizer, a model of the same shape; its weights are restored).
    public init(resuming run: URL, config: TrainingConfig, model: CausalLM, tokenizer: ExampleTokenizer, texts: [String],
                evalTexts: [String]? = nil, padId: Int32 = 0) throws {
        self.config = Self.sftConfig(config)
        let tokenize = { try Self.tokenize($0, tokenizer, maxLength: config.maxLength) }
        sft = try SFTTrainer(resuming: run, config: self.config, model: model, train: tokenize(texts),
                             eval: evalTexts.map(tokenize), padId: padId)
    }

    /// Every token trains.
    static func sftConfig(_ training: TrainingConfig) -> SFTConfig {
        var c = SFTConfig(training: training)
        c.completionOnlyLoss = false
        return c
    }

    /// Plain texts as examples trained on every token (EOS appended when the tokenizer has one).
    static func tokenize(_ texts: [String], _ tokenizer: ExampleTokenizer, maxLength: Int) throws -> [TokenizedExample] {
        var tok = tokenizer
        tok.assistantOnlyLoss = false
        tok.maxLength = maxLength
        return try texts.map { try tok.tokenize(LanguageModelingExample(.text($0))) }
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try sft.train() }
}
