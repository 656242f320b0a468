import Foundation
import Tether
import TetherLM
import TetherTokenizers

/// Best-of-N on multi-step arithmetic chains: does a process reward model pick better solutions than an outcome one?
///
/// 1. Data (`StepwiseLabeler`): held-out problems, the policy's worked solutions (some with an injected wrong step,
///    so that its samples vary) and the reward models' step-labeled solutions, no problem in two sets.
/// 2. A tokenizer and a tiny Llama-style policy fine-tuned from random weights on the solutions (or a given policy).
/// 3. From the policy, two 2-way scorers trained alike on the same solutions: the PRM on every step's label, the ORM
///    on the last step's label only (whether the final answer is right): it scores the whole solution.
/// 4. `samples` solutions per held-out problem; for each N of `budgets`, each group of N is reduced to one pick by the
///    ORM, the PRM (min and product over steps), majority vote over final answers and a random pick.
///
/// Everything goes into one new folder: `data/`, `tokenizer.json`, the run folders `policy/`, `prm/`, `orm/`,
/// `samples.jsonl` (every sample with its scores), `summary.json` and `report.md`.
public final class PRMvsORMExperiment {
    /// The settings.
    public let config: PRMvsORMConfig
    /// The folder everything is written into; it must not exist yet.
    public let folder: URL
    /// A trained policy to reuse (a checkpoint folder with `tokenizer.json`) instead of training one.
    public let policyFolder: URL?
    /// Progress of the training stages, and stage headings.
    public var progress = ProgressReporter()

    /// The selectors compared, in table order.
    public static let selectors: [BestOfNSelector] = [.outcomeReward, .processReward(.min), .processReward(.product),
                                                      .majorityVote, .random]
    /// The token that ends every solution.
    static let endOfText = "<|endoftext|>"

    /// An experiment writing into `folder`, training its own policy unless `policy` is given.
    public init(config: PRMvsORMConfig = PRMvsORMConfig(), folder: URL, policy: URL? = nil) {
        self.config = config
        self.folder = folder
        self.policyFolder = policy
    }

    /// Problems of three disjoint sets: held-out (all steps right), the policy's and the reward models'.
    public static func data(_ config: PRMvsORMConfig)
        -> (test: [StepwiseSolution], policy: [StepwiseSolution], reward: [StepwiseSolution]) {
        let root = RandomGenerator(seed: config.seed)
        var seen = Set<String>()
        func make(_ labeler: StepwiseLabeler, _ count: Int, _ stream: UInt64) -> [StepwiseSolution] {
            var rng = root.fork(stream), out: [StepwiseSolution] = [], attempts = 0
            while out.count < count && attempts < 20 * count + 100 {
                attempts += 1
                let s = labeler.solution(rng: &rng)
                if seen.insert(s.prompt).inserted { out.append(s) }
            }
            return out
        }
        let operands = 1...config.maxOperand
        let test = make(StepwiseLabeler(errorFraction: 0, operands: operands), config.problems, 1)
        let policy = make(StepwiseLabeler(errorFraction: config.policyErrorFraction, operands: operands), config.policyExamples, 2)
        let reward = make(StepwiseLabeler(errorFraction: config.rewardErrorFraction, operands: operands), config.rewardExamples, 3)
        return (test, policy, reward)
    }

