import ArgumentParser
import Foundation
import TetherAlign
import TetherLM
import TetherTokenizers

/// `tether prm train|score`: process reward models on TRL's stepwise data.
struct PRMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prm",
        abstract: "Train a process reward model on prompt+completions+labels records (one label per step), and score steps with it.",
        subcommands: [TrainCommand.self, ScoreCommand.self])

    /// Every stepwise record of `path` tokenized (records with no step within `maxLength` are an error naming them).
    static func examples(_ path: String, tokenizer: URL, separator: String, maxLength: Int) throws -> [PRMTokens] {
        let tok = try TetherTokenizers.Tokenizer(tokenizerJSON: tokenizer)
        let records = try DatasetLoader.load(StepwiseSupervisionExample.self, from: URL(fileURLWithPath: path)).examples
        return try records.enumerated().map { i, e in
            let t = PRMTokens(e, tokenizer: tok, separator: separator, maxLength: maxLength)
            guard !t.stepEnds.isEmpty else {
                throw DatasetError(field: "completions", "no step fits in \(maxLength) tokens after the prompt", file: path, item: i)
            }
            return t
        }
    }

    /// `tether prm train`.
    struct TrainCommand: TrainingCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a process reward model (a 2-way head at each step's last token); prints and saves the held-out step eval_accuracy in RUN/metrics.json.")

        @OptionGroup var training: TrainingOptions

        @Option(help: "The model folder to start from (a causal LM gets a fresh 2-way head). Required.")
        var model: String

        @Option(help: "Training data, JSONL or JSON: prompt + completions (list of steps) + labels (list of bools). Required.")
        var data: String

        @Option(help: "Held-out records in the same format (default: eval_size of the data, 0.1 when the config leaves it unset).")
        var evalData: String?

        @Option(help: "Text after each step; its last token is where the step is scored (step_separator; default: a newline).")
        var stepSeparator: String?

        @Option(help: "Train only on each record's last step, true or false (train_on_last_step_only; default: false).")
        var trainOnLastStepOnly: Bool?

        /// The effective config: the file, the PRM defaults where it is silent, then the flags.
        func effectiveConfig() throws -> PRMConfig {
            var c = try ConfigFile.load(PRMConfig.self, from: training.config, empty: PRMConfig()) { c, keys in
                if !keys.contains("learning_rate") { c.training.learningRate = 1e-5 }
                if !keys.contains("eval_size") { c.evalSize = .fraction(0.1) }
            }
            training.apply(to: &c.training)
            if let stepSeparator { c.stepSeparator = stepSeparator }
            if let trainOnLastStepOnly { c.trainOnLastStepOnly = trainOnLastStepOnly }
            try c.validate()
            return c
        }

        /// Trains; returns the run folder and its last checkpoint.
        @discardableResult
        func train() throws -> (run: URL, checkpoint: URL?) {
            var config = try effectiveConfig()
            let tokURL = try tokenizerFile(model)
            let shape = try TransformerConfig(contentsOf: URL(fileURLWithPath: model).appendingPathComponent("config.json"))
            let m = PreferencePairs.lengthLimit(config.training.maxLength, model: shape)
            let all = try PRMCommand.examples(data, tokenizer: tokURL, separator: config.stepSeparator, maxLength: m)
            var evalSet = try evalData.map { try PRMCommand.examples($0, tokenizer: tokURL, separator: config.stepSeparator, maxLength: m) }
            var trainSet = all
            if evalSet == nil, let size = config.evalSize {
                (trainSet, evalSet) = try DataOrder.trainEvalSplit(all, eval: size, seed: config.training.dataSeed)
            }
            let saved = config
            config.evalSize = nil
            let scorer = try ScoreModel(contentsOf: URL(fileURLWithPath: model), labels: 2, requireHead: false, seed: config.training.seed)
            let pad = RunFiles.eosId(try TetherTokenizers.Tokenizer(tokenizerJSON: tokURL)) ?? 0
            let trainer = try PRMTrainer(config: config, model: scorer, train: trainSet, eval: evalSet, padId: pad)
            let run = trainer.loop.runDirectory
            try RunFiles.saveEffectiveConfig(saved, run: run)
            try trainer.train()
            try RunFiles.copyTokenizer(tokURL, into: run)
            let last = try Metrics.read(run.appendingPathComponent("metrics.jsonl")).last ?? [:]
            var summary: [String: Any] = ["train_records": trainSet.count, "eval_records": evalSet?.count ?? 0]
            if let acc = last["eval_accuracy"] {
                summary["eval_accuracy"] = acc
                print("eval_accuracy: \(String(format: "%.4f", acc)) over the steps of \(evalSet?.count ?? 0) held-out records")
            }
            try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
                .write(to: run.appendingPathComponent("metrics.json"), options: .atomic)
            return (run, trainer.loop.lastCheckpoint)
        }
    }

    /// `tether prm score`.
    struct ScoreCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "score",
            abstract: "Print, per record, the probability that each step is correct: {\"step_scores\": [...]}.")

        @Option(help: "A process-reward-model folder (from tether prm train). Required.")
        var model: String

        @Option(help: "Stepwise records (prompt + completions; labels are read but not used). Required.")
        var data: String

        @Option(help: "Text after each step (default: a newline, as in training).")
        var stepSeparator = "\n"

        @Option(help: "Longest sequence in tokens; later steps are dropped (default: 1024).")
        var maxLength = 1024

        /// One JSON line per record.
        func outputLines() throws -> [String] {
            let tokURL = try tokenizerFile(model)
            let examples = try PRMCommand.examples(data, tokenizer: tokURL, separator: stepSeparator, maxLength: maxLength)
            let scorer = try ScoreModel(contentsOf: URL(fileURLWithPath: model), labels: 2)
            return try prmStepScores(model: scorer, examples: examples).map { s in
                String(decoding: try JSONSerialization.data(withJSONObject: ["step_scores": s.map(Double.init)]), as: UTF8.self)
            }
        }

        func run() throws { for l in try outputLines() { print(l) } }
    }
}
