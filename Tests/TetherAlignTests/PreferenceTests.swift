import Foundation
import Testing
import TetherAlign
import TetherTokenizers

@Suite struct PreferenceTests {
    var tok: Tokenizer { TokenizeTests.tokenizer }
    var eos: Int32 { tok.tokenToId("<|endoftext|>")! }

    @Test func implicitPromptIsTheSharedStart() {
        let s = PreferenceExample(prompt: nil, chosen: .text("The sky is blue."), rejected: .text("The sky is green."),
                                  extras: ["margin": .number(2)]).withExplicitPrompt()
        #expect(s.prompt == .text("The sky is") && s.chosen == .text(" blue.") && s.rejected == .text(" green."))
        #expect(s.margin == 2)
        let q = ChatMessage(.user, "Sky?")
        let m = PreferenceExample(prompt: nil, chosen: .messages([q, ChatMessage(.assistant, "Blue.")]),
                                  rejected: .messages([q, ChatMessage(.assistant, "Green.")])).withExplicitPrompt()
        #expect(m.prompt == .messages([q]) && m.chosen == .messages([ChatMessage(.assistant, "Blue.")]))
        // Identical conversations still leave each side a message.
        let same = PreferenceExample(prompt: nil, chosen: .messages([q]), rejected: .messages([q])).withExplicitPrompt()
        #expect(same.prompt == .messages([]) && same.chosen == .messages([q]))
    }

    @Test func standardPairsTokenizeApartWithEOSAndTruncation() throws {
        let t = ExampleTokenizer(tokenizer: tok, eosId: eos)
        let ex = PreferenceExample(prompt: .text("What is 17 * 4?"), chosen: .text(" 68"), rejected: .text(" 64"))
        let p = try t.tokenize(ex)
        #expect(p.prompt == tok.encode("What is 17 * 4?"))
        #expect(p.chosen == tok.encode(" 68", addSpecialTokens: false) + [eos])
        #expect(p.rejected == tok.encode(" 64", addSpecialTokens: false) + [eos])
        #expect(p.chosenExample.ids == p.prompt + p.chosen && p.chosenExample.trainedTokens == p.chosen.count)
        let cut = try t.tokenize(ex, maxPromptLength: 2, maxCompletionLength: 1)
        #expect(cut.prompt == Array(p.prompt.suffix(2)) && cut.chosen == Array(p.chosen.prefix(1)))
    }

    @Test func conversationalPairsSplitAtTheGenerationPrompt() throws {
        let t = ExampleTokenizer(tokenizer: tok, template: ChatTemplate(style: .chatML))
        let q = ChatMessage(.user, "What is 17 * 4?")
        let p = try t.tokenize(PreferenceExample(prompt: nil, chosen: .messages([q, ChatMessage(.assistant, "68")]),
                                                 rejected: .messages([q, ChatMessage(.assistant, "64")])))
        #expect(tok.decode(p.prompt) == "<|im_start|>user\nWhat is 17 * 4?<|im_end|>\n<|im_start|>assistant\n")
        #expect(tok.decode(p.chosen) == "68<|im_end|>\n" && tok.decode(p.rejected) == "64<|im_end|>\n")
    }
}