    /// Runs every stage and writes `summary.json` and `report.md`; throws, writing nothing, if `folder` exists.
    @discardableResult
    public func run() throws -> PRMvsORMResult {
        try config.validate()
        try ExperimentFolder.create(folder, config: config)
        var seconds: [String: Double] = [:]

        var clock = Date()
        progress.message("[1/5] data: \(config.problems) held-out problems, \(config.policyExamples) policy and "
                         + "\(config.rewardExamples) reward-model solutions")
        let (test, policyData, rewardData) = Self.data(config)
        let dataFolder = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        for (name, set) in [("test", test), ("policy", policyData), ("reward", rewardData)] {
            try Data(Self.stepwiseJSONL(set).utf8).write(to: dataFolder.appendingPathComponent("\(name).jsonl"))
        }
        seconds["data"] = Date().timeIntervalSince(clock)

        clock = Date()
        let (policy, tokenizer, checkpoint) = try policyFolder.map(Self.loadPolicy) ?? trainPolicy(policyData)
        seconds["policy"] = Date().timeIntervalSince(clock)
        guard let eos = tokenizer.tokenToId(Self.endOfText) ?? policy.config.eosTokenIds.first.map(Int32.init) else {
            throw TrainingError.badConfig(field: "policy", "the policy's tokenizer has no \(Self.endOfText) and its config no eos_token_id")
        }

        let maxLength = config.rewardModel.maxLength
        func tokens(_ question: String, _ steps: [String], _ labels: [Bool]) -> PRMTokens {
            PRMTokens(StepwiseSupervisionExample(prompt: ChainText.prompt(question), completions: steps, labels: labels),
                      tokenizer: tokenizer, separator: ChainText.separator, maxLength: maxLength)
        }
        let rewardRows = rewardData.map { tokens($0.prompt, $0.steps, $0.labels) }.filter { !$0.stepEnds.isEmpty }
        var scorers: [String: ScoreModel] = [:]
        for (stage, name, lastOnly) in [(3, "prm", false), (3, "orm", true)] {
            clock = Date()
            progress.message("[\(stage)/5] \(name): \(config.rewardModel.maxSteps ?? 0) steps on \(rewardRows.count) solutions"
                             + (lastOnly ? " (final-answer label only)" : " (every step's label)"))
            let scorer = try ScoreModel(contentsOf: checkpoint, labels: 2, requireHead: false, seed: config.seed)
            var c = PRMConfig(training: stageConfig(config.rewardModel, name: name))
            c.trainOnLastStepOnly = lastOnly
            let trainer = try PRMTrainer(config: c, model: scorer, train: rewardRows, padId: eos)
            trainer.loop.progress = progress
            guard case .completed = try trainer.train() else { throw QuickstartError.interrupted(stage: name) }
            scorers[name] = scorer
            seconds[name] = Date().timeIntervalSince(clock)
        }

        clock = Date()
        progress.message("[4/5] sample: \(config.samples) solutions to each of \(test.count) held-out problems")
        let texts = try sample(policy, tokenizer, questions: test.map(\.prompt))
        seconds["sample"] = Date().timeIntervalSince(clock)

        clock = Date()
        progress.message("[5/5] score \(texts.count) samples with the PRM and the ORM")
        var candidates: [[BestOfNCandidate]] = []
        var samplesJSONL = "", right = 0, allRight = 0, ormRight = 0, prmRight = 0
        for (p, problem) in test.enumerated() {
            let rows = texts[(p * config.samples)..<((p + 1) * config.samples)]
            let steps = rows.map(ChainText.steps)
            let examples = steps.map { tokens(problem.prompt, $0, $0.map { _ in true }) }
            let prm = prmStepScores(model: scorers["prm"]!, examples: examples, padId: eos)
            let orm = prmStepScores(model: scorers["orm"]!, examples: examples, padId: eos)
            let answer = ChainText.finalAnswer(ChainText.completion(problem.steps))
            var group: [BestOfNCandidate] = []
            for (k, text) in rows.enumerated() {
                let c = BestOfNCandidate(answer: ChainText.finalAnswer(text), outcomeScore: orm[k].last ?? 0, stepScores: prm[k])
                let isRight = c.answer != nil && c.answer == answer
                if isRight { right += 1 }
                if steps[k] == problem.steps { allRight += 1 }
                if (c.outcomeScore > 0.5) == isRight { ormRight += 1 }
                if (StepScoreAggregation.min.aggregate(c.stepScores) > 0.5) == isRight { prmRight += 1 }
                group.append(c)
                let line: [String: Any] = ["problem": problem.prompt, "text": text, "answer": c.answer.map { $0 as Any } ?? NSNull(),
                                           "correct": isRight, "orm": Double(c.outcomeScore), "prm_steps": c.stepScores.map(Double.init)]
                samplesJSONL += String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self) + "\n"
            }
            candidates.append(group)
        }
        try Data(samplesJSONL.utf8).write(to: folder.appendingPathComponent("samples.jsonl"))
        let answers = test.map { ChainText.finalAnswer(ChainText.completion($0.steps))! }
        var rng = RandomGenerator(seed: config.seed).fork(9)
        var accuracy: [String: [Double]] = [:]
        for s in Self.selectors {
            accuracy[s.name] = config.budgets.map { BestOfN.accuracy(candidates, answers: answers, budget: $0, selector: s, rng: &rng) }
        }
        accuracy["oracle"] = config.budgets.map { BestOfN.oracle(candidates, answers: answers, budget: $0) }
        seconds["score"] = Date().timeIntervalSince(clock)

