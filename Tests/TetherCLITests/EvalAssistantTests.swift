import ArgumentParser
import Foundation
import Testing
@testable import tether
import TetherLM
import TetherTokenizers

/// `tether eval --task assistant` end to end on a random tiny model, and the task option's errors.
@Suite struct EvalAssistantTests {
    /// A small assistant world in `dir/data` and a random tiny GPT-2 (with a tokenizer trained on the world) in `dir/model`.
    func worldAndModel() throws -> (dir: URL, prompts: URL, model: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID().uuidString)")
        let data = dir.appendingPathComponent("data"), model = dir.appendingPathComponent("model")
        try DataCommand.MakeCommand.parse(["assistant", "--out", data.path, "--prompts", "40", "--test", "2"]).run()
        let tokenizer = BPETrainer(vocabSize: 300, minFrequency: 1, specialTokens: ["<|endoftext|>"])
            .train(texts: try TokenizerCommand.TrainCommand.texts(in: data.appendingPathComponent("sft.jsonl")))
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try tokenizer.save(tokenizerJSON: model.appendingPathComponent("tokenizer.json"))
        var config = TransformerConfig.gpt2(vocabSize: tokenizer.vocabSize, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 96)
        config.eosTokenIds = [Int(tokenizer.tokenToId("<|endoftext|>")!)]
        try CausalLM(config: config, seed: 1).save(to: model)
        return (dir, data.appendingPathComponent("eval_prompts.jsonl"), model)
    }

    @Test func assistantJSONAgainstItselfAsReference() throws {
        let (dir, prompts, model) = try worldAndModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let records = dir.appendingPathComponent("records.jsonl")
        let args = ["--task", "assistant", "--model", model.path, "--reference", model.path, "--data", prompts.path,
                    "--max-new-tokens", "4", "--n-samples", "2", "--seed", "3", "--json", "--records", records.path]
        let command = try EvalCommand.parse(args)
        let report = try command.evaluateAssistant()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(object["kl"] as? Double == 0 && object["gold_win_rate"] as? Double == 0.5)
        #expect(object["samples_per_prompt"] as? Int == 2 && object["seed"] as? Int == 3 && object["max_new_tokens"] as? Int == 4)
        let promptCount = try String(contentsOf: prompts, encoding: .utf8).split(separator: "\n").count
        #expect(object["prompts"] as? Int == promptCount && object["count"] as? Int == 2 * promptCount)
        for key in ["gold_reward", "refusal_rate", "over_refusal_rate", "arithmetic_accuracy", "mean_length", "mean_words"] {
            #expect(object[key] is Double, "\(key) should be a number")
        }
        try command.run()
        #expect(try String(contentsOf: records, encoding: .utf8).split(separator: "\n").count == 2 * promptCount)
        do {  // the records file is never overwritten, and this is known before sampling
            try command.run()
            Issue.record("the records file was overwritten")
        } catch {
            #expect("\(error)".contains("already exists"), "\(error)")
        }
    }

    @Test func unknownTaskAndMisplacedOptionsAreClearErrors() throws {
        do {
            _ = try EvalCommand.parse(["--task", "poetry", "--model", "m"])
            Issue.record("an unknown task parsed")
        } catch {
            let message = EvalCommand.message(for: error)
            #expect(message.contains("poetry") && message.contains("arithmetic") && message.contains("assistant"), "\(message)")
        }
        do {
            _ = try EvalCommand.parse(["--task", "arithmetic", "--model", "m", "--reference", "r"])
            Issue.record("--reference parsed with the arithmetic task")
        } catch {
            #expect(EvalCommand.message(for: error).contains("--reference: only for --task assistant"))
        }
        #expect(throws: (any Error).self) { try EvalCommand.parse(["--task", "assistant", "--model", "m", "--n-samples", "0"]) }
        let (dir, _, model) = try worldAndModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.jsonl")
        try Data("{\"prompt\":\"What is the capital of France?\"}\n".utf8).write(to: bad)
        do {
            _ = try EvalCommand.parse(["--task", "assistant", "--model", model.path, "--data", bad.path]).evaluateAssistant()
            Issue.record("a prompt outside the world was accepted")
        } catch {
            #expect("\(error)".contains("bad.jsonl") && "\(error)".contains("record 1"), "\(error)")
        }
    }

    @Test func tokenizerTrainCanSpellNumbersDigitByDigit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let text = dir.appendingPathComponent("facts.txt")
        try Data(String(repeating: "12 + 34 = 46. 120 + 340 = 460. ", count: 40).utf8).write(to: text)
        for split in ["gpt2", "qwen2"] {
            let out = dir.appendingPathComponent(split).path
            _ = try TokenizerCommand.TrainCommand.parse(["--files", text.path, "--vocab-size", "300", "--out", out,
                                                         "--pre-tokenizer", split]).train()
            let ids = try Tokenizer(tokenizerJSON: URL(fileURLWithPath: out).appendingPathComponent("tokenizer.json")).encode(" 460")
            #expect(split == "qwen2" ? ids.count >= 3 : ids.count == 1, "\(split): \(ids)")
        }
        #expect(throws: (any Error).self) { try TokenizerCommand.TrainCommand.parse(["--files", text.path, "--pre-tokenizer", "bert"]) }
    }
}
