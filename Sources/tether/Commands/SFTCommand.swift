import ArgumentParser
import Foundation
import TetherAlign
import TetherLM
import TetherTokenizers

/// `tether sft`: supervised fine-tuning of a model folder on TRL-format data.
struct SFTCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Fine-tune a model: prompt-completion data train on completions only, conversations on assistant turns only; writes runs/NAME.")

    @OptionGroup var training: TrainingOptions

    @Option(help: "The model folder (config.json, model.safetensors, tokenizer.json). Required.")
    var model: String

    @Option(help: "Training data, JSONL or JSON: text, messages or prompt+completion records. Required.")
    var data: String

    @Option(help: "Evaluation data in the same format (default: none, or eval_size records held out if the config sets it).")
    var evalData: String?

    @Option(help: "Train only on the completion of prompt-completion records, true or false (completion_only_loss; default: true).")
    var completionOnlyLoss: Bool?

    @Option(help: "Train only on assistant turns of conversations, true or false (assistant_only_loss; default: true here, unlike TRL; plain-text records are unaffected).")
    var assistantOnlyLoss: Bool?

    @Option(help: "Continue the run in this folder (e.g. runs/NAME) from its newest checkpoint, with the same data and model shape; the run's saved config is used, so no --config or training flags (default: start a new run).")
    var resume: String?

    /// The effective SFT config: the file, this command's defaults where the file is silent, then the flags.
    func effectiveConfig() throws -> SFTConfig {
        var c = try ConfigFile.load(SFTConfig.self, from: training.config, empty: SFTConfig()) { c, keys in
            if !keys.contains("assistant_only_loss") { c.assistantOnlyLoss = true }
        }
        training.apply(to: &c.training)
        if let completionOnlyLoss { c.completionOnlyLoss = completionOnlyLoss }
        if let assistantOnlyLoss { c.assistantOnlyLoss = assistantOnlyLoss }
        try c.training.validate()
        return c
    }

    /// Trains; returns the run folder and its last checkpoint.
    @discardableResult
    func train() throws -> (run: URL, checkpoint: URL?) {
        try training.refuseWithResume(resume)
        if resume != nil, completionOnlyLoss != nil || assistantOnlyLoss != nil {
            throw ValidationError("--resume continues with the run's saved config; drop --completion-only-loss and --assistant-only-loss")
        }
        let config = try resume.map { try RunFiles.savedConfig(SFTConfig.self, run: URL(fileURLWithPath: $0)) } ?? effectiveConfig()
        let tokURL = try tokenizerFile(model)
        let tok = try Tokenizer(tokenizerJSON: tokURL)
        let lm = try CausalLM(contentsOf: URL(fileURLWithPath: model))
        let exampleTokenizer = Self.exampleTokenizer(tok, config: config)
        let trainSet = try Self.tokenized(data, exampleTokenizer, training.loadOptions)
        let evalSet = try evalData.map { try Self.tokenized($0, exampleTokenizer, training.loadOptions) }
        let pad = RunFiles.eosId(tok) ?? 0
        let trainer: SFTTrainer
        let run: URL
        if let resume {
            run = URL(fileURLWithPath: resume)
            trainer = try SFTTrainer(resuming: run, config: config, model: lm, train: trainSet, eval: evalSet, padId: pad)
        } else {
            run = RunFiles.folder(config.training)
            trainer = try SFTTrainer(config: config, model: lm, train: trainSet, eval: evalSet, padId: pad)
            try RunFiles.saveEffectiveConfig(config, run: run)
        }
        try trainer.train()
        try RunFiles.copyTokenizer(tokURL, into: run)
        return (run, trainer.loop.lastCheckpoint)
    }

    /// The example tokenizer SFT uses: the tokenizer's chat template (ChatML if it has none), EOS, the loss flags.
    static func exampleTokenizer(_ tok: Tokenizer, config: SFTConfig) -> ExampleTokenizer {
        ExampleTokenizer(tokenizer: tok, template: ChatTemplate(for: tok) ?? ChatTemplate(style: .chatML),
                         eosId: RunFiles.eosId(tok), completionOnlyLoss: config.completionOnlyLoss,
                         assistantOnlyLoss: config.assistantOnlyLoss, maxLength: config.training.maxLength)
    }

    /// Every record of `path` tokenized with its loss mask; with `skipBadRecords`, records that fail to load or
    /// tokenize (e.g. an unknown role) are skipped and counted. `assistant_only_loss` applies to conversations only:
    /// plain-text records have no assistant turns to pick out.
    static func tokenized(_ path: String, _ tokenizer: ExampleTokenizer,
                          _ options: LoadOptions = LoadOptions()) throws -> [TokenizedExample] {
        var plain = tokenizer
        plain.assistantOnlyLoss = false
        var out: [TokenizedExample] = [], failed: [DatasetError] = []
        for (i, e) in try RunFiles.load(path, options: options).enumerated() {
            do throws(DatasetError) { out.append(try (isConversational(e) ? tokenizer : plain).tokenize(e)) } catch {
                var located = error
                located.file = path
                located.item = i  // the record's 0-based index among the loaded records
                guard options.skipBadRecords else { throw located }
                failed.append(located)
            }
        }
        if let first = failed.first {
            FileHandle.standardError.write(Data("\(path): \(failed.count) records skipped that could not be tokenized; first: \(first)\n".utf8))
        }
        return out
    }

    /// Whether a record holds messages rather than plain text.
    static func isConversational(_ e: AnyExample) -> Bool {
        switch e {
        case .languageModeling(let x): return x.content.isConversational
        case .promptCompletion(let x): return x.prompt.isConversational || x.completion.isConversational
        default: return false
        }
    }
}
