import Foundation
import Testing
@testable import TetherTokenizers

/// decode(encode(s)) == s for random valid UTF-8 from many scripts, emoji and whitespace runs.
@Suite struct RoundTripTests {
    static let ranges: [ClosedRange<UInt32>] = [
        0x20...0x7E, 0x00...0x1F, 0xA0...0x24F, 0x300...0x36F, 0x370...0x3FF, 0x400...0x4FF, 0x590...0x6FF,
        0x900...0x97F, 0xE00...0xE7F, 0x1100...0x11FF, 0x2000...0x206F, 0x3000...0x30FF, 0x4E00...0x9FFF,
        0xAC00...0xD7A3, 0xE000...0xF8FF, 0xFE00...0xFE0F, 0xFF00...0xFFEF, 0x1F300...0x1FAFF, 0x10000...0x10FFFF,
    ]
    static let whitespace: [String] = [" ", "  ", "\t", "\n", "\r\n", "\n\n\n", "\u{A0}", "\u{3000}", "\u{2028}", "\u{85}", "   \n  "]
    static let chunks: [String] = ["👨‍👩‍👧‍👦", "👍🏽", "🇫🇷", "e\u{301}", "'s", "'LL", "12345678", "<|endoftext|>", "<|eot_id|>", "don't"]

    static func randomString(_ rng: inout SeededRNG) -> String {
        var s = ""
        for _ in 0..<Int.random(in: 0...30, using: &rng) {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...5:
                let r = ranges.randomElement(using: &rng)!
                var v = UInt32.random(in: r, using: &rng)
                if (0xD800...0xDFFF).contains(v) { v = 0x41 }
                let count = Int.random(in: 1...4, using: &rng)
                for _ in 0..<count { s.unicodeScalars.append(Unicode.Scalar(v)!) }
            case 6, 7: s += whitespace.randomElement(using: &rng)!
            default: s += chunks.randomElement(using: &rng)!
            }
        }
        return s
    }

    @Test(arguments: ["gpt2.json", "llama3.json", "trained"])
    func decodeInvertsEncode(_ name: String) throws {
        let tok = name == "trained"
            ? BPETrainer(vocabSize: 400, specialTokens: ["<|endoftext|>"], preTokenizer: PreTokenizer(split: .qwen2, useRegex: false))
                .train(texts: [TokenizerBenchmark.syntheticText(bytes: 50_000)])
            : try loadFixture(name)
        var rng = SeededRNG(seed: 42)
        var checked = 0
        for _ in 0..<400 {
            let s = Self.randomString(&rng)
            let ids = tok.encode(s, addSpecialTokens: false)
            #expect(tok.decode(ids) == s, "\(name): \(s.unicodeScalars.map { String($0.value, radix: 16) })")
            checked += s.isEmpty ? 0 : 1
        }
        #expect(checked > 350)
    }
}
