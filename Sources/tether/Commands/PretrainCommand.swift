import ArgumentParser
import Foundation
import TetherAlign
import TetherLM
import TetherTokenizers

/// `tether pretrain`: a causal LM on plain `text` records, from a fresh model or a model folder.
struct PretrainCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain a causal LM on `text` records (every token trained); writes runs/NAME with checkpoints, metrics.jsonl and report.md.")

    @OptionGroup var training: TrainingOptions

    @Option(help: "Shape of a fresh GPT-2-style model: tiny (d 128, 2 layers), small (d 256, 4 layers) or a config.json file. Ignored with --model.")
    var modelConfig = "tiny"

    @Option(help: "Continue from this model folder instead of a fresh model (default: none).")
    var model: String?

    @Option(help: "Tokenizer folder or tokenizer.json (default: the --model folder's; required for a fresh model).")
    var tokenizer: String?

    @Option(help: "Training data, JSONL or JSON with a `text` field per record. Required.")
    var data: String

    @Option(help: "Evaluation data in the same format (default: none).")
    var evalData: String?

    @Option(help: "Continue the run in this folder (e.g. runs/NAME) from its newest checkpoint, with the same data and model shape; the run's saved config is used, so no --config or training flags (default: start a new run).")
    var resume: String?

    /// The effective training config: the file, pretraining's learning rate where the file is silent, then the flags.
    func effectiveConfig() throws -> TrainingConfig {
        var c = try ConfigFile.load(TrainingConfig.self, from: training.config, empty: TrainingConfig()) { c, keys in
            if !keys.contains("learning_rate") { c.learningRate = 1e-3 }
        }
        training.apply(to: &c)
        try c.validate()
        return c
    }

    /// Trains; returns the run folder and its last checkpoint.
    @discardableResult
    func train() throws -> (run: URL, checkpoint: URL?) {
        try training.refuseWithResume(resume)
        let config = try resume.map { try RunFiles.savedConfig(TrainingConfig.self, run: URL(fileURLWithPath: $0)) } ?? effectiveConfig()
        guard let tokPath = tokenizer ?? model else { throw ValidationError("--tokenizer: required when starting from a fresh model") }
        let tokURL = try tokenizerFile(tokPath)
        let tok = try Tokenizer(tokenizerJSON: tokURL)
        let eos = RunFiles.eosId(tok)
        let lm = try model.map { try CausalLM(contentsOf: URL(fileURLWithPath: $0)) }
            ?? CausalLM(config: try freshConfig(vocabSize: tok.vocabSize, eos: eos, maxLength: config.maxLength), seed: config.seed)
        let texts = try Self.texts(data, training.loadOptions)
        let evalTexts = try evalData.map { try Self.texts($0, training.loadOptions) }
        let exampleTokenizer = ExampleTokenizer(tokenizer: tok, eosId: eos)
        let pad = eos ?? 0
        let trainer: PretrainTrainer
        let run: URL
        if let resume {
            run = URL(fileURLWithPath: resume)
            trainer = try PretrainTrainer(resuming: run, config: config, model: lm, tokenizer: exampleTokenizer,
                                          texts: texts, evalTexts: evalTexts, padId: pad)
        } else {
            run = RunFiles.folder(config)
            trainer = try PretrainTrainer(config: config, model: lm, tokenizer: exampleTokenizer, texts: texts,
                                          evalTexts: evalTexts, padId: pad)
            try RunFiles.saveEffectiveConfig(config, run: run)
        }
        try trainer.train()
        try RunFiles.copyTokenizer(tokURL, into: run)
        return (run, trainer.sft.loop.lastCheckpoint)
    }

    /// The fresh model's config for `--model-config`.
    func freshConfig(vocabSize: Int, eos: Int32?, maxLength: Int) throws -> TransformerConfig {
        var c: TransformerConfig
        switch modelConfig {
        case "tiny": c = .gpt2(vocabSize: vocabSize, hiddenSize: 128, layers: 2, heads: 4, maxPositions: maxLength)
        case "small": c = .gpt2(vocabSize: vocabSize, hiddenSize: 256, layers: 4, heads: 4, maxPositions: maxLength)
        default:
            let url = URL(fileURLWithPath: modelConfig)
            do { c = try JSONDecoder().decode(TransformerConfig.self, from: Data(contentsOf: url)) } catch {
                throw ValidationError("--model-config: expected tiny, small or a readable config.json, got \(modelConfig) (\(error))")
            }
            guard c.vocabSize >= vocabSize else {
                throw ValidationError("--model-config: vocab_size \(c.vocabSize) is smaller than the tokenizer's \(vocabSize)")
            }
        }
        if let eos { c.eosTokenIds = [Int(eos)]; c.bosTokenId = Int(eos) }
        return c
    }

    /// The `text` of every record of a language-modelling file.
    static func texts(_ path: String, _ options: LoadOptions = LoadOptions()) throws -> [String] {
        let loaded = try DatasetLoader.load(LanguageModelingExample.self, from: URL(fileURLWithPath: path), options: options)
        RunFiles.printSkipped(loaded.report)
        return try loaded.examples.map { e in
            guard case .text(let s) = e.content else {
                throw ValidationError("\(path): pretraining takes `text` records, got `messages` (use tether sft)")
            }
            return s
        }
    }
}
