import Foundation
import Tether

/// Makes arithmetic train and held-out test sets and writes them as TRL-format JSONL.
///
/// **Held-out guarantee.** Across all specs made together, no test problem is a training problem, treating `a + b`
/// and `b + a` (and `a * b`, `b * a`) as one problem, and no test problem is *part of* a training problem: a
/// training problem `a' op b'` is rejected when some test problem `a op b` (in either order, if commutative) has
/// `a` as a decimal suffix of `a'` and `b` as a prefix of `b'`, i.e. when the test text "a op b" occurs inside the
/// training text "a' op b'". Templates delimit numbers by non-digits (`TaskSpec.validate`), so a test prompt is
/// then never a substring of a training prompt.
///
/// **Determinism.** Each spec draws from Philox streams forked from its own seed; the mixture is shuffled with
/// `seed`. The same specs and seed give byte-identical files.
public enum ArithmeticData {
    /// Which TRL columns a file holds.
    public enum Format: String, Sendable, Codable, CaseIterable {
        /// `{"prompt", "completion", "task"}` for SFT and evaluation.
        case promptCompletion = "prompt_completion"
        /// `{"prompt", "answer", "task"}` for reinforcement learning with a verifiable answer.
        case promptOnly = "prompt_only"
        /// `{"text", "task"}` with text = prompt + " " + answer, for pretraining-style language modelling.
        case text
        /// `{"text", "task"}` with the fact in words ("The sum of 17 and 24 is 41."): arithmetic knowledge for
        /// pretraining without the question-answer format that SFT teaches.
        case statement
    }

    /// Spaces up to this size are enumerated and shuffled; larger ones are sampled with rejection.
    static let enumerateLimit = 200_000

    /// Makes the train and test problems of `specs` (train shuffled together by `seed`, test in spec order).
    public static func generate(specs: [TaskSpec], seed: UInt64 = 0) throws(DatasetError)
        -> (train: [ArithmeticProblem], test: [ArithmeticProblem]) {
        guard !specs.isEmpty else { throw DatasetError(field: "tasks", "expected at least one task") }
        for s in specs { try s.validate() }
        var testKeys = Set<ProblemKey>()
        var testCores = Set<String>()  // "a op b" of every test problem, in both orders if commutative
        var test: [ArithmeticProblem] = []
        for spec in specs {
            var rng = RandomGenerator(seed: spec.seed).fork(1)
            let drawn = try draw(spec, count: spec.testCount, rng: &rng, split: "test", taken: testKeys) { _, _ in true }
            for p in drawn {
                testKeys.insert(ProblemKey(p.operation, p.a, p.b))
                testCores.insert(p.expression)
                if p.operation.isCommutative { testCores.insert("\(p.b) \(p.operation.symbol) \(p.a)") }
            }
            test += drawn
        }
        var trainKeys = Set<ProblemKey>()
        var train: [ArithmeticProblem] = []
        for spec in specs {
            var rng = RandomGenerator(seed: spec.seed).fork(2)
            let drawn = try draw(spec, count: spec.trainCount, rng: &rng, split: "train", taken: trainKeys) { a, b in
                !testKeys.contains(ProblemKey(spec.operation, a, b))
                    && !containsTestProblem(a, spec.operation, b, testCores: testCores)
            }
            for p in drawn { trainKeys.insert(ProblemKey(p.operation, p.a, p.b)) }
            train += drawn
        }
        var mix = RandomGenerator(seed: seed).fork(3)
        mix.shuffle(&train)
        return (train, test)
    }

    /// Whether the text "a op b" contains some test problem's text (a suffix of `a` and a prefix of `b`).
    static func containsTestProblem(_ a: Int, _ op: ArithmeticOperation, _ b: Int, testCores: Set<String>) -> Bool {
        let sa = String(a), sb = String(b)
        for i in sa.indices {
            let suffix = sa[i...]
            var prefix = ""
            for c in sb {
                prefix.append(c)
                if testCores.contains("\(suffix) \(op.symbol) \(prefix)") { return true }
            }
        }
        return false
    }

