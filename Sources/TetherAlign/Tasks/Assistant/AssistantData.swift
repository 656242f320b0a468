import Foundation
import Tether

/// The gold world's data sets, made together from one seed and written as TRL-format JSONL.
///
/// Files (every record also has a `kind` column: arithmetic, harmful or look_alike):
/// - `sft.jsonl`: prompt + completion, good and bad responses mixed (`CandidateSampler`).
/// - `preference.jsonl`: prompt + chosen + rejected (+ `margin`), labeled by a `PreferenceLabeler`.
/// - `kto.jsonl`: prompt + completion + label (thumbs up or down), same labeler.
/// - `stepwise.jsonl`: prompt + completions + labels, multi-step arithmetic (`StepwiseLabeler`).
/// - `eval_prompts.jsonl`: prompt (+ `answer` for arithmetic), the held-out prompts, none of which is in training.
/// - `preference_eval.jsonl`: prompt + chosen + rejected on the held-out prompts, labeled by gold itself (noise 0,
///   bias 0, whatever the training labeler): what a reward model's held-out accuracy is measured against.
///
/// The same config and labelers give byte-identical files.
public struct AssistantData: Sendable {
    /// Candidate responses drawn per prompt for a preference pair.
    public static let candidatesPerPair = 4
    /// Gold-labeled pairs drawn per held-out prompt for `preference_eval.jsonl` (each from fresh candidates).
    public static let evalPairsPerPrompt = 4

    /// The world the prompts come from.
    public var world: AssistantWorld
    /// One prompt-completion per training prompt.
    public var sft: [(prompt: AssistantPrompt, response: AssistantResponse)]
    /// `pairsPerPrompt` labeled pairs per training prompt, each from fresh candidates (fewer where all of a
    /// draw's candidates tie).
    public var preference: [LabeledPair]
    /// One labeled completion per training prompt.
    public var kto: [LabeledCompletion]
    /// Multi-step arithmetic solutions with step labels.
    public var stepwise: [StepwiseSolution]
    /// Pairs on the held-out prompts labeled by gold (noise 0, bias 0): `evalPairsPerPrompt` per prompt, fewer
    /// where candidates tie.
    public var preferenceEval: [LabeledPair]

    /// Makes every set from `config`; `pairsPerPrompt` preference pairs per training prompt (the first pair of each
    /// prompt is the same whatever the count); `stepwiseCount` multi-step solutions (default: a quarter of the
    /// prompts); `arithmetic` problems as in `AssistantWorld.init(_:arithmetic:)`.
    public init(config: AssistantWorldConfig, labeler: PreferenceLabeler = PreferenceLabeler(), pairsPerPrompt: Int = 1,
                stepwise stepwiseLabeler: StepwiseLabeler = StepwiseLabeler(), stepwiseCount: Int? = nil,
                arithmetic: (train: [ArithmeticProblem], test: [ArithmeticProblem])? = nil) throws(DatasetError) {
        guard pairsPerPrompt > 0 else { throw DatasetError(field: "pairs_per_prompt", "expected a count > 0, got \(pairsPerPrompt)") }
        try labeler.validate()
        try stepwiseLabeler.validate()
        world = try AssistantWorld(config, arithmetic: arithmetic)
        let root = RandomGenerator(seed: config.seed).fork(10)
        var sftRNG = root.fork(1), pairRNG = root.fork(2), ktoRNG = root.fork(3), stepRNG = root.fork(4)
        var evalPairRNG = root.fork(5)
        sft = world.train.map { ($0, CandidateSampler.sample($0, rng: &sftRNG)) }
        // Pairs beyond the first of each prompt draw from their own generator, so the first ones never change.
        var extraPairRNG = root.fork(6)
        func draw(_ p: AssistantPrompt, _ rng: inout RandomGenerator) -> LabeledPair? {
            labeler.pair(p, candidates: CandidateSampler.sample(p, count: Self.candidatesPerPair, rng: &rng), rng: &rng)
        }
        preference = world.train.flatMap { p in
            [draw(p, &pairRNG)].compactMap { $0 } + (1..<pairsPerPrompt).compactMap { _ in draw(p, &extraPairRNG) }
        }
        kto = world.train.map { labeler.thumb($0, CandidateSampler.sample($0, rng: &ktoRNG), rng: &ktoRNG) }
        let goldLabeler = PreferenceLabeler(noise: 0, bias: 0, margin: false, gold: labeler.gold)
        preferenceEval = world.eval.flatMap { p in
            (0..<Self.evalPairsPerPrompt).compactMap { _ in
                let candidates = CandidateSampler.sample(p, count: Self.candidatesPerPair, rng: &evalPairRNG)
                return goldLabeler.pair(p, candidates: candidates, rng: &evalPairRNG)
            }
        }
        var avoid = Set<String>()
        for p in world.eval where p.kind == .arithmetic {
            for (a, op, b) in Self.expressions(p.text) {
                avoid.insert("\(a) \(op) \(b)")
                if op != "-" { avoid.insert("\(b) \(op) \(a)") }
            }
        }
        stepwise = stepwiseLabeler.make(count: stepwiseCount ?? max(1, config.prompts / 4), avoid: avoid, rng: &stepRNG)
    }

