/// A token added on top of the model's vocabulary, matched in raw text before BPE (HF `AddedToken`).
public struct AddedToken: Sendable, Equatable, Hashable {
    /// The token's id.
    public var id: Int32
    /// The exact text the token stands for.
    public var content: String
    /// Match only when not inside a word.
    public var singleWord: Bool
    /// Also swallow the whitespace on the left of a match.
    public var lstrip: Bool
    /// Also swallow the whitespace on the right of a match.
    public var rstrip: Bool
    /// Match in normalized text (second pass) rather than raw text (first pass).
    public var normalized: Bool
    /// A special token (BOS, EOS, chat markers): skipped by `decode(skipSpecialTokens: true)`.
    public var special: Bool

    /// Creates an added token; defaults follow HF for special tokens.
    public init(id: Int32, content: String, special: Bool = true, singleWord: Bool = false, lstrip: Bool = false,
                rstrip: Bool = false, normalized: Bool? = nil) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized ?? !special
    }
}

/// Finds added tokens in text as HF does: leftmost-longest, non-overlapping, then applies
/// single_word / lstrip / rstrip to each match.
struct AddedTokenMatcher: Sendable {
    let tokens: [AddedToken]
    let contents: [[UInt8]]
    /// Token indices by first byte, longest content first.
    let byFirstByte: [[Int]]
    /// Whether some token starts with this byte.
    let isFirstByte: [Bool]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens
        let contents = tokens.map { Array($0.content.utf8) }
        self.contents = contents
        var table = [[Int]](repeating: [], count: 256)
        for (i, c) in contents.enumerated() where !c.isEmpty { table[Int(c[0])].append(i) }
        for b in 0..<256 { table[b].sort { contents[$0].count > contents[$1].count } }
        self.byFirstByte = table
        self.isFirstByte = table.map { !$0.isEmpty }
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Splits `p[range]` into text segments (id nil) and matched tokens, with byte ranges.
    func split(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [(id: Int32?, range: Range<Int>)] {
        var out: [(id: Int32?, range: Range<Int>)] = []
        var startOffset = range.lowerBound
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            if !isFirstByte[Int(p[i])] { i += 1; continue }
            var found = -1
            for t in byFirstByte[Int(p[i])] {
                let c = contents[t]
                if i + c.count <= end && (0..<c.count).allSatisfy({ p[i + $0] == c[$0] }) { found = t; break }
            }
            guard found >= 0 else { i += 1; continue }
            let tok = tokens[found]
            var s = i, e = i + contents[found].count
            if tok.singleWord {
                let before = s == range.lowerBound ? false : isWordChar(lastScalar(p, range.lowerBound, s))
                let after = e == end ? false : isWordChar(firstScalar(p, e))
                if before || after { i += 1; continue }
            }
            if tok.lstrip {
                var k = s
                while k > range.lowerBound {
                    let (v, start) = scalarBefore(p, range.lowerBound, k)
                    guard isWhitespace(v) else { break }
                    k = start
                }
                s = max(k, startOffset)
            }
            if tok.rstrip {
                while e < end {
                    let (v, n) = decodeScalar(p, e)
                    guard isWhitespace(v) else { break }
                    e += n
                }
            }
            if startOffset < s { out.append((nil, startOffset..<s)) }
            out.append((tok.id, s..<e))
            startOffset = e
            i = e
        }
        if startOffset < end { out.append((nil, startOffset..<end)) }
        return out
    }
}

@inline(__always) func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3) }
    return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
}

/// The scalar ending at byte `k` and its start (bytes before `lower` are not looked at).
private func scalarBefore(_ p: UnsafeBufferPointer<UInt8>, _ lower: Int, _ k: Int) -> (UInt32, Int) {
    var s = k - 1
    while s > lower && p[s] & 0xC0 == 0x80 { s -= 1 }
    return (decodeScalar(p, s).0, s)
}

private func lastScalar(_ p: UnsafeBufferPointer<UInt8>, _ lower: Int, _ k: Int) -> UInt32 { scalarBefore(p, lower, k).0 }
private func firstScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 { decodeScalar(p, i).0 }

private func isWhitespace(_ v: UInt32) -> Bool { Unicode.Scalar(v)?.properties.isWhitespace ?? false }

private func isWordChar(_ v: UInt32) -> Bool {
    guard let u = Unicode.Scalar(v) else { return false }
    if v == 0x5F { return true }
    let p = u.properties
    if p.isAlphabetic { return true }
    switch p.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
}
