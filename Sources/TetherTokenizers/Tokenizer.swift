import Foundation

/// A byte-level BPE tokenizer with HF `tokenizers` semantics: added tokens, normalizer,
/// pre-tokenizer, BPE model, post-processor and decoder. Immutable and `Sendable`.
public final class Tokenizer: Sendable {
    /// The BPE model.
    public let model: BPEModel
    /// Tokens matched in text before BPE, in file order.
    public let addedTokens: [AddedToken]
    /// Optional normalizer (applied outside added tokens).
    public let normalizer: Normalizer?
    /// The pre-tokenizer.
    public let preTokenizer: PreTokenizer
    /// Optional post-processor adding BOS/EOS when `addSpecialTokens` is true.
    public let postProcessor: PostProcessor?
    /// The decoder.
    public let decoder: TokenDecoder

    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    /// Bytes each id decodes to (HF ByteLevel rule: mapped bytes, or the raw UTF-8 if a character is outside the map).
    let idBytes: [[UInt8]?]
    let specialIds: Set<Int32>
    let addedByContent: [String: Int32]

    /// Assembles a tokenizer from its parts.
    public init(model: BPEModel, addedTokens: [AddedToken] = [], normalizer: Normalizer? = nil,
                preTokenizer: PreTokenizer = .gpt2, postProcessor: PostProcessor? = nil, decoder: TokenDecoder = .byteLevel) {
        self.model = model
        self.addedTokens = addedTokens
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.rawMatcher = AddedTokenMatcher(addedTokens.filter { !$0.normalized })
        self.normalizedMatcher = AddedTokenMatcher(addedTokens.filter { $0.normalized })
        var strings = model.idToToken
        let maxId = max(strings.count - 1, Int(addedTokens.map(\.id).max() ?? -1))
        strings += [String?](repeating: nil, count: maxId + 1 - strings.count)
        for t in addedTokens { strings[Int(t.id)] = t.content }
        self.idBytes = strings.map { s in s.map { ByteLevel.decode($0) ?? Array($0.utf8) } }
        self.specialIds = Set(addedTokens.filter(\.special).map(\.id))
        var byContent: [String: Int32] = [:]
        for t in addedTokens { byContent[t.content] = t.id }
        self.addedByContent = byContent
    }

    /// Number of ids (one more than the largest id).
    public var vocabSize: Int { idBytes.count }

    /// The id of a token string (added tokens first, then the model vocabulary).
    public func tokenToId(_ token: String) -> Int32? { addedByContent[token] ?? model.vocab[token] }

    /// The token string of an id (the added token's content or the vocabulary entry).
    public func idToToken(_ id: Int32) -> String? {
        if let t = addedTokens.first(where: { $0.id == id }) { return t.content }
        return id >= 0 && Int(id) < model.idToToken.count ? model.idToToken[Int(id)] : nil
    }

    /// Whether `id` is a special added token.
    public func isSpecial(_ id: Int32) -> Bool { specialIds.contains(id) }

