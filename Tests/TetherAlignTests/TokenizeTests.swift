import Foundation
import Testing
import TetherAlign
import TetherTokenizers

@Suite struct TokenizeTests {
    static let tokenizer = BPETrainer(vocabSize: 400, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        .train(texts: (0..<200).map { "What is \($0) * \($0 % 13)? The answer is \($0 * ($0 % 13)). Hello there, assistant user system." })
    var tok: Tokenizer { Self.tokenizer }
    var eos: Int32 { tok.tokenToId("<|endoftext|>")! }

    /// The trained tokens decoded, with untrained runs between them shown as "|".
    func trained(_ e: TokenizedExample) -> String {
        var runs: [[Int32]] = [], cur: [Int32] = []
        for (id, m) in zip(e.ids, e.lossMask) {
            if m { cur.append(id) } else if !cur.isEmpty { runs.append(cur); cur = [] }
        }
        if !cur.isEmpty { runs.append(cur) }
        return runs.map { tok.decode($0) }.joined(separator: "|")
    }

    func untrained(_ e: TokenizedExample) -> String {
        tok.decode(zip(e.ids, e.lossMask).filter { !$0.1 }.map(\.0))
    }

    @Test func standardTextTrainsEverythingAndEndsWithOneEOS() throws {
        let t = ExampleTokenizer(tokenizer: tok, eosId: eos)
        let e = try t.tokenize(LanguageModelingExample(.text("Hello there.")))
        #expect(e.ids == tok.encode("Hello there.") + [eos])
        #expect(e.lossMask.allSatisfy { $0 })
        let already = try t.tokenize(LanguageModelingExample(.text("Hello there.<|endoftext|>")))
        #expect(already.ids == e.ids)
    }

    @Test func completionOnlyLossTrainsTheCompletionAndItsEOS() throws {
        let t = ExampleTokenizer(tokenizer: tok, eosId: eos)
        let ex = PromptCompletionExample(prompt: .text("What is 17 * 4?"), completion: .text(" 68"))
        let e = try t.tokenize(ex)
        let promptCount = tok.encode("What is 17 * 4?").count
        #expect(e.ids == tok.encode("What is 17 * 4? 68") + [eos])
        #expect(e.lossMask == [Bool](repeating: false, count: promptCount) + [Bool](repeating: true, count: e.ids.count - promptCount))
        #expect(trained(e) == " 68<|endoftext|>")
        #expect(untrained(e) == "What is 17 * 4?")
        // EOS appended once, even if the completion already ends with it.
        let withEOS = try t.tokenize(PromptCompletionExample(prompt: .text("What is 17 * 4?"), completion: .text(" 68<|endoftext|>")))
        #expect(withEOS == e)
        // Without completion-only loss, the prompt trains too.
        var all = t
        all.completionOnlyLoss = false
        #expect(try all.tokenize(ex).lossMask.allSatisfy { $0 })
    }

    @Test func conversationsWithAndWithoutAssistantOnlyLoss() throws {
        let messages = [ChatMessage(.system, "S"), ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Hello there."),
                        ChatMessage(.user, "What is 3 * 3?"), ChatMessage(.assistant, "9")]
        var t = ExampleTokenizer(tokenizer: tok, template: ChatTemplate(style: .chatML), eosId: eos)
        let all = try t.tokenize(LanguageModelingExample(.messages(messages)))
        #expect(all.lossMask.allSatisfy { $0 })
        #expect(tok.decode(all.ids) == ChatTemplate(style: .chatML).renderText(messages))
        t.assistantOnlyLoss = true
        let a = try t.tokenize(LanguageModelingExample(.messages(messages)))
        #expect(a.ids == all.ids)
        #expect(trained(a) == "Hello there.<|im_end|>|9<|im_end|>")
    }

    @Test func conversationalPromptCompletionMasksThePromptAndGenerationPrompt() throws {
        let prompt = [ChatMessage(.user, "What is 17 * 4?")], completion = [ChatMessage(.assistant, "68")]
        var t = ExampleTokenizer(tokenizer: tok, template: ChatTemplate(style: .chatML))
        let e = try t.tokenize(PromptCompletionExample(prompt: .messages(prompt), completion: .messages(completion)))
        #expect(untrained(e) == "<|im_start|>user\nWhat is 17 * 4?<|im_end|>\n<|im_start|>assistant\n")
        #expect(trained(e) == "68<|im_end|>\n")
        t.assistantOnlyLoss = true  // both: only the assistant's content and end of turn, not the template's newline
        #expect(trained(try t.tokenize(PromptCompletionExample(prompt: .messages(prompt), completion: .messages(completion)))) == "68<|im_end|>")
        #expect(try t.promptIds(.messages(prompt)) == tok.encode("<|im_start|>user\nWhat is 17 * 4?<|im_end|>\n<|im_start|>assistant\n"))
    }

    @Test func maxLengthTruncatesWithTheMaskAlongside() throws {
        let ex = PromptCompletionExample(prompt: .text("What is 17 * 4?"), completion: .text(" 68"))
        let full = try ExampleTokenizer(tokenizer: tok, eosId: eos).tokenize(ex)
        let start = try ExampleTokenizer(tokenizer: tok, eosId: eos, maxLength: 3).tokenize(ex)
        #expect(start.ids == Array(full.ids.prefix(3)) && start.lossMask == Array(full.lossMask.prefix(3)))
        let end = try ExampleTokenizer(tokenizer: tok, eosId: eos, maxLength: 3, truncation: .keepEnd).tokenize(ex)
        #expect(end.ids == Array(full.ids.suffix(3)) && end.lossMask == Array(full.lossMask.suffix(3)))
    }

    @Test func misuseIsAnErrorNamingTheField() {
        let conv = LanguageModelingExample(.messages([ChatMessage(.user, "Hi")]))
        #expect(datasetError { _ = try ExampleTokenizer(tokenizer: tok).tokenize(conv) }?.field == "messages")
        let noTokens = BPETrainer(vocabSize: 300).train(texts: ["plain text only"])
        let e = datasetError { _ = try ExampleTokenizer(tokenizer: noTokens, template: ChatTemplate(style: .chatML)).tokenize(conv) }
        #expect(e?.message.contains("<|im_start|>") == true)
        let text = LanguageModelingExample(.text("Hi"))
        #expect(datasetError { _ = try ExampleTokenizer(tokenizer: tok, assistantOnlyLoss: true).tokenize(text) }?.field == "text")
        let pref = AnyExample.preference(PreferenceExample(prompt: nil, chosen: .text("a"), rejected: .text("b")))
        #expect(datasetError { _ = try ExampleTokenizer(tokenizer: tok).tokenize(pref) }?.message.contains("got preference") == true)
    }

    /// End to end: JSONL file -> examples -> tokens -> packed batch, with the completion's tokens as the only targets.
    @Test func fileToPackedBatch() throws {
        let u = write("arith.jsonl", (1...6).map { #"{"prompt": "What is \#($0) * 3?", "completion": " \#($0 * 3)"}"# })
        let data = try DatasetLoader.load(PromptCompletionExample.self, from: u)
        let t = ExampleTokenizer(tokenizer: tok, eosId: eos)
        let examples = try data.examples.map { (e) throws(DatasetError) in try t.tokenize(e) }
        let rows = Packing.pack(examples, maxLength: 32)
        let batch = Collator(padId: eos)(rows)
        #expect(batch.members.flatMap { $0 }.sorted() == Array(0..<6))
        #expect(batch.trainedTokens == examples.map(\.trainedTokens).reduce(0, +))
        // Every target is a completion token or EOS of its own sequence.
        var targets: [Int32] = []
        for (l, s) in zip(batch.labels.values, batch.segments.values) where l != -100 { #expect(s >= 0); targets.append(l) }
        let expected = examples.flatMap { e in zip(e.ids, e.lossMask).dropFirst().filter(\.1).map(\.0) }
        #expect(targets.sorted() == expected.sorted())
    }
}
