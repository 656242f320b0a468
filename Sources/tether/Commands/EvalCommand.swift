import ArgumentParser
import Foundation
import Tether
import TetherAlign
import TetherLM
import TetherTokenizers

/// `tether eval --task arithmetic`: exact-match accuracy of a model's greedy answers.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model folder on a task's held-out problems (greedy decoding, exact match).")

    @Option(help: "The task: arithmetic.")
    var task: String

    @Option(help: "The model folder (config.json, model.safetensors, tokenizer.json).")
    var model: String

    @Option(help: "The test file (prompt, completion, task per line).")
    var data = "data/arithmetic/test.jsonl"

    @Option(help: "Most tokens generated per answer.")
    var maxNewTokens = 12

    @Option(help: "Also write one JSON record per problem (prompt, gold, output, extracted, correct) here.")
    var records: String?

    func run() throws {
        let result = try evaluate()
        for (name, acc) in result.perTask.sorted(by: { $0.key < $1.key }) {
            print(String(format: "%@: %.1f%% (%d/%d)", name, 100 * Double(acc.correct) / Double(max(acc.total, 1)), acc.correct, acc.total))
        }
        print(String(format: "accuracy: %.1f%% over %d problems", 100 * result.accuracy, result.records.count))
        if let records { try result.writeRecords(to: URL(fileURLWithPath: records)) }
    }

    /// Greedy answers to every test problem, scored by exact match.
    func evaluate() throws -> EvalResult {
        guard task == "arithmetic" else { throw ValidationError("unknown task '\(task)' (known: arithmetic)") }
        let lm = try CausalLM(contentsOf: URL(fileURLWithPath: model))
        let tokenizer = try Tokenizer(tokenizerJSON: try tokenizerFile(model))
        let examples = try EvalExample.load(URL(fileURLWithPath: data))
        let config = SamplingConfig.greedy(maxNewTokens: maxNewTokens)
        return try ExactMatchEvaluator.evaluate(examples) { prompts in
            try generate(model: lm, prompts: prompts.map { tokenizer.encode($0) }, config: config,
                         decode: { tokenizer.decode($0, skipSpecialTokens: true) }).map { $0.text ?? "" }
        }
    }
}
