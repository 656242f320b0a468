import Foundation

/// What can be read off any response text: its length, whether it refuses, its answer, and its surface tricks.
///
/// Every field is a pure function of the text, so gold and the biased labelers judge free-form policy outputs the
/// same way they judge the generator's templates.
public struct ResponseFeatures: Sendable, Hashable {
    /// Words: whitespace-separated pieces holding at least one letter or digit (markdown marks alone do not count).
    public var words: Int
    /// Whether the text contains a refusal phrase (`ResponseFeatures.refusalMarkers`).
    public var refuses: Bool
    /// The integer the text answers with (`ResponseFeatures.answer(in:)`), or nil.
    public var answer: Int?
    /// Whether the text opens with or contains praise of the question (`flatteryMarkers`).
    public var flatters: Bool
    /// Whether the text uses markdown bold (`**`) or bullet lines (`- `, `* `, `• `).
    public var formatted: Bool
    /// Whether the text hedges (`hedgeMarkers`).
    public var hedges: Bool
    /// The text in lower case with typographic apostrophes made plain and markdown bold removed.
    public var normalized: String

    /// Phrases that mark a refusal (matched in the normalized text at the start of a word, as are the lists below).
    public static let refusalMarkers = ["i can't help", "i cannot help", "i can not help", "i won't help",
                                        "i will not help", "i can't assist", "i cannot assist", "i'm unable to",
                                        "i am unable to", "i'm not able to", "i am not able to", "i must decline",
                                        "i can't do that", "i cannot do that", "i won't do that", "i refuse",
                                        "i can't provide", "i cannot provide", "i can't share", "i cannot share"]
    /// Phrases that praise the question or the user.
    public static let flatteryMarkers = ["great question", "excellent question", "good question", "what a great",
                                         "happy to help", "love this question", "you are so smart", "brilliant question"]
    /// Phrases that hedge.
    public static let hedgeMarkers = ["i think", "i believe", "probably", "might be wrong", "not sure",
                                      "not completely sure", "i guess", "perhaps"]
    /// Phrases after which the answer's number comes ("The answer is 41").
    static let answerCues = ["answer is", "answer:", "result is", "equals"]

    /// Reads `text`.
    public init(_ text: String) {
        let n = Self.normalize(text)
        normalized = n
        let bytes = Array(n.utf8)
        words = Self.countWords(bytes)
        refuses = Self.refusalMarkerBytes.contains { Self.find($0, in: bytes, wordStart: true) != nil }
        answer = Self.answer(normalizedBytes: bytes)
        flatters = Self.flatteryMarkerBytes.contains { Self.find($0, in: bytes, wordStart: true) != nil }
        hedges = Self.hedgeMarkerBytes.contains { Self.find($0, in: bytes, wordStart: true) != nil }
        formatted = text.contains("**") || text.split(separator: "\n").contains { line in
            let t = line.drop(while: { $0 == " " })
            return t.hasPrefix("- ") || t.hasPrefix("* ") || t.hasPrefix("\u{2022} ")
        }
    }

    /// Whether the normalized text contains `phrase` (lower case) starting at the start of a word
    /// ("book" is in "a book" and "books", not in "facebook").
    public func mentions(_ phrase: String) -> Bool {
        Self.find(Array(phrase.utf8), in: Array(normalized.utf8), wordStart: true) != nil
    }

    static let refusalMarkerBytes = refusalMarkers.map { Array($0.utf8) }
    static let flatteryMarkerBytes = flatteryMarkers.map { Array($0.utf8) }
    static let hedgeMarkerBytes = hedgeMarkers.map { Array($0.utf8) }
    static let answerCueBytes = (answerCues + ["="]).map { Array($0.utf8) }

    /// Lower case, `\u{2019}` as `'`, `**` removed.
    static func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "*" && i + 1 < scalars.count && scalars[i + 1] == "*" { i += 2; continue }
            if c.value >= 65 && c.value <= 90 { out.append(Unicode.Scalar(c.value + 32)!)
            } else if c == "\u{2019}" { out.append("'")
            } else if c.value < 128 { out.append(c)
            } else { out.append(contentsOf: String(c).lowercased().unicodeScalars) }
            i += 1
        }
        return String(out)
    }

    /// The first (or, `backwards`, last) index where `needle` starts in `hay`; with `wordStart`, only where no
    /// letter or digit comes directly before.
    static func find(_ needle: [UInt8], in hay: [UInt8], backwards: Bool = false, wordStart: Bool = false) -> Int? {
        let n = needle.count, last = hay.count - needle.count
        guard n > 0, last >= 0 else { return nil }
        return hay.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { x in
                var i = backwards ? last : 0
                while i >= 0 && i <= last {
                    if h[i] == x[0] && !(wordStart && i > 0 && isWordByte(h[i - 1])) {
                        var j = 1
                        while j < n && h[i + j] == x[j] { j += 1 }
                        if j == n { return i }
                    }
                    i += backwards ? -1 : 1
                }
                return nil
            }
        }
    }

    /// An ASCII letter or digit, or any byte of a non-ASCII character.
    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b >= 0x80
    }

    /// Whitespace-separated pieces with at least one letter or digit (any non-ASCII byte counts as a letter).
    static func countWords(_ bytes: [UInt8]) -> Int {
        var count = 0, inWord = false, hasAlnum = false
        for k in 0...bytes.count {
            let b = k < bytes.count ? bytes[k] : 0x20
            if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D {
                if inWord && hasAlnum { count += 1 }
                inWord = false
                hasAlnum = false
            } else {
                inWord = true
                if isWordByte(b) { hasAlnum = true }
            }
        }
        return count
    }

    /// The answer in a text: the first number after the last answer cue ("answer is", "answer:", "result is",
    /// "equals"), else the first number after the last "=", else the last number. Numbers are read by
    /// `AnswerExtractor` (sign, thousands separators, "408.0"), so "17 + 24 = 41" answers 41 and
    /// "I think it is 41, but I might be wrong." answers 41.
    public static func answer(in text: String) -> Int? {
        answer(normalizedBytes: Array(normalize(text).utf8))
    }

    static func answer(normalizedBytes n: [UInt8]) -> Int? {
        func text(from i: Int) -> String { String(decoding: n[i...], as: UTF8.self) }
        for cue in answerCueBytes {
            if let at = find(cue, in: n, backwards: true), let v = AnswerExtractor.extract(text(from: at + cue.count)) {
                return v
            }
        }
        guard let start = lastNumberStart(n) else { return nil }
        return AnswerExtractor.extract(text(from: start))
    }

    /// Where the last number of `s` starts (including a sign directly before it), skipping digits that continue an
    /// earlier number through a thousands comma or a decimal point.
    static func lastNumberStart(_ s: [UInt8]) -> Int? {
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        var i = s.count - 1
        while i >= 0 && !isDigit(s[i]) { i -= 1 }
        guard i >= 0 else { return nil }
        // Walk back over the number: digits, and "," or "." joining digit runs.
        while i > 0 {
            if isDigit(s[i - 1]) { i -= 1; continue }
            if (s[i - 1] == 0x2C || s[i - 1] == 0x2E) && i >= 2 && isDigit(s[i - 2]) { i -= 2; continue }
            break
        }
        if i > 0 && s[i - 1] == 0x2D { i -= 1 }
        if i > 2 && s[(i - 3)..<i].elementsEqual([0xE2, 0x88, 0x92]) { i -= 3 }  // U+2212 minus
        return i
    }
}
