import Foundation
import Tether
import TetherLM
import TetherTokenizers

/// The whole pipeline from an empty folder: make the data, train a tokenizer, pretrain a tiny base model on arithmetic
/// facts in words, fine-tune it on the questions, and evaluate base and SFT on held-out problems; then (unless
/// `config.preference` is nil) chat SFT on the gold world, a reward model, DPO, and gold's table of base, SFT and DPO.
///
/// Everything goes into one new folder (`runs/quickstart` from the CLI): `data/` (with the world in `data/world/`),
/// `tokenizer/`, the run folders `pretrain/`, `sft/`, `chat_sft/`, `reward/`, `dpo/` (checkpoints, metrics, plots,
/// reports), the scored answers, `summary.json` and `report.md`.
public final class Quickstart {
    /// The settings.
    public let config: QuickstartConfig
    /// The folder everything is written into; it must not exist yet.
    public let folder: URL
    /// Progress of the training stages, and stage headings.
    public var progress = ProgressReporter()

    /// A quickstart into `folder`.
    public init(config: QuickstartConfig = QuickstartConfig(), folder: URL) {
        self.config = config
        self.folder = folder
    }

    /// Runs every stage and writes `summary.json` and `report.md`; throws, writing nothing, if `folder` exists.
    @discardableResult
    public func run() throws -> QuickstartSummary {
        try ExperimentFolder.create(folder, config: config)   // config.json from the start; summary.json repeats it
        var summary = QuickstartSummary(config: config)

        // 1. Data: problems with a held-out test set; pretraining states the training facts in words. The gold world
        // for the preference stages asks the same problems (its held-out ones from the test set).
        var clock = Date()
        heading(1, "data: arithmetic problems (\(config.tasks.map(\.name).joined(separator: ", ")))"
                + (config.preference == nil ? "" : " and the gold world"))
        let specs = config.tasks.enumerated().map { i, t in var s = t; s.seed = config.seed &+ UInt64(i); return s }
        var (train, test) = try ArithmeticData.generate(specs: specs, seed: config.seed)
        if let count = config.validationProblems { (train, test) = Self.validationSplit(train, count: count) }
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try ArithmeticData.write(train, to: data.appendingPathComponent("pretrain.jsonl"), format: .statement)
        try ArithmeticData.write(train, to: data.appendingPathComponent("train.jsonl"), format: .promptCompletion,
                                 completionPrefix: Self.completionPrefix)
        try ArithmeticData.write(test, to: data.appendingPathComponent("test.jsonl"), format: .promptCompletion,
                                 completionPrefix: Self.completionPrefix)
        let world = try config.preference.map { try self.world($0, arithmetic: (train, test)) }
        _ = try world?.write(into: data.appendingPathComponent("world"))
        summary.add(stage: "data", seconds: Date().timeIntervalSince(clock))

        // 2. Tokenizer: byte-level BPE with one token per digit, on as many arithmetic texts as the world has (the
        // arithmetic texts repeat a few words; more of them would only crowd out the world's words).
        clock = Date()
        heading(2, "tokenizer: byte-level BPE, vocab \(config.vocabSize)")
        let statements = train.map(\.statement)
        let corpus = train.prefix(Self.tokenizerProblems)
        let tokenizer = BPETrainer(vocabSize: config.vocabSize, specialTokens: [Self.endOfText], preTokenizer: .qwen2)
            .train(texts: corpus.map(\.statement) + corpus.map { $0.prompt + Self.completionPrefix + $0.answerText }
                       + (world?.sft.map { $0.prompt.text + $0.response.text } ?? []))
        let tokenizerFile = folder.appendingPathComponent("tokenizer/tokenizer.json")
        try FileManager.default.createDirectory(at: tokenizerFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try tokenizer.save(tokenizerJSON: tokenizerFile)
        summary.add(stage: "tokenizer", seconds: Date().timeIntervalSince(clock))

        // 3. Pretraining from random weights.
        let eos = tokenizer.tokenToId(Self.endOfText)!
        var modelConfig = TransformerConfig.gpt2(vocabSize: tokenizer.vocabSize, hiddenSize: config.hiddenSize,
                                                 layers: config.layers, heads: config.heads,
                                                 maxPositions: config.maxPositions)
        modelConfig.eosTokenIds = [Int(eos)]
        modelConfig.bosTokenId = Int(eos)
        let model = CausalLM(config: modelConfig, seed: config.seed)
        let examples = ExampleTokenizer(tokenizer: tokenizer, eosId: eos)
        heading(3, "pretrain: \(config.pretrain.maxSteps ?? 0) steps on \(statements.count) facts in words")
        let pretrainer = try PretrainTrainer(config: stageConfig(config.pretrain, name: "pretrain"), model: model,
                                             tokenizer: examples, texts: statements, padId: eos)
        pretrainer.sft.loop.progress = progress
        let base = try runStage(pretrainer.sft.loop, stage: "pretrain", into: &summary, tokenizer: tokenizerFile)

        // 4. The base model on held-out problems.
        let evalExamples = test.map(EvalExample.init)
        try evaluate(model, tokenizer, evalExamples, stage: "eval_base", model: "base", into: &summary)

        // 5. SFT: the questions, loss on the answer only; tasks with few problems repeated.
        let questions = try train.map {
            try examples.tokenize(PromptCompletionExample(prompt: .text($0.prompt), completion: .text(Self.completionPrefix + $0.answerText)))
        }
        let sftRows = zip(train, questions).flatMap { p, row in Array(repeating: row, count: config.repeats[p.task] ?? 1) }
        heading(5, "sft: \(config.sft.maxSteps ?? 0) steps on \(sftRows.count) questions (loss on answers only)")
        let sft = try SFTTrainer(config: SFTConfig(training: stageConfig(config.sft, name: "sft")), model: model,
                                 train: sftRows, padId: eos)
        sft.loop.progress = progress
        try runStage(sft.loop, stage: "sft", into: &summary, tokenizer: tokenizerFile)

        // 6. The fine-tuned model on the same held-out problems.
        try evaluate(model, tokenizer, evalExamples, stage: "eval_sft", model: "sft", into: &summary)

        // 7-10. Chat SFT on the gold world, a reward model, DPO, and gold's table.
        if let preference = config.preference, let world {
            try preferenceStages(preference, data: world, arithmetic: Self.spread(sftRows, count: preference.arithmeticRows),
                                 model: model, base: base, tokenizer: tokenizer, tokenizerFile: tokenizerFile, into: &summary)
        }
        try summary.write(to: folder)
        return summary
    }

    /// `count` rows taken at even steps through `rows`, so every task keeps its share (`rows` hold the tasks one after
    /// another: the first rows alone would be addition only, and the chat SFT then forgot multiplication).
    static func spread<T>(_ rows: [T], count: Int) -> [T] {
        guard count < rows.count else { return rows }
        return (0..<count).map { rows[$0 * rows.count / count] }
    }

    /// The first `count` training problems of each task held out as the evaluation set, the rest to train on: for
    /// choosing settings without looking at the test problems.
    static func validationSplit(_ train: [ArithmeticProblem], count: Int) -> (train: [ArithmeticProblem], validation: [ArithmeticProblem]) {
        var taken: [String: Int] = [:]
        var rest: [ArithmeticProblem] = [], validation: [ArithmeticProblem] = []
        for p in train {
            if taken[p.task, default: 0] < count { taken[p.task, default: 0] += 1; validation.append(p) } else { rest.append(p) }
        }
        return (rest, validation)
    }

    /// Arithmetic problems whose texts train the tokenizer.
    static let tokenizerProblems = 2000

    /// The token that ends every document and answer.
    static let endOfText = "<|endoftext|>"
    /// Written between a question and its answer ("What is 2 + 3? 5").
    static let completionPrefix = " "

    /// A stage's training config, writing its run folder inside `folder` and seeded by the quickstart's seed.
    func stageConfig(_ c: TrainingConfig, name: String) -> TrainingConfig {
        ExperimentFolder.stage(c, in: folder, name: name, seed: config.seed)
    }

    /// Prints the heading of stage `i` of the run.
    func heading(_ i: Int, _ text: String) {
        progress.message("[\(i)/\(config.preference == nil ? 6 : 10)] \(text)")
    }

    /// Runs a training stage and records its wall time and tokens/s; copies the tokenizer into its final checkpoint,
    /// which it returns.
    @discardableResult
    func runStage<O>(_ loop: TrainingLoop<O>, stage: String, into summary: inout QuickstartSummary, tokenizer: URL) throws -> URL {
        let clock = Date()
        let outcome = try loop.run()
        guard case .completed(let checkpoint) = outcome else { throw QuickstartError.interrupted(stage: stage) }
        try FileManager.default.copyItem(at: tokenizer, to: checkpoint.appendingPathComponent("tokenizer.json"))
        let seconds = Date().timeIntervalSince(clock)
        summary.add(stage: stage, seconds: seconds, tokens: loop.state.numTokens, checkpoint: checkpoint.path)
        return checkpoint
    }

    /// Greedy answers to the held-out problems, exact match per task; records the stage and the accuracies.
    func evaluate(_ model: CausalLM, _ tokenizer: Tokenizer, _ examples: [EvalExample], stage: String, model name: String,
                  into summary: inout QuickstartSummary) throws {
        let clock = Date()
        heading(name == "base" ? 4 : 6, "evaluate \(name): \(examples.count) held-out problems, greedy")
        model.eval()
        defer { model.train() }
        var generated = 0
        let sampling = SamplingConfig.greedy(maxNewTokens: config.maxNewTokens)
        let result = try noGrad {
            try ExactMatchEvaluator.evaluate(examples) { prompts in
                let samples = try generate(model: model, prompts: prompts.map { tokenizer.encode($0) }, config: sampling,
                                           decode: { tokenizer.decode($0, skipSpecialTokens: true) })
                generated += samples.reduce(0) { $0 + $1.tokenIds.count }
                return samples.map { $0.text ?? "" }
            }
        }
        try result.writeRecords(to: folder.appendingPathComponent("\(stage).jsonl"))
        var accuracy = result.perTask.mapValues(\.accuracy)
        accuracy["all"] = result.accuracy
        summary.add(stage: stage, seconds: Date().timeIntervalSince(clock), tokens: generated)
        summary.accuracy[name] = accuracy
    }
}

/// Why the quickstart stopped early.
public enum QuickstartError: Error, CustomStringConvertible {
    /// Ctrl-C during a training stage (its checkpoint was saved).
    case interrupted(stage: String)

    /// Explains the stop.
    public var description: String {
        switch self {
        case .interrupted(let stage): return "interrupted during \(stage); its checkpoint was saved"
        }
    }
}
