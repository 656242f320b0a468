import ArgumentParser
import Foundation
import TetherAlign
import TetherLM
import TetherTokenizers
import Yams

/// A config file that cannot be used: names the file, the line when known, and the field.
struct ConfigFileError: Error, CustomStringConvertible {
    /// The YAML file.
    var file: String
    /// 1-based line of the offending key or value, when known.
    var line: Int?
    /// The TRL key at fault, when known.
    var field: String?
    /// What is wrong and what was expected.
    var message: String

    /// `FILE:LINE: field 'KEY': MESSAGE`.
    var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let field { s += "field '\(field)': " }
        return s + message
    }
}

/// Reads `--config FILE.yaml` into a command's Codable config (TRL key names).
enum ConfigFile {
    /// The config in `path` (nil: an empty config), with `defaults` applied to the keys the file leaves out.
    static func load<C: Codable>(_ type: C.Type, from path: String?, empty: C,
                                   defaults: (inout C, _ presentKeys: Set<String>) -> Void = { _, _ in }) throws -> C {
        guard let path else {
            var c = empty
            defaults(&c, [])
            return c
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigFileError(file: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        let node: Node
        do { node = try Yams.compose(yaml: text) ?? Node.mapping([:]) } catch let error as YamlError {
            throw ConfigFileError(file: path, line: line(of: error), message: "not valid YAML: \(error)")
        }
        guard let mapping = node.mapping else {
            throw ConfigFileError(file: path, line: node.mark?.line, message: "expected a mapping of TRL keys (e.g. learning_rate: 0.001)")
        }
        var keyLines: [String: Int] = [:]
        for (k, _) in mapping { if let s = k.string { keyLines[s] = k.mark?.line } }
        let known = try knownKeys(empty)
        for (k, _) in mapping {
            guard let name = k.string, !known.contains(name) else { continue }
            throw ConfigFileError(file: path, line: k.mark?.line, field: name,
                                  message: "unknown key; known keys: \(known.sorted().joined(separator: ", "))")
        }
        var config: C
        do { config = try YAMLDecoder().decode(C.self, from: text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "{}" : text) } catch let error as DecodingError {
            let (field, why) = explain(error)
            var line = field.flatMap { keyLines[$0] }
            if case .dataCorrupted(let ctx) = error, let yaml = ctx.underlyingError as? YamlError { line = Self.line(of: yaml) }
            throw ConfigFileError(file: path, line: line, field: field, message: why)
        } catch let TrainingError.badConfig(field, why) {
            throw ConfigFileError(file: path, line: keyLines[field], field: field, message: why)
        }
        defaults(&config, Set(keyLines.keys))
        return config
    }

    /// The keys a config writes, which are the keys a file may set.
    static func knownKeys<C: Encodable>(_ config: C) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config))
        return Set((object as? [String: Any])?.keys.map { $0 } ?? [])
    }

    /// The field a decoding error is about and a sentence saying what was expected.
    static func explain(_ error: DecodingError) -> (field: String?, why: String) {
        func key(_ path: [CodingKey]) -> String? { path.first?.stringValue }
        switch error {
        case .typeMismatch(let type, let ctx):
            return (key(ctx.codingPath), "expected \(describe(type)) (\(ctx.debugDescription))")
        case .valueNotFound(let type, let ctx):
            return (key(ctx.codingPath), "expected \(describe(type)), got nothing")
        case .keyNotFound(let k, let ctx):
            return (k.stringValue, "required key missing (\(ctx.debugDescription))")
        case .dataCorrupted(let ctx):
            if let yaml = ctx.underlyingError as? YamlError { return (key(ctx.codingPath), "not valid YAML: \(yaml)") }
            if case .badConfig(let field, let why)? = ctx.underlyingError as? TrainingError { return (field, why) }
            return (key(ctx.codingPath), ctx.debugDescription)
        @unknown default:
            return (nil, "\(error)")
        }
    }

    /// A reader's name for a Swift type.
    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type, is Int?.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default: return "\(type)"
        }
    }

    /// The line a Yams error points at.
    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): return mark.line
        case .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }
}

