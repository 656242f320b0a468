import Foundation
import Testing
@testable import tether
import TetherLM
import TetherTokenizers

/// The `tether` commands end to end on a tiny model folder made in the test.
@Suite struct CLISmokeTests {
    /// A folder with a freshly trained byte-level tokenizer and a random tiny GPT-2 of its vocab size.
    func tinyModelFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let text = String(repeating: "the cat sat on the mat. 12 + 34 = 46. ", count: 50)
        let tokenizer = BPETrainer(vocabSize: 300, minFrequency: 1, specialTokens: ["<|endoftext|>"]).train(texts: [text])
        try tokenizer.save(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"))
        var config = TransformerConfig.gpt2(vocabSize: tokenizer.vocabSize, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 64)
        config.eosTokenIds = [Int(tokenizer.tokenToId("<|endoftext|>")!)]
        try CausalLM(config: config, seed: 1).save(to: dir)
        return dir
    }

    @Test func generateJSONAndTokenize() throws {
        let dir = try tinyModelFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let command = try GenerateCommand.parse(["--model", dir.path, "--prompt", "the cat", "--n", "2",
                                                 "--temperature", "0", "--max-new-tokens", "5", "--json"])
        let lines = try command.outputLines()
        #expect(lines.count == 2)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["prompt"] as? String == "the cat")
            let ids = try #require(object["token_ids"] as? [Int])
            #expect((object["logprobs"] as? [Double])?.count == ids.count)
            #expect(["stop", "length"].contains(object["finish_reason"] as? String))
            #expect(ids.count <= 5 && object["text"] is String)
        }
        #expect(lines[0] == lines[1])  // greedy: both samples agree
        let encode = try TokenizeCommand.parse(["--tokenizer", dir.path, "the cat"])
        #expect(try encode.output().hasPrefix("["))
        #expect(throws: (any Error).self) { try GenerateCommand.parse(["--model", "/no/such/folder", "--prompt", "x"]).outputLines() }
    }

    @Test func dataMakeThenEval() throws {
        let dir = try tinyModelFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try DataCommand.MakeCommand.parse(["arithmetic", "--out", data.path, "--tasks", "add_1x1",
                                           "--train", "20", "--test", "5"]).run()
        let test = data.appendingPathComponent("test.jsonl")
        #expect(try String(contentsOf: test, encoding: .utf8).split(separator: "\n").count == 5)
        // Making it again would overwrite: refused.
        #expect(throws: (any Error).self) {
            try DataCommand.MakeCommand.parse(["arithmetic", "--out", data.path, "--tasks", "add_1x1",
                                               "--train", "20", "--test", "5"]).run()
        }
        let result = try EvalCommand.parse(["--task", "arithmetic", "--model", dir.path, "--data", test.path,
                                            "--max-new-tokens", "3"]).evaluate()
        #expect(result.records.count == 5 && result.perTask["add_1x1"]?.total == 5)
    }

    @Test func dataMakeAssistantWritesTheSixFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["assistant", "--out", dir.path, "--prompts", "40", "--test", "5", "--noise", "0.1", "--bias", "1",
                    "--margin", "--stepwise", "7"]
        try DataCommand.MakeCommand.parse(args).run()
        func lines(_ name: String) throws -> [Substring] {
            try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")
        }
        #expect(try lines("sft.jsonl").count == 40 && lines("kto.jsonl").count == 40 && lines("stepwise.jsonl").count == 7)
        #expect(try lines("preference.jsonl").allSatisfy { $0.contains("\"margin\":") })
        #expect(try lines("eval_prompts.jsonl").filter { $0.contains("\"arithmetic\"") }.count == 10)
        #expect(try !lines("preference_eval.jsonl").isEmpty && lines("preference_eval.jsonl").allSatisfy { !$0.contains("\"margin\":") })
        #expect(throws: (any Error).self) { try DataCommand.MakeCommand.parse(args).run() }  // never overwrites
        #expect(throws: (any Error).self) { try DataCommand.MakeCommand.parse(["assistant", "--noise", "2"]).run() }
    }
}
