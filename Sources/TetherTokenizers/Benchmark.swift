import Foundation

/// Helpers for tokenizer benchmarks (`tether bench`): synthetic text and encode throughput.
public enum TokenizerBenchmark {
    /// Deterministic mixed text of about `bytes` UTF-8 bytes: English-like words, numbers,
    /// punctuation, code-like lines, some accented, CJK, Cyrillic and emoji words, newlines.
    public static func syntheticText(bytes: Int, seed: UInt64 = 1) -> String {
        let words = ["the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "model", "reward",
                     "policy", "value", "alignment", "language", "token", "gradient", "training", "don't", "it's",
                     "we'll", "they're", "Tether", "Swift", "CPU", "café", "naïve", "über", "日本語", "東京", "Привет",
                     "мир", "Ελληνικά", "😀", "👍🏽", "return", "func", "let", "x", "(a,", "b)", "{", "}", "==", "->"]
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var out = ""
        out.reserveCapacity(bytes + 64)
        var size = 0
        while size < bytes {
            let r = next()
            var piece: String
            switch r % 20 {
            case 0: piece = String((r >> 8) % 1_000_000)
            case 1: piece = [".", ",", "!", "?", ";", ":"][Int((r >> 8) % 6)]
            case 2: piece = (r >> 8) % 4 == 0 ? "\n\n" : "\n"
            default: piece = words[Int((r >> 8) % UInt64(words.count))]
            }
            if r % 20 >= 3 || r % 20 == 0 { piece = " " + piece }
            out += piece
            size += piece.utf8.count
        }
        return out
    }

    /// Encode throughput of `tokenizer` on `text` in MB/s (10^6 bytes of UTF-8 per second),
    /// the best of `repeats` runs after one warm-up run; also returns the token count.
    public static func encodeThroughput(_ tokenizer: Tokenizer, text: String, repeats: Int = 3) -> (mbPerSecond: Double, tokens: Int) {
        var tokens = tokenizer.encode(text, addSpecialTokens: false).count
        var best = Double.infinity
        for _ in 0..<max(repeats, 1) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            tokens = tokenizer.encode(text, addSpecialTokens: false).count
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = min(best, dt)
        }
        return (Double(text.utf8.count) / 1e6 / best, tokens)
    }
}
