import Testing
@testable import TetherTokenizers

@Suite struct PreTokenizerTests {
    @Test func gpt2Pieces() {
        #expect(SplitPattern.gpt2.split("I'm here  now!!\n\n x") == ["I", "'m", " here", " ", " now", "!!", "\n\n", " x"])
        #expect(SplitPattern.gpt2.split("a1234 '' 's") == ["a", "1234", " ''", " '", "s"])
        #expect(SplitPattern.gpt2.split("x   ") == ["x", "   "])
        #expect(SplitPattern.gpt2.split("THEY'RE") == ["THEY", "'", "RE"])  // case-sensitive contractions
    }

    @Test func llama3Pieces() {
        #expect(SplitPattern.llama3.split("THEY'RE 12345 (hi)\n\n  x") == ["THEY", "'RE", " ", "123", "45", " (", "hi", ")\n\n", " ", " x"])
        #expect(SplitPattern.llama3.split("a \n\n b") == ["a", " \n\n", " b"])
        #expect(SplitPattern.qwen2.split("12345") == ["1", "2", "3", "4", "5"])
    }

    @Test func knownRegexesAreRecognised() {
        for p in SplitPattern.allCases { #expect(SplitPattern(regex: p.regex) == p) }
        #expect(SplitPattern(regex: "\\w+") == nil)
    }

    @Test func byteLevelMapIsABijection() {
        #expect(Set(ByteLevel.byteToChar).count == 256)
        #expect(ByteLevel.byteToChar[32] == "Ġ" && ByteLevel.byteToChar[10] == "Ċ" && ByteLevel.byteToChar[65] == "A")
        let all = (0...255).map { UInt8($0) }
        #expect(ByteLevel.decode(ByteLevel.encode(all)) == all)
    }
}