    /// Encodes text to ids; with `addSpecialTokens` the post-processor adds BOS/EOS (never a second BOS).
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        var cache = WordCache()
        return encode(text, addSpecialTokens: addSpecialTokens, cache: &cache, offsets: nil)
    }

    /// Encodes a pair of texts (as reward or cross-encoder models take them) with the post-processor's
    /// pair template; returns ids and type ids (0 for the first text, per the template).
    public func encode(_ a: String, pair b: String, addSpecialTokens: Bool = true) -> (ids: [Int32], typeIds: [Int32]) {
        let ea = encode(a, addSpecialTokens: false), eb = encode(b, addSpecialTokens: false)
        guard addSpecialTokens, let postProcessor else {
            return (ea + eb, [Int32](repeating: 0, count: ea.count) + [Int32](repeating: 1, count: eb.count))
        }
        return postProcessor.apply(ea, pair: eb)
    }

    /// Encodes text and returns each token's start byte offset in the UTF-8 of `text`
    /// (no post-processor tokens). In normalized text that changed, tokens get their segment's start.
    public func encodeWithOffsets(_ text: String) -> (ids: [Int32], starts: [Int]) {
        var cache = WordCache()
        var starts: [Int] = []
        let ids = encode(text, addSpecialTokens: false, cache: &cache, offsets: &starts)
        return (ids, starts)
    }

    /// Encodes many texts, splitting the batch over up to `threads` threads.
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true, threads: Int = 2) -> [[Int32]] {
        let chunks = max(1, min(threads, texts.count))
        let results = ResultSlots<[Int32]>(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var cache = WordCache()
            var i = c
            while i < texts.count {
                results.set(i, encode(texts[i], addSpecialTokens: addSpecialTokens, cache: &cache, offsets: nil))
                i += chunks
            }
        }
        return results.values
    }

    func encode(_ text: String, addSpecialTokens: Bool, cache: inout WordCache, offsets: UnsafeMutablePointer<[Int]>?) -> [Int32] {
        var out: [Int32] = []
        var text = text
        text.withUTF8 { p in
            out.reserveCapacity(p.count / 3)
            for seg in rawMatcher.isEmpty ? [(nil, 0..<p.count)] : rawMatcher.split(p, 0..<p.count) {
                if let id = seg.id {
                    out.append(id)
                    offsets?.pointee.append(seg.range.lowerBound)
                    continue
                }
                // Text with no scalar at or above U+0300 (no UTF-8 byte >= 0xCC) is already NFC.
                if let normalizer, p[seg.range].contains(where: { $0 >= 0xCC }) {
                    let original = String(decoding: UnsafeBufferPointer(rebasing: p[seg.range]), as: UTF8.self)
                    var norm = normalizer.apply(original)
                    if norm.utf8.elementsEqual(original.utf8) {  // (String == compares canonically)
                        encodeNormalized(p, seg.range, into: &out, cache: &cache, offsets: offsets)
                    } else {
                        norm.withUTF8 { q in
                            let before = out.count
                            encodeNormalized(q, 0..<q.count, into: &out, cache: &cache, offsets: nil)
                            offsets?.pointee += [Int](repeating: seg.range.lowerBound, count: out.count - before)
                        }
                    }
                } else {
                    encodeNormalized(p, seg.range, into: &out, cache: &cache, offsets: offsets)
                }
            }
        }
        if addSpecialTokens, let postProcessor { return postProcessor.apply(out) }
        return out
    }

    /// Second added-token pass (normalized tokens), then pre-tokenization and BPE.
    private func encodeNormalized(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32],
                                  cache: inout WordCache, offsets: UnsafeMutablePointer<[Int]>?) {
        let segs = normalizedMatcher.isEmpty ? [(id: Int32?.none, range: range)] : normalizedMatcher.split(p, range)
        for seg in segs {
            if let id = seg.id {
                out.append(id)
                offsets?.pointee.append(seg.range.lowerBound)
                continue
            }
            let text = UnsafeBufferPointer(rebasing: p[seg.range])
            preTokenizer.forEachPiece(text) { piece, off in
                let before = out.count
                encodePiece(piece, into: &out, cache: &cache)
                if let offsets {
                    var pos = seg.range.lowerBound + off
                    for id in out[before...] {
                        offsets.pointee.append(pos)
                        pos += idBytes[Int(id)]?.count ?? 0
                    }
                }
            }
        }
    }

    @inline(__always) private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [Int32], cache: inout WordCache) {
        if let key = WordCache.key(piece) {
            if cache.lookup(key, into: &out) { return }
            let before = out.count
            model.encodeWord(piece, into: &out)
            cache.insert(key, out[before...])
        } else {
            model.encodeWord(piece, into: &out)
        }
    }

    /// Decodes ids to text; unknown ids are skipped, and special tokens too if `skipSpecialTokens`.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        let kept = ids.filter { id in
            id >= 0 && Int(id) < idBytes.count && idBytes[Int(id)] != nil && !(skipSpecialTokens && specialIds.contains(id))
        }
        switch decoder {
        case .byteLevel:
            var bytes: [UInt8] = []
            for id in kept { bytes += idBytes[Int(id)]! }
            return String(decoding: bytes, as: UTF8.self)
        case .none:
            return kept.compactMap { idToToken($0) }.joined(separator: " ")
        }
    }
}

/// Write-once result slots shared by the threads of a batch (each index is written by one thread).
final class ResultSlots<T>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(count: Int) { storage = [T?](repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); storage[i] = v; lock.unlock() }
    var values: [T] { storage.map { $0! } }
}
