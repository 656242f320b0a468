import Foundation
import Testing
@testable import TetherTokenizers

@Suite struct BPETests {
    /// Plain BPE for reference: repeatedly merge the lowest-ranked adjacent pair, leftmost first.
    func reference(_ model: BPEModel, _ bytes: [UInt8]) -> [Int32] {
        var rank: [String: Int] = [:]
        for (i, m) in model.merges.enumerated() where rank[m.0 + "\u{0}" + m.1] == nil { rank[m.0 + "\u{0}" + m.1] = i }
        var syms = bytes.map { String(Character(ByteLevel.byteToChar[Int($0)])) }
        while syms.count > 1 {
            var best = -1, bestRank = Int.max
            for i in 0..<(syms.count - 1) {
                if let r = rank[syms[i] + "\u{0}" + syms[i + 1]], r < bestRank { best = i; bestRank = r }
            }
            if best < 0 { break }
            syms[best] += syms[best + 1]
            syms.remove(at: best + 1)
        }
        return syms.map { model.vocab[$0]! }
    }

    @Test func heapMergingEqualsPlainBPE() throws {
        let model = try loadFixture("gpt2.json").model
        var rng = SeededRNG(seed: 9)
        let alphabet = Array("the quick brown fox, aaaa ééé 日本 ".utf8)
        for n in [2, 3, 5, 17, 64, 300, 2000] {
            for _ in 0..<5 {
                let word = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
                var out: [Int32] = []
                word.withUnsafeBufferPointer { model.encodeWord($0, into: &out) }
                #expect(out == reference(model, word), "n = \(n)")
            }
        }
    }

    @Test func missingBytesBecomeUnkOrAreDropped() throws {
        let vocab: [String: Int32] = ["a": 0, "b": 1, "ab": 2, "<unk>": 3]
        let withUnk = Tokenizer(model: try BPEModel(vocab: vocab, merges: [("a", "b")], unkToken: "<unk>"))
        let without = Tokenizer(model: try BPEModel(vocab: vocab, merges: [("a", "b")]))
        #expect(withUnk.encode("abcab") == [2, 3, 2])
        #expect(without.encode("abcab") == [2, 2])
        #expect(withUnk.encode("c") == [3])
        #expect(throws: TokenizerError.self) { try BPEModel(vocab: vocab, merges: [], unkToken: "<nope>") }
    }

    @Test func aLongRunOfOneLetterRoundTrips() throws {
        // 200k identical letters in one pre-token (a quadratic merge loop would take minutes here).
        let tok = try loadFixture("llama3.json")
        let s = String(repeating: "a", count: 200_000)
        let ids = tok.encode(s, addSpecialTokens: false)
        #expect(tok.decode(ids) == s)
    }
}