    /// Draws `count` distinct problems of `spec` whose keys are not in `taken` and that pass `allowed`.
    private static func draw(_ spec: TaskSpec, count: Int, rng: inout RandomGenerator, split: String,
                             taken: Set<ProblemKey>, allowed: (Int, Int) -> Bool) throws(DatasetError) -> [ArithmeticProblem] {
        let ra = TaskSpec.range(spec.digitsA), rb = TaskSpec.range(spec.digitsB)
        let op = spec.operation
        let sameRange = ra == rb
        var seen = Set<ProblemKey>()
        var out: [ArithmeticProblem] = []
        out.reserveCapacity(count)
        func valid(_ a: Int, _ b: Int) -> Bool {
            op != .subtraction || spec.allowNegative || a >= b
        }
        func take(_ a: Int, _ b: Int, rng: inout RandomGenerator) {
            let key = ProblemKey(op, a, b)
            guard valid(a, b), !taken.contains(key), !seen.contains(key), allowed(a, b) else { return }
            seen.insert(key)
            let template = spec.phrasings[rng.nextInt(below: spec.phrasings.count)]
            let prompt = template.replacingOccurrences(of: "{a} {op} {b}", with: "\(a) \(op.symbol) \(b)")
            out.append(ArithmeticProblem(a: a, b: b, operation: op, task: spec.name, prompt: prompt))
        }
        if count == 0 { return [] }
        if ra.count * rb.count <= enumerateLimit {
            // Every pair once (one order for commutative same-range pairs), shuffled; commutative pairs get a random order.
            var pairs: [(Int, Int)] = []
            for a in ra { for b in rb where !(op.isCommutative && sameRange && b < a) && valid(a, b) { pairs.append((a, b)) } }
            rng.shuffle(&pairs)
            for (a, b) in pairs where out.count < count {
                let swap = op.isCommutative && sameRange && rng.nextInt(below: 2) == 1
                take(swap ? b : a, swap ? a : b, rng: &rng)
            }
        } else {
            var attempts = 0
            let limit = 100 * count + 10_000
            while out.count < count && attempts < limit {
                attempts += 1
                let a = ra.lowerBound + rng.nextInt(below: ra.count)
                let b = rb.lowerBound + rng.nextInt(below: rb.count)
                take(a, b, rng: &rng)
            }
        }
        guard out.count == count else {
            throw DatasetError(field: split, "task \(spec.name): found only \(out.count) of \(count) distinct \(split) "
                               + "problems (the rest are taken by other sets or held out); ask for fewer")
        }
        return out
    }

    /// One JSONL line (no newline) for `problem` in `format`; `completionPrefix` goes before the completion's answer.
    public static func jsonLine(_ problem: ArithmeticProblem, format: Format, completionPrefix: String = "") -> String {
        let p = JSONText.quoted(problem.prompt), t = JSONText.quoted(problem.task)
        switch format {
        case .promptCompletion:
            return "{\"prompt\":\(p),\"completion\":\(JSONText.quoted(completionPrefix + problem.answerText)),\"task\":\(t)}"
        case .promptOnly:
            return "{\"prompt\":\(p),\"answer\":\(JSONText.quoted(problem.answerText)),\"task\":\(t)}"
        case .text:
            return "{\"text\":\(JSONText.quoted(problem.prompt + " " + problem.answerText)),\"task\":\(t)}"
        case .statement:
            return "{\"text\":\(JSONText.quoted(problem.statement)),\"task\":\(t)}"
        }
    }

    /// The problems as JSONL text, one line each, newline-terminated.
    public static func jsonl(_ problems: [ArithmeticProblem], format: Format, completionPrefix: String = "") -> String {
        var out = ""
        for p in problems { out += jsonLine(p, format: format, completionPrefix: completionPrefix) + "\n" }
        return out
    }

    /// Writes `problems` as JSONL to a new file at `url`; throws naming the file if it already exists.
    public static func write(_ problems: [ArithmeticProblem], to url: URL, format: Format,
                             completionPrefix: String = "") throws(DatasetError) {
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError(field: nil, "already exists; refusing to overwrite it", file: url.path)
        }
        let data = Data(jsonl(problems, format: format, completionPrefix: completionPrefix).utf8)
        do { try data.write(to: url, options: .withoutOverwriting) } catch {
            throw DatasetError(field: nil, "cannot write: \(error.localizedDescription)", file: url.path)
        }
    }

    /// Makes `specs` and writes `train.jsonl` (in `trainFormat`) and `test.jsonl` (prompt-completion, for
    /// `ExactMatchEvaluator`) into `folder`, creating it if needed; returns their URLs. Throws, writing nothing,
    /// if either file already exists.
    @discardableResult
    public static func make(specs: [TaskSpec], into folder: URL, seed: UInt64 = 0,
                            trainFormat: Format = .promptCompletion, completionPrefix: String = "") throws(DatasetError) -> [URL] {
        let trainURL = folder.appendingPathComponent("train.jsonl")
        let testURL = folder.appendingPathComponent("test.jsonl")
        for u in [trainURL, testURL] where FileManager.default.fileExists(atPath: u.path) {
            throw DatasetError(field: nil, "already exists; refusing to overwrite it", file: u.path)
        }
        let (train, test) = try generate(specs: specs, seed: seed)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw DatasetError(field: nil, "cannot create folder: \(error.localizedDescription)", file: folder.path)
        }
        try write(train, to: trainURL, format: trainFormat, completionPrefix: completionPrefix)
        try write(test, to: testURL, format: .promptCompletion, completionPrefix: completionPrefix)
        return [trainURL, testURL]
    }
}
