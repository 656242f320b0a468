import ArgumentParser
import Foundation
import Tether
import TetherAlign
import TetherLM
import TetherTokenizers

/// `tether eval --task arithmetic|assistant`: a model on a task's held-out prompts.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model folder on a task's held-out prompts.",
        discussion: """
            arithmetic: exact-match accuracy of greedy answers to test.jsonl.
            assistant: samples responses to eval_prompts.jsonl (from `tether data make assistant`) and scores them \
            with gold: mean gold reward (overall and per kind), refusal and over-refusal rates, arithmetic accuracy, \
            length; with --reference also the gold win rate against the reference's samples and KL(policy || reference).
            """)

    /// The tasks `tether eval` knows.
    enum Task: String, ExpressibleByArgument, CaseIterable {
        /// Held-out arithmetic questions, greedy, exact match.
        case arithmetic
        /// The gold assistant world's held-out prompts, sampled and judged by gold.
        case assistant
    }

    @Option(help: "The task: arithmetic or assistant.")
    var task: Task

    @Option(help: "The model folder (config.json, model.safetensors, tokenizer.json).")
    var model: String

    @Option(help: "The prompts: test.jsonl (arithmetic; default data/arithmetic/test.jsonl) or eval_prompts.jsonl (assistant; default data/assistant/eval_prompts.jsonl).")
    var data: String?

    @Option(help: "Most tokens generated per answer (default: 12 for arithmetic, 64 for assistant).")
    var maxNewTokens: Int?

    @Option(help: "Also write one JSON record per problem or response here (a new file).")
    var records: String?

    @Option(help: "assistant: a reference model folder, sampled the same way, for the gold win rate and KL(policy || reference) (default: none).")
    var reference: String?

    @Option(help: "assistant: responses sampled per prompt (default: 1).")
    var nSamples: Int?

    @Option(help: "assistant: sampling temperature; 1 samples the policy itself, as the KL estimate assumes, 0 is greedy (default: 1).")
    var temperature: Float?

    @Option(help: "assistant: random seed of the samples (default: 0).")
    var seed: UInt64?

    @Flag(help: "assistant: print one JSON object with every figure instead of text.")
    var json = false

    func validate() throws {
        if let maxNewTokens, maxNewTokens < 1 { throw ValidationError("--max-new-tokens: expected at least 1, got \(maxNewTokens)") }
        if let nSamples, nSamples < 1 { throw ValidationError("--n-samples: expected at least 1, got \(nSamples)") }
        if let temperature, !(temperature.isFinite && temperature >= 0) {
            throw ValidationError("--temperature: expected a number >= 0 (0 is greedy), got \(temperature)")
        }
        if task == .arithmetic {
            let given = [("--reference", reference != nil), ("--n-samples", nSamples != nil), ("--temperature", temperature != nil),
                         ("--seed", seed != nil), ("--json", json)].filter(\.1).map(\.0)
            if let first = given.first { throw ValidationError("\(first): only for --task assistant (arithmetic decodes greedily)") }
        }
    }

    func run() throws {
        if let records, FileManager.default.fileExists(atPath: records) {  // before the evaluation, not after it
            throw ValidationError("--records \(records): already exists; refusing to overwrite it")
        }
        switch task {
        case .arithmetic:
            let result = try evaluate()
            for (name, acc) in result.perTask.sorted(by: { $0.key < $1.key }) {
                print(String(format: "%@: %.1f%% (%d/%d)", name, 100 * Double(acc.correct) / Double(max(acc.total, 1)), acc.correct, acc.total))
            }
            print(String(format: "accuracy: %.1f%% over %d problems", 100 * result.accuracy, result.records.count))
            if let records { try result.writeRecords(to: URL(fileURLWithPath: records)) }
        case .assistant:
            let report = try evaluateAssistant()
            if json { print(report.json) } else { report.summary.forEach { print($0) } }
            if let records { try report.writeRecords(to: URL(fileURLWithPath: records)) }
        }
    }

    /// Greedy answers to every test problem, scored by exact match (`--task arithmetic`).
    func evaluate() throws -> EvalResult {
        guard task == .arithmetic else { throw ValidationError("--task \(task.rawValue): use evaluateAssistant()") }
        let lm = try CausalLM(contentsOf: URL(fileURLWithPath: model))
        let tokenizer = try Tokenizer(tokenizerJSON: try tokenizerFile(model))
        let examples = try EvalExample.load(URL(fileURLWithPath: data ?? "data/arithmetic/test.jsonl"))
        let config = SamplingConfig.greedy(maxNewTokens: maxNewTokens ?? 12)
        return try ExactMatchEvaluator.evaluate(examples) { prompts in
            try generate(model: lm, prompts: prompts.map { tokenizer.encode($0) }, config: config,
                         decode: { tokenizer.decode($0, skipSpecialTokens: true) }).map { $0.text ?? "" }
        }
    }

    /// Sampled responses to the held-out assistant prompts, judged by gold (`--task assistant`).
    func evaluateAssistant() throws -> AssistantPolicyReport {
        guard task == .assistant else { throw ValidationError("--task \(task.rawValue): use evaluate()") }
        let policy = try CausalLM(contentsOf: URL(fileURLWithPath: model))
        let tokenizer = try Tokenizer(tokenizerJSON: try tokenizerFile(model))
        let ref = try reference.map { try CausalLM(contentsOf: URL(fileURLWithPath: $0)) }
        if let reference, let ref, ref.config.vocabSize != policy.config.vocabSize {
            throw ValidationError("--reference \(reference): vocabulary of \(ref.config.vocabSize) tokens, the policy has "
                                  + "\(policy.config.vocabSize); the reference must share the policy's tokenizer")
        }
        let prompts = try AssistantPrompt.load(URL(fileURLWithPath: data ?? "data/assistant/eval_prompts.jsonl"))
        let sampling = SamplingConfig(temperature: temperature ?? 1, maxNewTokens: maxNewTokens ?? 64, seed: seed ?? 0)
        let evaluation = AssistantPolicyEvaluation(tokenizer: tokenizer, sampling: sampling, samplesPerPrompt: nSamples ?? 1)
        return try evaluation.run(policy: policy, reference: ref, prompts: prompts)
    }
}