/// Training flags shared by `pretrain` and `sft`. Each one overrides the config file only when given on the command line.
struct TrainingOptions: ParsableArguments {
    @Option(help: "YAML config with TRL key names (e.g. `learning_rate: 0.001`); the flags below override it. Default: none (built-in defaults).")
    var config: String?

    @Option(help: "Run name; the run folder is OUTPUT_DIR/RUN_NAME and must not exist (run_name; default: run).")
    var runName: String?

    @Option(help: "Folder holding run folders (output_dir; default: runs).")
    var outputDir: String?

    @Option(help: "Optimizer steps to take (max_steps; default: as many as --num-train-epochs needs).")
    var maxSteps: Int?

    @Option(help: "Passes over the training data when --max-steps is unset (num_train_epochs; default: 1).")
    var numTrainEpochs: Double?

    @Option(help: "Rows per forward/backward pass (per_device_train_batch_size; default: 8).")
    var perDeviceTrainBatchSize: Int?

    @Option(help: "Micro-batches per optimizer step (gradient_accumulation_steps; default: 1).")
    var gradientAccumulationSteps: Int?

    @Option(help: "Peak learning rate (learning_rate; default: 1e-3 for pretrain, 2e-5 for sft, 1e-5 for reward train and prm train, 1e-6 for dpo, kto and orpo as TRL).")
    var learningRate: Float?

    @Option(help: "Decay after warm-up: constant, linear or cosine (lr_scheduler_type; default: linear).")
    var lrSchedulerType: TrainingConfig.Schedule?

    @Option(help: "Steps of linear warm-up (warmup_steps; default: 0).")
    var warmupSteps: Int?

    @Option(help: "Evaluate every N steps (eval_steps; default: only at the end, when there is eval data).")
    var evalSteps: Int?

    @Option(help: "Save a checkpoint every N steps (save_steps; default: 500, and always at the end).")
    var saveSteps: Int?

    @Option(help: "Write a metrics line every N steps (logging_steps; default: 1).")
    var loggingSteps: Int?

    @Option(help: "Seed of initialisation, dropout and sampling (seed; default: 42).")
    var seed: UInt64?

    @Option(help: "Seed of the data order (data_seed; default: 42).")
    var dataSeed: UInt64?

    @Option(help: "Longest sequence in tokens; longer ones are truncated (max_length; default: 1024).")
    var maxLength: Int?

    @Option(help: "Pack several sequences per row, true or false (packing; default: false).")
    var packing: Bool?

    @Option(help: "Run a step's micro-batches at the same time, one per thread, true or false: faster for small models, whose ops are too small to split across threads; pretraining, SFT, reward models and DPO (unless its reference is the policy with adapters off, scored on the fly), without dropout (concurrent_micro_batches; default: false).")
    var concurrentMicroBatches: Bool?

    @Flag(help: "Skip malformed records of the data files, printing how many and the first errors (default: stop at the first bad record, naming its file, line and field).")
    var skipBadRecords = false

    /// How the data files are read.
    var loadOptions: LoadOptions { LoadOptions(skipBadRecords: skipBadRecords) }

    /// The config file and training flags given, which `--resume` refuses (a resumed run keeps its saved config).
    var given: [String] {
        let flags: [(String, Bool)] = [
            ("--config", config != nil), ("--run-name", runName != nil), ("--output-dir", outputDir != nil),
            ("--max-steps", maxSteps != nil), ("--num-train-epochs", numTrainEpochs != nil),
            ("--per-device-train-batch-size", perDeviceTrainBatchSize != nil),
            ("--gradient-accumulation-steps", gradientAccumulationSteps != nil), ("--learning-rate", learningRate != nil),
            ("--lr-scheduler-type", lrSchedulerType != nil), ("--warmup-steps", warmupSteps != nil),
            ("--eval-steps", evalSteps != nil), ("--save-steps", saveSteps != nil), ("--logging-steps", loggingSteps != nil),
            ("--seed", seed != nil), ("--data-seed", dataSeed != nil), ("--max-length", maxLength != nil),
            ("--packing", packing != nil), ("--concurrent-micro-batches", concurrentMicroBatches != nil)]
        return flags.filter(\.1).map(\.0)
    }

    /// Throws if `--resume` comes with a config file or training flags, which it would otherwise silently ignore.
    func refuseWithResume(_ resume: String?) throws {
        guard resume != nil, !given.isEmpty else { return }
        throw ValidationError("--resume continues with the run's saved config; drop \(given.joined(separator: ", "))")
    }

