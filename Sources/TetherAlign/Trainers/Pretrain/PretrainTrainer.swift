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
        var c = SFTConfig(training: config)
        c.completionOnlyLoss = false
        self.config = c
        func tokenize(_ t: [String]) throws -> [TokenizedExample] {
            var tok = tokenizer
            tok.assistantOnlyLoss = false
            tok.maxLength = config.maxLength
            return try t.map { try tok.tokenize(LanguageModelingExample(.text($0))) }
        }
        sft = try SFTTrainer(config: c, model: model, train: tokenize(texts), eval: evalTexts.map(tokenize), padId: padId)
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try sft.train() }
}
