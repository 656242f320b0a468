/// A pre-tokenizer split pattern, implemented as a hand-written scanner equal to its regex.
public enum SplitPattern: String, Sendable, Codable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama-3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// Qwen2: the Llama-3 pattern with `\p{N}` (one digit per piece) instead of `\p{N}{1,3}`.
    case qwen2

    /// The regex this scanner is equivalent to, as written in `tokenizer.json` files.
    public var regex: String {
        switch self {
        case .gpt2: return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pattern whose regex is `regex`, if it is one of the known ones.
    public init?(regex: String) {
        guard let p = SplitPattern.allCases.first(where: { $0.regex == regex }) else { return nil }
        self = p
    }

    /// Calls `body` with the byte range of each piece of valid UTF-8 `text`, in order.
    /// The pieces tile the text (the patterns match every character).
    public func split(_ text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let s = Scanner(p: text)
        var i = 0
        while i < text.count {
            let e: Int
            switch self {
            case .gpt2: e = s.gpt2(i)
            case .llama3: e = s.llama(i, maxDigits: 3)
            case .qwen2: e = s.llama(i, maxDigits: 1)
            }
            body(i..<e)
            i = e
        }
    }

    /// The pieces of `text` as strings (convenient for tests; encoding uses the byte form).
    public func split(_ text: String) -> [String] {
        var out: [String] = []
        var t = text
        t.withUTF8 { p in
            split(p) { r in out.append(String(decoding: UnsafeBufferPointer(rebasing: p[r]), as: UTF8.self)) }
        }
        return out
    }
}

// Character classes as bits: letter, number, whitespace (\s), and \r or \n. Zero is "other".
private let clsL: UInt8 = 1, clsN: UInt8 = 2, clsWS: UInt8 = 4, clsNL: UInt8 = 8

private func classify(_ v: UInt32) -> UInt8 {
    guard let u = Unicode.Scalar(v) else { return 0 }
    let p = u.properties
    if p.isWhitespace { return (v == 10 || v == 13) ? (clsWS | clsNL) : clsWS }
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return clsL
    case .decimalNumber, .letterNumber, .otherNumber: return clsN
    default: return 0
    }
}

/// Classes of the scalars below U+20000 (the BMP and the plane with emoji), computed once
/// (128 KiB); others are classified on the fly.
private let tableLimit: UInt32 = 0x20000
private let bmpClasses: [UInt8] = (0..<tableLimit).map { classify($0) }

private struct Scanner {
    let p: UnsafeBufferPointer<UInt8>
    let table: [UInt8] = bmpClasses

    /// The scalar at byte `i` and its length in bytes (input is valid UTF-8).
    @inline(__always) func scalar(_ i: Int) -> (UInt32, Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                | UInt32(p[i + 3] & 0x3F), 4)
    }

    /// Class and length of the scalar at byte `i`.
    @inline(__always) func cls(_ i: Int) -> (UInt8, Int) {
        let (v, n) = scalar(i)
        return (v < tableLimit ? table[Int(v)] : classify(v), n)
    }

    /// End of the run starting at `i` of scalars whose class satisfies `pred`.
    @inline(__always) func run(_ i: Int, _ pred: (UInt8) -> Bool) -> Int {
        var j = i
        while j < p.count {
            let (c, n) = cls(j)
            if !pred(c) { break }
            j += n
        }
        return j
    }

    /// End of `'s|'t|'re|'ve|'m|'ll|'d` at `i` (an apostrophe), or nil. Case-insensitive
    /// matching also accepts the long s (U+017F), which case-folds to s.
    func contraction(_ i: Int, caseInsensitive ci: Bool) -> Int? {
        func letter(_ j: Int) -> (UInt32, Int)? {
            guard j < p.count else { return nil }
            var (v, n) = scalar(j)
            if ci {
                if v >= 65 && v <= 90 { v += 32 }
                if v == 0x17F { v = 115 }
            }
            return (v, n)
        }
        guard let (a, na) = letter(i + 1) else { return nil }
        switch a {
        case 115, 116, 109, 100: return i + 1 + na  // s t m d
        case 114, 118, 108:  // r v l
            guard let (b, nb) = letter(i + 1 + na) else { return nil }
            if (a == 114 || a == 118) && b == 101 { return i + 1 + na + nb }  // re ve
            if a == 108 && b == 108 { return i + 1 + na + nb }  // ll
            return nil
        default: return nil
        }
    }

    /// Whitespace at `i`: `\s+(?!\S)|\s+`.
    func whitespace(_ i: Int) -> Int {
        var j = i, last = i, count = 0
        while j < p.count {
            let (c, n) = cls(j)
            if c & clsWS == 0 { break }
            last = j; j += n; count += 1
        }
        if j == p.count || count < 2 { return j }
        return last
    }

    func gpt2(_ i: Int) -> Int {
        let (v, n) = scalar(i)
        if v == 0x27, let e = contraction(i, caseInsensitive: false) { return e }
        var j = i
        var (c, _) = cls(i)
        if v == 0x20 && i + n < p.count {
            let (c2, _) = cls(i + n)
            if c2 & clsWS == 0 { j = i + n; c = c2 }
        }
        if c & clsL != 0 { return run(j) { $0 & clsL != 0 } }
        if c & clsN != 0 { return run(j) { $0 & clsN != 0 } }
        if c == 0 { return run(j) { $0 == 0 } }
        return whitespace(i)
    }

    func llama(_ i: Int, maxDigits: Int) -> Int {
        let (v, n) = scalar(i)
        if v == 0x27, let e = contraction(i, caseInsensitive: true) { return e }
        let (c, _) = cls(i)
        if c & clsL != 0 { return run(i) { $0 & clsL != 0 } }
        let next: UInt8? = i + n < p.count ? cls(i + n).0 : nil
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if c & (clsNL | clsN) == 0, let c2 = next, c2 & clsL != 0 { return run(i + n) { $0 & clsL != 0 } }
        if c & clsN != 0 {
            var j = i, k = 0
            while j < p.count && k < maxDigits {
                let (c3, n3) = cls(j)
                if c3 & clsN == 0 { break }
                j += n3; k += 1
            }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var j = i
        var cj = c
        if v == 0x20, let c2 = next, c2 == 0 { j = i + n; cj = c2 }
        if cj == 0 {
            let e = run(j) { $0 == 0 }
            return run(e) { $0 & clsNL != 0 }
        }
        // `\s*[\r\n]+`: the whitespace run up to and including its last \r or \n.
        var k = i, lastNLEnd = -1
        while k < p.count {
            let (c3, n3) = cls(k)
            if c3 & clsWS == 0 { break }
            k += n3
            if c3 & clsNL != 0 { lastNLEnd = k }
        }
        if lastNLEnd > 0 { return lastNLEnd }
        return whitespace(i)
    }
}
