import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM
import TetherTokenizers

/// SFT and pretraining trainers from TRL-format records through the tokenizer, on the loop.
extension LoopTests {
    static let tokenizer = BPETrainer(vocabSize: 300, specialTokens: ["<|endoftext|>"])
        .train(texts: (0..<100).map { "What is \($0) + \($0 % 7)? \($0 + $0 % 7)." })

    func model(vocab: Int) -> CausalLM {
        CausalLM(config: .gpt2(vocabSize: vocab, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 64), seed: 2)
    }

    @Test func sftTrainsOnlyCompletionTokensOfPromptCompletionData() throws {
        let tok = Self.tokenizer, eos = tok.tokenToId("<|endoftext|>")!
        let records = (0..<6).map { i in
            AnyExample.promptCompletion(PromptCompletionExample(prompt: .text("What is \(i) + 3?"), completion: .text(" \(i + 3).")))
        }
        var config = SFTConfig(training: smallConfig(steps: 2))
        config.training.microBatchSize = 1
        let trainer = try SFTTrainer(config: config, model: model(vocab: tok.vocabSize), tokenizer: ExampleTokenizer(tokenizer: tok, eosId: eos),
                                     train: records)
        trainer.loop.progress = .silent
        for i in 0..<6 {
            let batch = trainer.loop.trainData.batch([i])
            let completion = tok.encode(" \(i + 3).", addSpecialTokens: false).count + 1  // + EOS
            #expect(batch.trainedTokens == completion, "example \(i)")
            // The trained targets are the completion's tokens then EOS, in order.
            #expect(batch.labels.values.filter { $0 != -100 } == tok.encode(" \(i + 3).", addSpecialTokens: false) + [eos])
        }
        try trainer.train()
        let lines = try Metrics.read(trainer.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        #expect(lines.count == 2 && lines.allSatisfy { $0["loss"]!.isFinite })

        // With completion_only_loss off, the prompt trains too.
        var all = config
        all.completionOnlyLoss = false
        all.training.runName = "all"
        let full = try SFTTrainer(config: all, model: model(vocab: tok.vocabSize), tokenizer: ExampleTokenizer(tokenizer: tok, eosId: eos),
                                  train: records)
        #expect(full.loop.trainData.batch([0]).trainedTokens == tok.encode("What is 0 + 3? 3.", addSpecialTokens: false).count)
    }

    @Test func sftWithAssistantOnlyLossTrainsOnlyAssistantTurns() throws {
        let tok = BPETrainer(vocabSize: 300, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
            .train(texts: ["user assistant system Hi Hello there. What is 3 * 3? 9"])
        let messages = [ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Hello there."),
                        ChatMessage(.user, "What is 3 * 3?"), ChatMessage(.assistant, "9")]
        var config = SFTConfig(training: smallConfig(steps: 1))
        config.assistantOnlyLoss = true
        config.training.microBatchSize = 1
        config.training.maxLength = 64  // the whole conversation (32 would cut the second answer off)
        let trainer = try SFTTrainer(config: config, model: model(vocab: tok.vocabSize),
                                     tokenizer: ExampleTokenizer(tokenizer: tok, template: ChatTemplate(style: .chatML)),
                                     train: [.languageModeling(LanguageModelingExample(.messages(messages)))])
        trainer.loop.progress = .silent
        let targets = trainer.loop.trainData.batch([0]).labels.values.filter { $0 != -100 }
        #expect(tok.decode(targets) == "Hello there.<|im_end|>9<|im_end|>")
        try trainer.train()
        // Plain text cannot be trained assistant-only: refused at the boundary.
        #expect(throws: DatasetError.self) {
            _ = try SFTTrainer(config: config, model: model(vocab: tok.vocabSize), tokenizer: ExampleTokenizer(tokenizer: tok),
                               train: [.languageModeling(LanguageModelingExample(.text("Hi")))])
        }
    }

    @Test func pretrainingPacksTextAndTrainsEveryToken() throws {
        let tok = Self.tokenizer, eos = tok.tokenToId("<|endoftext|>")!
        let texts = (0..<12).map { "What is \($0) + 1? \($0 + 1)." }
        var c = smallConfig(steps: 3)
        c.packing = true
        c.maxLength = 40
        c.learningRate = 1e-3
        let tokenized = try texts.map { try ExampleTokenizer(tokenizer: tok, eosId: eos).tokenize(LanguageModelingExample(.text($0))) }
        c.microBatchSize = try LMRows.make(tokenized, maxLength: 40, packing: true).count  // a step is exactly one epoch
        let trainer = try PretrainTrainer(config: c, model: model(vocab: tok.vocabSize),
                                          tokenizer: ExampleTokenizer(tokenizer: tok, eosId: eos), texts: texts, evalTexts: Array(texts.prefix(2)))
        trainer.sft.loop.progress = .silent
        let loop = trainer.sft.loop
        #expect(loop.trainData.count < texts.count)  // packed: several texts per row
        let rows = loop.trainData.batch(Array(0..<loop.trainData.count))
        let tokens = texts.map { tok.encode($0, addSpecialTokens: false).count + 1 }.reduce(0, +)
        #expect(rows.trainedTokens == tokens - texts.count)  // every token but each text's first is a target
        try trainer.train()
        let lines = try Metrics.read(loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        #expect(lines.last?["eval_loss"] != nil)
        #expect(lines.map { $0["num_tokens"] } == [1, 2, 3].map { Double($0 * tokens) })
        #expect(lines.map { $0["epoch"] } == [1, 2, 3])
    }

    @Test func pretrainingResumesExactly() throws {
        let tok = Self.tokenizer, eos = tok.tokenToId("<|endoftext|>")!
        let texts = (0..<9).map { "What is \($0) + 2? \($0 + 2)." }
        let tokenizer = ExampleTokenizer(tokenizer: tok, eosId: eos)
        var c = smallConfig(steps: 4)
        c.packing = true
        c.maxLength = 40
        let straight = try PretrainTrainer(config: c, model: model(vocab: tok.vocabSize), tokenizer: tokenizer, texts: texts)
        straight.sft.loop.progress = .silent
        try straight.train()
        c.outputDir = tempDir().path
        let first = try PretrainTrainer(config: c, model: model(vocab: tok.vocabSize), tokenizer: tokenizer, texts: texts)
        first.sft.loop.progress = .silent
        first.sft.loop.afterStep = { [loop = first.sft.loop] step, _ in if step == 1 { loop.requestStop() } }
        try first.train()
        let second = try PretrainTrainer(resuming: first.sft.loop.runDirectory, config: c, model: model(vocab: tok.vocabSize),
                                         tokenizer: tokenizer, texts: texts)
        second.sft.loop.progress = .silent
        try second.train()
        let a = try Metrics.read(straight.sft.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        let b = try Metrics.read(first.sft.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        #expect(a.count == 4 && timeless(a) == timeless(b))
    }
}