    /// Writes the flags that were given over `c`.
    func apply(to c: inout TrainingConfig) {
        if let runName { c.runName = runName }
        if let outputDir { c.outputDir = outputDir }
        if let maxSteps { c.maxSteps = maxSteps }
        if let numTrainEpochs { c.epochs = numTrainEpochs }
        if let perDeviceTrainBatchSize { c.microBatchSize = perDeviceTrainBatchSize }
        if let gradientAccumulationSteps { c.gradientAccumulationSteps = gradientAccumulationSteps }
        if let learningRate { c.learningRate = learningRate }
        if let lrSchedulerType { c.schedule = lrSchedulerType }
        if let warmupSteps { c.warmupSteps = warmupSteps }
        if let evalSteps { c.evalSteps = evalSteps }
        if let saveSteps { c.saveSteps = saveSteps }
        if let loggingSteps { c.loggingSteps = loggingSteps }
        if let seed { c.seed = seed }
        if let dataSeed { c.dataSeed = dataSeed }
        if let maxLength { c.maxLength = maxLength }
        if let packing { c.packing = packing }
        if let concurrentMicroBatches { c.concurrentMicroBatches = concurrentMicroBatches }
    }
}

extension TrainingConfig.Schedule: ExpressibleByArgument {}

/// Helpers shared by the training commands.
enum RunFiles {
    /// Writes `config` as the run's `training_config.json` (the effective config: file, then flags).
    static func saveEffectiveConfig<C: Encodable>(_ config: C, run: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: run.appendingPathComponent("training_config.json"), options: .atomic)
    }

    /// Copies `tokenizer.json` into the run folder and each checkpoint lacking one, so any of them loads as a model folder.
    static func copyTokenizer(_ tokenizerJSON: URL, into run: URL) throws {
        let fm = FileManager.default
        let targets = [run] + Checkpoints.list(in: run).map(\.url)
        for dir in targets {
            let dest = dir.appendingPathComponent("tokenizer.json")
            if !fm.fileExists(atPath: dest.path) { try fm.copyItem(at: tokenizerJSON, to: dest) }
        }
    }

    /// The config a run folder saved (its training_config.json), for `--resume`.
    static func savedConfig<C: Decodable>(_ type: C.Type, run: URL) throws -> C {
        let url = run.appendingPathComponent("training_config.json")
        guard let data = try? Data(contentsOf: url) else { throw ValidationError("--resume: no run at \(run.path) (missing \(url.path))") }
        return try JSONDecoder().decode(C.self, from: data)
    }

    /// The run folder named by a config.
    static func folder(_ c: TrainingConfig) -> URL {
        URL(fileURLWithPath: c.outputDir).appendingPathComponent(c.runName)
    }

    /// Every record of a data file; prints the load report when records were skipped.
    static func load(_ path: String, options: LoadOptions) throws -> [AnyExample] {
        let loaded = try DatasetLoader.load(URL(fileURLWithPath: path), options: options)
        printSkipped(loaded.report)
        return loaded.examples
    }

    /// Prints a load report on standard error when it skipped records.
    static func printSkipped(_ report: LoadReport) {
        if report.skipped > 0 { FileHandle.standardError.write(Data((report.description + "\n").utf8)) }
    }

    /// The id of the tokenizer's end-of-text token, if it has a known one.
    static func eosId(_ tokenizer: Tokenizer) -> Int32? {
        for name in ["<|endoftext|>", "</s>", "<|im_end|>", "<eos>"] { if let id = tokenizer.tokenToId(name) { return id } }
        return nil
    }
}

/// A command that trains a model into a run folder (`pretrain`, `sft`).
protocol TrainingCommand: ParsableCommand {
    /// Trains; returns the run folder and its last checkpoint.
    func train() throws -> (run: URL, checkpoint: URL?)
}

extension TrainingCommand {
    /// Trains and prints the run folder and the checkpoint to use as the next `--model`.
    func run() throws {
        let outcome = try train()
        print("run: \(outcome.run.path)")
        if let checkpoint = outcome.checkpoint { print("model: \(checkpoint.path)") }
    }
}
