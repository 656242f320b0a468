import Foundation
import Testing
@testable import TetherTokenizers

@Suite struct ChatTemplateTests {
    let conversation = [ChatMessage(.system, "S"), ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Hello!")]

    static let chatMLTokenizer = BPETrainer(vocabSize: 500, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        .train(texts: [TokenizerBenchmark.syntheticText(bytes: 50_000, seed: 3)])
    static let zephyrTokenizer = BPETrainer(vocabSize: 500, specialTokens: ["<s>", "</s>"])
        .train(texts: [TokenizerBenchmark.syntheticText(bytes: 50_000, seed: 4)])

    /// Decodes the positions the mask marks, keeping runs apart with "|".
    func maskedText(_ tok: Tokenizer, _ e: ChatEncoding) -> String {
        var runs: [[Int32]] = [], cur: [Int32] = []
        for (id, m) in zip(e.ids, e.assistantMask) {
            if m { cur.append(id) } else if !cur.isEmpty { runs.append(cur); cur = [] }
        }
        if !cur.isEmpty { runs.append(cur) }
        return runs.map { tok.decode($0) }.joined(separator: "|")
    }

    @Test func renderedTextIsTheStandardLayout() {
        #expect(ChatTemplate(style: .chatML).renderText(conversation) ==
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n")
        #expect(ChatTemplate(style: .chatML).renderText(Array(conversation.prefix(2)), addGenerationPrompt: true) ==
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(ChatTemplate(style: .llama3).renderText(conversation + [ChatMessage(.user, "  Again \n")], addGenerationPrompt: true) ==
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAgain<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n")
        #expect(ChatTemplate(style: .zephyr).renderText(conversation, addGenerationPrompt: false) ==
            "<|system|>\nS</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n")
    }

    @Test func assistantMaskCoversContentAndEndOfTurnOnly() throws {
        let two = conversation + [ChatMessage(.user, "More?"), ChatMessage(.assistant, " Yes, 42 more. ")]
        let chatML = Self.chatMLTokenizer
        let e = try chatML.applyChatTemplate(two, template: ChatTemplate(style: .chatML))
        #expect(e.ids == chatML.encode(ChatTemplate(style: .chatML).renderText(two), addSpecialTokens: false))
        #expect(maskedText(chatML, e) == "Hello!<|im_end|>| Yes, 42 more. <|im_end|>")

        let llama = try loadFixture("llama3.json")
        let l = try llama.applyChatTemplate(two, template: ChatTemplate(style: .llama3))
        #expect(maskedText(llama, l) == "Hello!<|eot_id|>|Yes, 42 more.<|eot_id|>")
        let g = try llama.applyChatTemplate(Array(two.prefix(4)), template: ChatTemplate(style: .llama3), addGenerationPrompt: true)
        #expect(!g.assistantMask.suffix(5).contains(true))  // the generation prompt is not trained on

        let zephyr = Self.zephyrTokenizer
        let z = try zephyr.applyChatTemplate(two, template: ChatTemplate(style: .zephyr))
        #expect(maskedText(zephyr, z) == "Hello!</s>| Yes, 42 more. </s>")
    }

    @Test func bosIsAddedOnceEvenWithABOSPostProcessor() throws {
        let llama = try loadFixture("llama3.json")
        let bos = llama.tokenToId("<|begin_of_text|>")!
        for addSpecial in [false, true] {
            let e = try llama.applyChatTemplate(conversation, template: ChatTemplate(style: .llama3), addSpecialTokens: addSpecial)
            #expect(e.ids.first == bos)
            #expect(e.ids.filter { $0 == bos }.count == 1)
            #expect(e.ids.count == e.assistantMask.count)
        }
        // ChatML has no BOS of its own: the post-processor's BOS is added (once) when asked for.
        let c = try llama.applyChatTemplate([ChatMessage(.user, "x")], template: ChatTemplate(style: .llama3, bosToken: nil), addSpecialTokens: true)
        #expect(c.ids.filter { $0 == bos }.count == 1 && c.assistantMask.count == c.ids.count)
        #expect(llama.encode("<|begin_of_text|>Hi").filter { $0 == bos }.count == 1)
        #expect(llama.encode("Hi").first == bos)
    }

    @Test func padEqualToEOSKeepsTheRealEOSInTheLoss() throws {
        let tok = Self.zephyrTokenizer
        let eos = tok.tokenToId("</s>")!
        let short = try tok.applyChatTemplate([ChatMessage(.user, "a"), ChatMessage(.assistant, "b")], template: ChatTemplate(style: .zephyr))
        let long = try tok.applyChatTemplate(conversation, template: ChatTemplate(style: .zephyr))
        let batch = PaddedBatch([short, long], padId: eos)
        let row = batch.ids[0], loss = batch.lossMask[0], attn = batch.attentionMask[0]
        #expect(row.count == long.ids.count && row.count > short.ids.count)
        // The assistant's "</s>" is trained on; the identical pad ids after the real tokens are not.
        let lastEOS = short.ids.lastIndex(of: eos)!
        #expect(short.assistantMask[lastEOS])
        #expect(loss[lastEOS])
        #expect(row[short.ids.count...].allSatisfy { $0 == eos })
        #expect(!loss[short.ids.count...].contains(true))
        #expect(attn.filter { $0 }.count == short.ids.count)
        #expect(batch.lossMask[1] == long.assistantMask)
    }

    @Test func templatesAreRecognised() throws {
        #expect(ChatTemplate(for: Self.chatMLTokenizer)?.style == .chatML)
        #expect(ChatTemplate(for: try loadFixture("llama3.json"))?.style == .llama3)
        #expect(ChatTemplate(for: try loadFixture("gpt2.json")) == nil)
        #expect(ChatTemplate(jinja: "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'}}")?.style == .chatML)
        #expect(ChatTemplate(jinja: "{{ '<|assistant|>' }}", eosToken: "<|endoftext|>") == ChatTemplate(style: .zephyr, endOfTurn: "<|endoftext|>"))
        #expect(ChatTemplate(jinja: "{{ messages }}") == nil)
    }

    @Test func malformedMessagesAreClearErrors() throws {
        func message(_ json: String) -> String {
            do { _ = try ChatMessage.parse(jsonData: Data(json.utf8)); return "no error" } catch { return error.description }
        }
        #expect(message(#"[{"role":"user","content":"a"},{"role":"tool","content":"x"}]"#)
            == #"messages[1].role: unknown role "tool" (expected system, user or assistant)"#)
        #expect(message(#"[{"role":"user"}]"#) == "messages[0].content: missing or not a string")
        #expect(message(#"[{"role":"user","content":3}]"#) == "messages[0].content: missing or not a string")
        #expect(message(#"["hi"]"#).hasPrefix("messages[0]: expected an object"))
        #expect(message(#"{"role":"user"}"#).hasPrefix("messages: expected an array"))
        #expect(try ChatMessage.parse(jsonData: Data(#"[{"role":"assistant","content":"ok"}]"#.utf8)) == [ChatMessage(.assistant, "ok")])
        // A template whose tokens the tokenizer lacks.
        #expect(throws: TokenizerError.self) {
            try Self.zephyrTokenizer.applyChatTemplate(conversation, template: ChatTemplate(style: .chatML))
        }
    }
}
