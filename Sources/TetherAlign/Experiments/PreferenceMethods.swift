import Foundation
import Tether
import TetherLM
import TetherTokenizers

/// Issue 6's comparison of offline preference optimisation: DPO, IPO, KTO, ORPO and SimPO, each trained from the
/// same tiny SFT policy on the gold world's labels and judged by gold against that SFT policy.
///
/// Stages: make the world's data (seeded), train a BPE tokenizer (qwen2 pre-tokenizer), pretrain a tiny GPT-2 on the
/// SFT texts, SFT it on `sft.jsonl` (the data's mix of good and bad responses), then per method copy the SFT weights,
/// train on `preference.jsonl` (KTO: `kto.jsonl`; `kto_pairs`: the pairs split into thumbs) and sample the held-out prompts at temperature 1 with the same
/// seed as the SFT reference (``AssistantPolicyEvaluation``). ORPO starts from the SFT policy like the others,
/// not from the base its recipe usually starts from. Everything goes into one new folder: `data/`, `tokenizer/`,
/// the run folders, `config.json`, `preference_methods.json` (the table) and `table.md`.
public final class PreferenceMethods {
    /// The settings.
    public let config: PreferenceMethodsConfig
    /// The folder everything is written into; it must not exist yet.
    public let folder: URL
    /// Stage headings and training progress.
    public var progress = ProgressReporter()

    /// An experiment into `folder`.
    public init(config: PreferenceMethodsConfig = PreferenceMethodsConfig(), folder: URL) {
        self.config = config
        self.folder = folder
    }

    /// The token that ends every text and response.
    static let endOfText = "<|endoftext|>"

