import Foundation
import Tether

/// One evaluation item: a prompt, its gold integer answer and the task it belongs to.
public struct EvalExample: Sendable, Hashable, Codable {
    /// The question given to the model.
    public var prompt: String
    /// The correct answer.
    public var gold: Int
    /// The task's name for the per-task breakdown (e.g. `add_3x3`).
    public var task: String

    /// Creates an example.
    public init(prompt: String, gold: Int, task: String) {
        self.prompt = prompt
        self.gold = gold
        self.task = task
    }

    /// The example of a generated problem.
    public init(_ problem: ArithmeticProblem) {
        self.init(prompt: problem.prompt, gold: problem.answer, task: problem.task)
    }

    /// Reads a prompt-completion JSONL/JSON file (as `ArithmeticData.make` writes `test.jsonl`): the gold answer is
    /// the completion's integer (by `AnswerExtractor`), the task the `task` column (`defaultTask` if absent).
    public static func load(_ url: URL, defaultTask: String = "all") throws(DatasetError) -> [EvalExample] {
        let loaded = try DatasetLoader.load(PromptCompletionExample.self, from: url)
        var out: [EvalExample] = []
        for (i, e) in loaded.examples.enumerated() {
            guard case .text(let prompt) = e.prompt, case .text(let completion) = e.completion else {
                throw DatasetError(field: "prompt", "record \(i + 1): exact-match evaluation needs plain-text prompts "
                                   + "and completions", file: url.lastPathComponent)
            }
            guard let gold = AnswerExtractor.extract(completion) else {
                throw DatasetError(field: "completion", "record \(i + 1): expected an integer answer, got \"\(completion)\"",
                                   file: url.lastPathComponent)
            }
            out.append(EvalExample(prompt: prompt, gold: gold, task: e.extras["task"]?.string ?? defaultTask))
        }
        return out
    }
}

/// What happened on one example: the model's output, the integer extracted from it, and whether it matched.
public struct EvalRecord: Sendable, Hashable, Codable {
    /// The question.
    public var prompt: String
    /// The correct answer.
    public var gold: Int
    /// The model's completion, verbatim.
    public var output: String
    /// The answer found in `output` (nil if none).
    public var extracted: Int?
    /// Whether `extracted == gold`.
    public var correct: Bool
    /// The task's name.
    public var task: String

    /// Creates a record.
    public init(prompt: String, gold: Int, output: String, extracted: Int?, correct: Bool, task: String) {
        self.prompt = prompt
        self.gold = gold
        self.output = output
        self.extracted = extracted
        self.correct = correct
        self.task = task
    }
}

/// Exact-match counts of one task.
public struct TaskAccuracy: Sendable, Hashable, Codable {
    /// Examples answered correctly.
    public var correct: Int
    /// Examples evaluated.
    public var total: Int
    /// Creates counts.
    public init(correct: Int, total: Int) {
        self.correct = correct
        self.total = total
    }

    /// `correct / total` (0 for no examples).
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
}

/// The outcome of an exact-match evaluation.
public struct EvalResult: Sendable {
    /// One record per example, in input order.
    public var records: [EvalRecord]
    /// Counts per task name.
    public var perTask: [String: TaskAccuracy]

    /// Fraction of all examples answered correctly (0 for none).
    public var accuracy: Double {
        records.isEmpty ? 0 : Double(records.lazy.filter(\.correct).count) / Double(records.count)
    }

    /// The records as JSONL (keys sorted, `extracted` null when nothing was found).
    public func recordsJSONL() -> String {
        var out = ""
        for r in records {
            let extracted = r.extracted.map(String.init) ?? "null"
            out += "{\"correct\":\(r.correct),\"extracted\":\(extracted),\"gold\":\(r.gold),"
                + "\"output\":\(JSONText.quoted(r.output)),\"prompt\":\(JSONText.quoted(r.prompt)),"
                + "\"task\":\(JSONText.quoted(r.task))}\n"
        }
        return out
    }

    /// Writes the records as JSONL to a new file; throws naming the file if it already exists.
    public func writeRecords(to url: URL) throws(DatasetError) {
        do { try Data(recordsJSONL().utf8).write(to: url, options: .withoutOverwriting) } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw DatasetError(field: nil, exists ? "already exists; refusing to overwrite it"
                               : "cannot write: \(error.localizedDescription)", file: url.path)
        }
    }
}

/// Scores a model by exact match of the integer in its output against the gold answer.
public enum ExactMatchEvaluator {
    /// A model that returned a different number of completions than it was given prompts.
    public struct CountMismatch: Error, CustomStringConvertible {
        /// Prompts in the batch.
        public var prompts: Int
        /// Completions returned.
        public var completions: Int
        /// Explains the mismatch.
        public var description: String { "generate returned \(completions) completions for \(prompts) prompts" }
    }

    /// Evaluates `examples` in batches of `batchSize` prompts; `generate` maps prompts to completions, in order.
    public static func evaluate(_ examples: [EvalExample], batchSize: Int = 64,
                                generate: ([String]) throws -> [String]) throws -> EvalResult {
        precondition(batchSize > 0, "batchSize must be positive, got \(batchSize)")
        var records: [EvalRecord] = []
        records.reserveCapacity(examples.count)
        var perTask: [String: TaskAccuracy] = [:]
        var start = 0
        while start < examples.count {
            let batch = examples[start..<min(start + batchSize, examples.count)]
            let outputs = try generate(batch.map(\.prompt))
            guard outputs.count == batch.count else { throw CountMismatch(prompts: batch.count, completions: outputs.count) }
            for (e, output) in zip(batch, outputs) {
                let extracted = AnswerExtractor.extract(output)
                let correct = extracted == e.gold
                records.append(EvalRecord(prompt: e.prompt, gold: e.gold, output: output, extracted: extracted,
                                          correct: correct, task: e.task))
                perTask[e.task, default: TaskAccuracy(correct: 0, total: 0)].total += 1
                if correct { perTask[e.task]!.correct += 1 }
            }
            start += batch.count
        }
        return EvalResult(records: records, perTask: perTask)
    }
}
