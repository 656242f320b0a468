import Foundation
import Testing
@testable import TetherTokenizers

@Suite struct TrainerTests {
    let corpus = TokenizerBenchmark.syntheticText(bytes: 200_000, seed: 7)

    @Test func trainingIsDeterministicAndHitsTheVocabSize() throws {
        let trainer = BPETrainer(vocabSize: 600, minFrequency: 2, specialTokens: ["<|endoftext|>", "<pad>"])
        let a = trainer.train(texts: [corpus])
        let b = trainer.train(texts: [corpus])
        #expect(a.model.vocab == b.model.vocab)
        #expect(a.model.merges.map { [$0.0, $0.1] } == b.model.merges.map { [$0.0, $0.1] })
        #expect(a.model.vocab.count == 600)
        #expect(a.tokenToId("<|endoftext|>") == 0 && a.tokenToId("<pad>") == 1)
        #expect(a.isSpecial(0) && a.isSpecial(1))
        // Byte tokens follow the specials in code-point order: "!" (U+21) first, "Ā" (byte 0) after "ÿ".
        #expect(a.model.vocab["!"] == Int32(2))
        #expect(a.model.vocab["Ā"]! == a.model.vocab["ÿ"]! + 1)
        // Frequent words become single tokens; special tokens are never split.
        #expect(a.encode(" the").count == 1)
        #expect(a.encode("x<|endoftext|>y") == a.encode("x") + [0] + a.encode("y"))
        let text = " the model's reward 123 café 😀"
        #expect(a.decode(a.encode(text)) == text)
        #expect(a.encode(corpus).count < corpus.utf8.count / 2)
    }

    @Test func tiesGoToTheSmallerPairAndMinFrequencyStopsTraining() {
        // "ab" and "cd" both occur 3 times; "ef" twice. Ties go to the smaller ids: (a, b) first.
        let text = "cd\nab\nef\ncd\nab\nef\ncd\nab"
        let t = BPETrainer(vocabSize: 1000, minFrequency: 3, preTokenizer: .gpt2).train(texts: [text])
        let merges = t.model.merges.map { "\($0.0) \($0.1)" }
        #expect(merges == ["a b", "c d"])
        let t2 = BPETrainer(vocabSize: 1000, minFrequency: 2).train(texts: [text])
        #expect(t2.model.merges.map { "\($0.0) \($0.1)" } == ["a b", "c d", "e f"])
        let t3 = BPETrainer(vocabSize: 256 + 1, minFrequency: 1).train(texts: [text])
        #expect(t3.model.merges.count == 1)
    }

    @Test func trainedTokenizerSavesAndLoadsAndTrainsFromFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("corpus.txt")
        try corpus.write(to: file, atomically: true, encoding: .utf8)
        let trainer = BPETrainer(vocabSize: 400, specialTokens: ["<|endoftext|>"], preTokenizer: .llama3)
        let t = try trainer.train(files: [file])
        #expect(t.model.vocab == trainer.train(texts: [corpus]).model.vocab)
        let out = dir.appendingPathComponent("tokenizer.json")
        try t.save(tokenizerJSON: out)
        let back = try Tokenizer(tokenizerJSON: out)
        #expect(back.preTokenizer == .llama3)
        let sample = String(corpus.prefix(5000))
        #expect(back.encode(sample) == t.encode(sample))
        #expect(throws: TokenizerError.self) { try trainer.train(files: [dir.appendingPathComponent("missing.txt")]) }
    }
}

/// The trainer reproduces the HF `BpeTrainer` (same vocab ids and merges) on the fixture corpus.
@Suite struct TrainerParityTests {
    let corpus = try! JSONDecoder().decode([String].self, from: Data(contentsOf: fixtures.appendingPathComponent("corpus.json")))

    func merges(_ t: Tokenizer) -> [String] { t.model.merges.map { "\($0.0) \($0.1)" } }

    @Test func gpt2StyleTrainingEqualsTokenizersLibrary() throws {
        let hf = try loadFixture("gpt2.json")
        let ours = BPETrainer(vocabSize: 500, minFrequency: 2, specialTokens: ["<|endoftext|>"], preTokenizer: .gpt2).train(texts: corpus)
        #expect(ours.model.vocab == hf.model.vocab)
        #expect(merges(ours) == merges(hf))
    }

    @Test func llama3StyleTrainingEqualsTokenizersLibrary() throws {
        let hf = try loadFixture("llama3.json")
        let specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
        let ours = BPETrainer(vocabSize: 700, minFrequency: 2, specialTokens: specials, preTokenizer: .llama3).train(texts: corpus)
        #expect(ours.model.vocab == hf.model.vocab)
        #expect(merges(ours) == merges(hf))
    }
}