    /// Runs every stage and writes the table; throws, writing nothing, if `folder` exists.
    @discardableResult
    public func run() throws -> PreferenceMethodsTable {
        try config.validate()
        try ExperimentFolder.create(folder, config: config)
        let stages = 4 + config.methods.count
        func stage(_ i: Int, _ text: String) { progress.message("[\(i)/\(stages)] \(text)") }

        // 1. The world's data, and the prompts the table is measured on.
        stage(1, "data: the gold world, \(config.prompts) training prompts, seed \(config.seed)")
        var world = AssistantWorldConfig()
        world.seed = config.seed
        world.prompts = config.prompts
        let data = try AssistantData(config: world, labeler: PreferenceLabeler(noise: config.noise, bias: config.bias,
                                                                                    desirableThreshold: config.ktoDesirableThreshold))
        try data.write(into: folder.appendingPathComponent("data"))
        let split = Self.split(data, validation: config.validationPrompts, seed: config.seed)

        // 2. Tokenizer.
        stage(2, "tokenizer: byte-level BPE, vocab \(config.vocabSize), qwen2 pre-tokenizer")
        let texts = split.sft.map { $0.prompt.text + $0.response.text }
        let tokenizer = BPETrainer(vocabSize: config.vocabSize, specialTokens: [Self.endOfText], preTokenizer: .qwen2)
            .train(texts: texts)
        let tokenizerFile = folder.appendingPathComponent("tokenizer/tokenizer.json")
        try FileManager.default.createDirectory(at: tokenizerFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try tokenizer.save(tokenizerJSON: tokenizerFile)
        guard let eos = tokenizer.tokenToId(Self.endOfText) else { preconditionFailure("the tokenizer lost its EOS token") }
        let examples = ExampleTokenizer(tokenizer: tokenizer, eosId: eos)

        // 3. Base model: pretrained on the SFT texts.
        var modelConfig = TransformerConfig.gpt2(
            vocabSize: tokenizer.vocabSize, hiddenSize: config.hiddenSize, layers: config.layers, heads: config.heads,
            maxPositions: max(config.pretrain.maxLength, config.sft.maxLength, config.preferenceMaxLength, 128))
        modelConfig.eosTokenIds = [Int(eos)]
        modelConfig.bosTokenId = Int(eos)
        let sft = CausalLM(config: modelConfig, seed: config.seed)
        stage(3, "pretrain: \(config.pretrain.maxSteps ?? 0) steps on \(texts.count) texts")
        let pretrainer = try PretrainTrainer(config: stageConfig(config.pretrain, name: "pretrain"), model: sft,
                                             tokenizer: examples, texts: texts, padId: eos)
        pretrainer.sft.loop.progress = progress
        _ = try runLoop(pretrainer.sft.loop, stage: "pretrain")

        // 4. SFT on the data's mix of good and bad responses (completion-only loss).
        let sftRows = try split.sft.map {
            try examples.tokenize(PromptCompletionExample(prompt: .text($0.prompt.text), completion: .text($0.response.text)))
        }
        stage(4, "sft: \(config.sft.maxSteps ?? 0) steps on \(sftRows.count) responses (good and bad mixed)")
        let sftTrainer = try SFTTrainer(config: SFTConfig(training: stageConfig(config.sft, name: "sft")), model: sft,
                                        train: sftRows, padId: eos)
        sftTrainer.loop.progress = progress
        _ = try runLoop(sftTrainer.loop, stage: "sft")

        // 5... Each method from the SFT weights, judged against the SFT policy.
        let pairs = try split.preference.map {
            try examples.tokenize(PreferenceExample(prompt: .text($0.prompt.text), chosen: .text($0.chosen.text),
                                                    rejected: .text($0.rejected.text)))
        }
        let thumbs = try split.kto.map { l -> KTOTokens in
            let t = try examples.tokenizeApart(prompt: .text(l.prompt.text), completion: .text(l.completion.text))
            return KTOTokens(prompt: t.prompt, completion: t.completion, desirable: l.label)
        }
        let evaluation = AssistantPolicyEvaluation(
            tokenizer: tokenizer, sampling: SamplingConfig(maxNewTokens: config.maxNewTokens, seed: config.seed),
            samplesPerPrompt: config.samplesPerPrompt)
        let reference = PreferenceMethodRow(name: "sft", report: try evaluation.run(policy: sft, reference: sft, prompts: split.evaluation),
                                            trainSeconds: 0)
        var rows: [PreferenceMethodRow] = []
        for (i, m) in config.methods.enumerated() {
            stage(5 + i, "\(m.method.rawValue): \(m.steps) steps of \(m.batchSize), lr \(m.learningRate), β \(m.beta)"
                  + " from the SFT policy; then \(split.evaluation.count) \(split.name) prompts x \(config.samplesPerPrompt) samples")
            let policy = CausalLM(config: modelConfig, seed: config.seed)
            try policy.load(stateDict: sft.stateDict())
            let clock = Date()
            try train(m, policy: policy, reference: sft, pairs: pairs, thumbs: thumbs, padId: eos)
            let seconds = Date().timeIntervalSince(clock)
            let report = try evaluation.run(policy: policy, reference: sft, prompts: split.evaluation)
            try report.writeRecords(to: folder.appendingPathComponent("\(m.method.rawValue)_samples.jsonl"))
            let row = PreferenceMethodRow(name: m.method.rawValue, report: report, trainSeconds: seconds)
            progress.message(String(format: "  %@: gold win rate %.1f%%, gold reward %.3f, KL %.2f, %.1f tokens, trained in %.0f s",
                                    m.method.rawValue, 100 * row.goldWinRate, row.goldReward, row.kl, row.meanLength, seconds))
            rows.append(row)
        }
        let table = PreferenceMethodsTable(split: split.name, prompts: split.evaluation.count,
                                           samplesPerPrompt: config.samplesPerPrompt, seed: config.seed,
                                           reference: reference, methods: rows)
        try Data(table.json.utf8).write(to: folder.appendingPathComponent("preference_methods.json"))
        try Data((table.markdown + "\n").utf8).write(to: folder.appendingPathComponent("table.md"))
        return table
    }

    /// Trains `policy` (a copy of the SFT weights) with one method; `reference` is the frozen SFT policy.
    func train(_ m: PreferenceMethodSettings, policy: CausalLM, reference: CausalLM, pairs: [PreferenceTokens],
               thumbs: [KTOTokens], padId: Int32) throws {
        var training = PreferenceMethodsConfig.stage(steps: m.steps, learningRate: m.learningRate, batch: m.batchSize)
        training.packing = false
        training.maxLength = config.preferenceMaxLength
        training = stageConfig(training, name: m.method.rawValue)
        func frozen() throws -> CausalLM {  // the trainers freeze their reference: never hand them the SFT policy itself
            let copy = CausalLM(config: reference.config, seed: config.seed)
            try copy.load(stateDict: reference.stateDict())
            return copy
        }
        switch m.method {
        case .dpo, .ipo, .simpo:
            var c = DPOConfig(training: training)
            c.lossType = m.method == .dpo ? .sigmoid : m.method == .ipo ? .ipo : .simpo
            c.beta = m.beta
            c.simpoGamma = m.simpoGamma
            let trainer = try DPOTrainer(config: c, model: policy, reference: c.lossType.needsReference ? try frozen() : nil,
                                         train: pairs, padId: padId)
            trainer.loop.progress = progress
            _ = try runLoop(trainer.loop, stage: m.method.rawValue)
        case .kto, .ktoPairs:
            var c = KTOConfig(training: training)
            c.beta = m.beta
            // From pairs: every chosen, then every rejected, so that each example's mismatched partner for the KL
            // reference point (the next example's completion) answers another prompt.
            let data = m.method == .kto ? thumbs : pairs.map { KTOTokens.unpaired($0)[0] } + pairs.map { KTOTokens.unpaired($0)[1] }
            // Balance the thumbs as the KTO paper advises: w_d·n_d = w_u·n_u.
            let up = data.filter(\.desirable).count, down = data.count - up
            if up > 0 && down > 0 { c.undesirableWeight = Float(up) / Float(down) }
            let trainer = try KTOTrainer(config: c, model: policy, reference: try frozen(), train: data, padId: padId)
            trainer.loop.progress = progress
            _ = try runLoop(trainer.loop, stage: m.method.rawValue)
        case .orpo:
            var c = ORPOConfig(training: training)
            c.beta = m.beta
            let trainer = try ORPOTrainer(config: c, model: policy, train: pairs, padId: padId)
            trainer.loop.progress = progress
            _ = try runLoop(trainer.loop, stage: "orpo")
        }
    }

    /// A stage's training config writing its run folder inside `folder`, seeded by the experiment's seed.
    func stageConfig(_ c: TrainingConfig, name: String) -> TrainingConfig {
        ExperimentFolder.stage(c, in: folder, name: name, seed: config.seed)
    }

    /// Runs a loop to its end; throws if it was interrupted.
    func runLoop<O>(_ loop: TrainingLoop<O>, stage: String) throws -> URL {
        guard case .completed(let checkpoint) = try loop.run() else { throw QuickstartError.interrupted(stage: stage) }
        return checkpoint
    }

    /// The training sets and the prompts the table is measured on: with `validation`, that many distinct training
    /// prompts (seeded) are removed from every training set and measured on; otherwise the world's held-out prompts.
    static func split(_ data: AssistantData, validation: Int?, seed: UInt64)
        -> (name: String, evaluation: [AssistantPrompt], sft: [(prompt: AssistantPrompt, response: AssistantResponse)],
            preference: [LabeledPair], kto: [LabeledCompletion]) {
        guard let validation else { return ("test", data.world.eval, data.sft, data.preference, data.kto) }
        var seen = Set<String>(), distinct: [AssistantPrompt] = []
        for p in data.world.train where seen.insert(p.text).inserted { distinct.append(p) }
        var rng = RandomGenerator(seed: seed).fork(77)
        rng.shuffle(&distinct)
        let held = Array(distinct.prefix(validation))
        let out = Set(held.map(\.text))
        return ("validation", held, data.sft.filter { !out.contains($0.prompt.text) },
                data.preference.filter { !out.contains($0.prompt.text) }, data.kto.filter { !out.contains($0.prompt.text) })
    }
}