        let n = Double(max(texts.count, 1))
        let result = PRMvsORMResult(config: config, budgets: config.budgets, methods: Self.selectors.map(\.name) + ["oracle"],
                                    accuracy: accuracy, sampleAccuracy: Double(right) / n,
                                    sampleAllStepsRight: Double(allRight) / n, ormSampleAccuracy: Double(ormRight) / n,
                                    prmSampleAccuracy: Double(prmRight) / n, seconds: seconds)
        try result.write(to: folder)
        return result
    }

    /// Trains the tokenizer and the policy (SFT from random weights); returns them and the policy's checkpoint.
    func trainPolicy(_ data: [StepwiseSolution]) throws -> (CausalLM, Tokenizer, URL) {
        let texts = data.map { ChainText.prompt($0.prompt) + ChainText.completion($0.steps) }
        let tokenizer = BPETrainer(vocabSize: config.vocabSize, specialTokens: [Self.endOfText], preTokenizer: .qwen2).train(texts: texts)
        let tokenizerFile = folder.appendingPathComponent("tokenizer.json")
        try tokenizer.save(tokenizerJSON: tokenizerFile)
        let eos = tokenizer.tokenToId(Self.endOfText)!
        var shape = TransformerConfig.llama(vocabSize: tokenizer.vocabSize, hiddenSize: config.hiddenSize, layers: config.layers,
                                            heads: config.heads, kvHeads: config.heads, intermediateSize: config.intermediateSize,
                                            maxPositions: max(config.policy.maxLength, config.rewardModel.maxLength) + config.maxNewTokens,
                                            tieWordEmbeddings: true)
        shape.eosTokenIds = [Int(eos)]
        shape.bosTokenId = Int(eos)
        let model = CausalLM(config: shape, seed: config.seed)
        let examples = ExampleTokenizer(tokenizer: tokenizer, eosId: eos)
        let rows = try data.map {
            try examples.tokenize(PromptCompletionExample(prompt: .text(ChainText.prompt($0.prompt)),
                                                          completion: .text(ChainText.completion($0.steps))))
        }
        progress.message("[2/5] policy: \(config.policy.maxSteps ?? 0) SFT steps on \(rows.count) worked solutions "
                         + String(format: "(%.0f%% with a wrong step)", 100 * config.policyErrorFraction))
        let sft = try SFTTrainer(config: SFTConfig(training: stageConfig(config.policy, name: "policy")), model: model,
                                 train: rows, padId: eos)
        sft.loop.progress = progress
        guard case .completed(let checkpoint) = try sft.train() else { throw QuickstartError.interrupted(stage: "policy") }
        try FileManager.default.copyItem(at: tokenizerFile, to: checkpoint.appendingPathComponent("tokenizer.json"))
        return (model, tokenizer, checkpoint)
    }

    /// A trained policy and its tokenizer from a checkpoint folder.
    static func loadPolicy(_ folder: URL) throws -> (CausalLM, Tokenizer, URL) {
        let tokenizer = try Tokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        return (try CausalLM(contentsOf: folder), tokenizer, folder)
    }

    /// `samples` completions per question, in question order, sampled in chunks of rows (each chunk seeded apart).
    func sample(_ model: CausalLM, _ tokenizer: Tokenizer, questions: [String]) throws -> [String] {
        model.eval()
        defer { model.train() }
        let prompts = questions.flatMap { Array(repeating: tokenizer.encode(ChainText.prompt($0)), count: config.samples) }
        let chunk = 256
        var out: [String] = []
        for (c, start) in stride(from: 0, to: prompts.count, by: chunk).enumerated() {
            let sampling = SamplingConfig(temperature: config.temperature, maxNewTokens: config.maxNewTokens,
                                          seed: config.seed &+ UInt64(c))
            out += try generate(model: model, prompts: Array(prompts[start..<min(start + chunk, prompts.count)]), config: sampling,
                                decode: { tokenizer.decode($0, skipSpecialTokens: true) }).map { $0.text ?? "" }
        }
        return out
    }

    /// A stage's training config, writing its run folder inside `folder`, seeded by the experiment's seed.
    func stageConfig(_ c: TrainingConfig, name: String) -> TrainingConfig {
        ExperimentFolder.stage(c, in: folder, name: name, seed: config.seed)
    }

    /// Solutions as TRL stepwise records (prompt + completions + labels), the prompt as the policy sees it.
    static func stepwiseJSONL(_ set: [StepwiseSolution]) -> String {
        set.map { s in
            "{\"prompt\":\(JSONText.quoted(ChainText.prompt(s.prompt))),\"completions\":[\(s.steps.map(JSONText.quoted).joined(separator: ","))],"
                + "\"labels\":[\(s.labels.map(String.init).joined(separator: ","))]}\n"
        }.joined()
    }
}
