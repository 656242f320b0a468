import Foundation

/// Trains a byte-level BPE tokenizer on text.
///
/// The vocabulary is: the special tokens (ids 0..<k, in the order given), the 256 byte-level
/// characters sorted by code point (as the HF trainer orders its alphabet), then one token per merge. Each step merges the adjacent pair
/// with the highest count over the corpus (words weighted by frequency). **Ties** go to the
/// pair with the smaller left id, then the smaller right id, so the result depends only on
/// the corpus and the settings, never on hashing or thread order.
public struct BPETrainer: Sendable {
    /// Target vocabulary size, including special tokens and the 256 byte tokens.
    public var vocabSize: Int
    /// Pairs seen fewer times than this are never merged (training stops there).
    public var minFrequency: Int
    /// Special tokens, given the first ids and split out of the training text.
    public var specialTokens: [String]
    /// The pre-tokenizer of the trained tokenizer (also used to split the corpus into words).
    public var preTokenizer: PreTokenizer

    /// Creates a trainer.
    public init(vocabSize: Int, minFrequency: Int = 2, specialTokens: [String] = [], preTokenizer: PreTokenizer = .gpt2) {
        self.vocabSize = vocabSize
        self.minFrequency = minFrequency
        self.specialTokens = specialTokens
        self.preTokenizer = preTokenizer
    }

    /// Trains on UTF-8 text files; errors name the unreadable file.
    public func train(files: [URL]) throws(TokenizerError) -> Tokenizer {
        var texts: [String] = []
        for f in files {
            do { texts.append(try String(contentsOf: f, encoding: .utf8)) } catch {
                throw TokenizerError(file: f.path, path: "", message: "cannot read UTF-8 text: \(error.localizedDescription)")
            }
        }
        return train(texts: texts)
    }

    /// Trains on in-memory texts.
    public func train(texts: [String]) -> Tokenizer {
        // 1. Word counts (raw bytes of pre-tokens), special tokens split out.
        let specials = specialTokens.enumerated().map { AddedToken(id: Int32($0.offset), content: $0.element) }
        let matcher = AddedTokenMatcher(specials)
        var counts: [[UInt8]: Int] = [:]
        for text in texts {
            var t = text
            t.withUTF8 { p in
                for seg in matcher.split(p, 0..<p.count) where seg.id == nil {
                    preTokenizer.forEachPiece(UnsafeBufferPointer(rebasing: p[seg.range])) { piece, _ in
                        counts[Array(piece), default: 0] += 1
                    }
                }
            }
        }
        // Sorted for a canonical word order (not needed for the result, but keeps runs identical).
        let sortedWords = counts.sorted { $0.key.lexicographicallyPrecedes($1.key) }

        // 2. Initial vocabulary.
        var tokens: [String] = specialTokens
        var vocab: [String: Int32] = [:]
        for (i, s) in specialTokens.enumerated() where vocab[s] == nil { vocab[s] = Int32(i) }
        var byteId = [Int32](repeating: 0, count: 256)
        for b in (0..<256).sorted(by: { ByteLevel.byteToChar[$0].value < ByteLevel.byteToChar[$1].value }) {
            let s = String(Character(ByteLevel.byteToChar[b]))
            if let existing = vocab[s] {
                byteId[b] = existing
            } else {
                byteId[b] = Int32(tokens.count)
                vocab[s] = byteId[b]
                tokens.append(s)
            }
        }
        var words: [[Int32]] = sortedWords.map { $0.key.map { byteId[Int($0)] } }
        let freq: [Int] = sortedWords.map(\.value)

        // 3. Pair statistics.
        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        var pairCount: [UInt64: Int] = [:]
        var pairWords: [UInt64: Set<Int32>] = [:]
        for (w, s) in words.enumerated() where s.count > 1 {
            for i in 0..<(s.count - 1) {
                let k = key(s[i], s[i + 1])
                pairCount[k, default: 0] += freq[w]
                pairWords[k, default: []].insert(Int32(w))
            }
        }
        var heap = PairHeap()
        for (k, c) in pairCount where c > 0 { heap.push(c, k) }

        // 4. Merge loop.
        var merges: [(String, String)] = []
        while tokens.count < vocabSize, let (c, k) = heap.pop() {
            let current = pairCount[k] ?? 0
            if current != c {
                if current > 0 { heap.push(current, k) }
                continue
            }
            if c < max(minFrequency, 1) { break }
            let a = Int32(truncatingIfNeeded: k >> 32), b = Int32(truncatingIfNeeded: k & 0xFFFF_FFFF)
            let merged = tokens[Int(a)] + tokens[Int(b)]
            merges.append((tokens[Int(a)], tokens[Int(b)]))
            let n: Int32
            if let existing = vocab[merged] {
                n = existing
            } else {
                n = Int32(tokens.count)
                vocab[merged] = n
                tokens.append(merged)
            }
            var changed: Set<UInt64> = []
            for w in (pairWords[k] ?? []).sorted() {
                let wi = Int(w), f = freq[wi]
                var s = words[wi]
                var i = 0
                while i < s.count - 1 {
                    if s[i] == a && s[i + 1] == b {
                        if i > 0 {
                            pairCount[key(s[i - 1], a), default: 0] -= f
                            let nk = key(s[i - 1], n)
                            pairCount[nk, default: 0] += f
                            pairWords[nk, default: []].insert(w)
                            changed.insert(nk)
                        }
                        if i + 2 < s.count {
                            pairCount[key(b, s[i + 2]), default: 0] -= f
                            let nk = key(n, s[i + 2])
                            pairCount[nk, default: 0] += f
                            pairWords[nk, default: []].insert(w)
                            changed.insert(nk)
                        }
                        s[i] = n
                        s.remove(at: i + 1)
                    }
                    i += 1
                }
                words[wi] = s
            }
            pairCount[k] = nil
            pairWords[k] = nil
            for nk in changed { if let c2 = pairCount[nk], c2 > 0 { heap.push(c2, nk) } }
        }

        let model = try! BPEModel(vocab: vocab, merges: merges)
        return Tokenizer(model: model, addedTokens: specials, preTokenizer: preTokenizer, decoder: .byteLevel)
    }
}

/// Max-heap of (count, pair): higher count first, then the smaller pair key (left id, then right id).
struct PairHeap {
    var a: [(Int, UInt64)] = []
    @inline(__always) static func before(_ x: (Int, UInt64), _ y: (Int, UInt64)) -> Bool {
        x.0 != y.0 ? x.0 > y.0 : x.1 < y.1
    }
    mutating func push(_ c: Int, _ k: UInt64) {
        a.append((c, k))
        var i = a.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if !Self.before(a[i], a[p]) { break }
            a.swapAt(p, i)
            i = p
        }
    }
    mutating func pop() -> (Int, UInt64)? {
        guard let last = a.popLast() else { return nil }
        if a.isEmpty { return last }
        let top = a[0]
        a[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < a.count && Self.before(a[l], a[m]) { m = l }
            if r < a.count && Self.before(a[r], a[m]) { m = r }
            if m == i { break }
            a.swapAt(m, i)
            i = m
        }
        return top
    }
}