    /// The "a op b" expressions in a prompt (numbers, operator symbol).
    static func expressions(_ text: String) -> [(String, String, String)] {
        let parts = text.split(separator: " ").map(String.init)
        var out: [(String, String, String)] = []
        for i in parts.indices.dropLast(2) where ["+", "-", "*"].contains(parts[i + 1]) {
            let a = parts[i].filter(\.isNumber), b = parts[i + 2].filter(\.isNumber)
            if !a.isEmpty && !b.isEmpty { out.append((a, parts[i + 1], b)) }
        }
        return out
    }

    // MARK: - JSONL

    static func q(_ s: String) -> String { JSONText.quoted(s) }

    /// A number with at most four decimals, written the same way on every machine.
    static func number(_ x: Double) -> String {
        let r = (x * 10_000).rounded() / 10_000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// `sft.jsonl`.
    public var sftJSONL: String {
        sft.map { "{\"prompt\":\(Self.q($0.prompt.text)),\"completion\":\(Self.q($0.response.text)),\"kind\":\(Self.q($0.prompt.kind.rawValue))}\n" }.joined()
    }

    /// `preference.jsonl`.
    public var preferenceJSONL: String {
        preference.map { p in
            var line = "{\"prompt\":\(Self.q(p.prompt.text)),\"chosen\":\(Self.q(p.chosen.text)),\"rejected\":\(Self.q(p.rejected.text))"
            if let m = p.margin { line += ",\"margin\":\(Self.number(m))" }
            return line + ",\"kind\":\(Self.q(p.prompt.kind.rawValue))}\n"
        }.joined()
    }

    /// `preference_eval.jsonl`: gold-labeled pairs on held-out prompts (no margin column).
    public var preferenceEvalJSONL: String {
        preferenceEval.map { p in
            "{\"prompt\":\(Self.q(p.prompt.text)),\"chosen\":\(Self.q(p.chosen.text)),\"rejected\":\(Self.q(p.rejected.text))"
                + ",\"kind\":\(Self.q(p.prompt.kind.rawValue))}\n"
        }.joined()
    }

    /// `kto.jsonl`.
    public var ktoJSONL: String {
        kto.map { "{\"prompt\":\(Self.q($0.prompt.text)),\"completion\":\(Self.q($0.completion.text)),\"label\":\($0.label),\"kind\":\(Self.q($0.prompt.kind.rawValue))}\n" }.joined()
    }

    /// `stepwise.jsonl`.
    public var stepwiseJSONL: String {
        stepwise.map { s in
            "{\"prompt\":\(Self.q(s.prompt)),\"completions\":[\(s.steps.map(Self.q).joined(separator: ","))],"
                + "\"labels\":[\(s.labels.map(String.init).joined(separator: ","))],\"kind\":\"arithmetic\"}\n"
        }.joined()
    }

    /// `eval_prompts.jsonl`.
    public var evalJSONL: String {
        world.eval.map { p in
            let answer = p.answer.map { ",\"answer\":\(Self.q(String($0)))" } ?? ""
            return "{\"prompt\":\(Self.q(p.text))\(answer),\"kind\":\(Self.q(p.kind.rawValue))}\n"
        }.joined()
    }

    /// The files' names and contents, in the order they are written.
    public var files: [(name: String, contents: String)] {
        [("sft.jsonl", sftJSONL), ("preference.jsonl", preferenceJSONL), ("kto.jsonl", ktoJSONL),
         ("stepwise.jsonl", stepwiseJSONL), ("eval_prompts.jsonl", evalJSONL),
         ("preference_eval.jsonl", preferenceEvalJSONL)]
    }

    /// Writes the six files into `folder` (created if needed) and returns their URLs; throws, writing nothing,
    /// if any of them already exists.
    @discardableResult
    public func write(into folder: URL) throws(DatasetError) -> [URL] {
        let urls = files.map { folder.appendingPathComponent($0.name) }
        for u in urls where FileManager.default.fileExists(atPath: u.path) {
            throw DatasetError(field: nil, "already exists; refusing to overwrite it", file: u.path)
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw DatasetError(field: nil, "cannot create folder: \(error.localizedDescription)", file: folder.path)
        }
        for (u, f) in zip(urls, files) {
            do { try Data(f.contents.utf8).write(to: u, options: .withoutOverwriting) } catch {
                throw DatasetError(field: nil, "cannot write: \(error.localizedDescription)", file: u.path)
            }
        }
        return urls
    }
}

extension AssistantPrompt {
    /// Reads prompts of this world from a prompt-only file (`eval_prompts.jsonl`); throws naming the record if a
    /// prompt is not one of the world's or its `kind` column disagrees.
    public static func load(_ url: URL) throws(DatasetError) -> [AssistantPrompt] {
        let loaded = try DatasetLoader.load(PromptOnlyExample.self, from: url)
        var out: [AssistantPrompt] = []
        for (i, e) in loaded.examples.enumerated() {
            guard case .text(let text) = e.prompt, let p = AssistantPrompt(parsing: text) else {
                throw DatasetError(field: "prompt", "record \(i + 1): not a prompt of the assistant world",
                                   file: url.lastPathComponent)
            }
            if let k = e.extras["kind"]?.string, k != p.kind.rawValue {
                throw DatasetError(field: "kind", "record \(i + 1): the prompt is \(p.kind.rawValue), the file says \(k)",
                                   file: url.lastPathComponent)
            }
            out.append(p)
        }
        return out
    }
}
