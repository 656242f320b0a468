/// A byte-level BPE model: a vocabulary of byte strings and merges applied by rank.
public struct BPEModel: Sendable {
    /// Token string (over the ``ByteLevel`` alphabet) to id.
    public let vocab: [String: Int32]
    /// Merges in rank order (rank 0 is applied first), as pairs of token strings.
    public let merges: [(String, String)]
    /// If set, a pre-token that is itself in the vocabulary is emitted whole (Llama-3's `ignore_merges`).
    public let ignoreMerges: Bool
    /// Token emitted for a byte missing from the vocabulary (HF `unk_token`); without one such bytes are dropped.
    public let unkToken: String?
    let unkId: Int32

    /// Token string of each id (nil where the id is not in the vocabulary).
    let idToToken: [String?]
    /// Id of the single-byte token for each byte, or -1.
    let byteIds: [Int32]
    /// (left id << 32 | right id) -> (rank << 32 | merged id).
    let mergeTable: U64Map
    /// Raw bytes of whole tokens -> id; used only when `ignoreMerges` is set.
    let bytesToId: [[UInt8]: Int32]

    /// Builds a model; throws if a merge names a token missing from the vocabulary.
    public init(vocab: [String: Int32], merges: [(String, String)], ignoreMerges: Bool = false,
                unkToken: String? = nil) throws(TokenizerError) {
        self.vocab = vocab
        self.merges = merges
        self.ignoreMerges = ignoreMerges
        self.unkToken = unkToken
        if let unkToken {
            guard let id = vocab[unkToken] else {
                throw TokenizerError(path: "model.unk_token", message: "\"\(unkToken)\" is not in the vocabulary")
            }
            self.unkId = id
        } else {
            self.unkId = -1
        }
        let maxId = Int(vocab.values.max() ?? -1)
        var idToToken = [String?](repeating: nil, count: maxId + 1)
        for (t, i) in vocab {
            guard i >= 0 else { throw TokenizerError(path: "model.vocab[\(t)]", message: "negative id \(i)") }
            idToToken[Int(i)] = t
        }
        self.idToToken = idToToken
        self.byteIds = ByteLevel.byteToChar.map { vocab[String(Character($0))] ?? -1 }
        var table = U64Map(capacity: merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocab[a], let ib = vocab[b] else {
                throw TokenizerError(path: "model.merges[\(rank)]", message: "merge \"\(a) \(b)\" uses a token not in the vocabulary")
            }
            guard let m = vocab[a + b] else {
                throw TokenizerError(path: "model.merges[\(rank)]", message: "merged token \"\(a + b)\" is not in the vocabulary")
            }
            let key = UInt64(UInt32(ia)) << 32 | UInt64(UInt32(ib))
            if table[key] == nil { table.insert(key, UInt64(rank) << 32 | UInt64(UInt32(m))) }
        }
        self.mergeTable = table
        var b2i: [[UInt8]: Int32] = [:]
        if ignoreMerges {
            for (t, i) in vocab { if let bytes = ByteLevel.decode(t) { b2i[bytes] = i } }
        }
        self.bytesToId = b2i
    }

    /// Appends the ids of one pre-token (raw bytes) to `out`.
    func encodeWord(_ w: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        let n = w.count
        if n == 0 { return }
        if n == 1 {
            let id = byteIds[Int(w[0])]
            if id >= 0 { out.append(id) } else if unkId >= 0 { out.append(unkId) }
            return
        }
        if ignoreMerges, let id = bytesToId[Array(w)] {
            out.append(id)
            return
        }
        // Symbols as a linked list over positions; merges popped from a min-heap keyed by
        // (rank, position), so equal ranks merge leftmost first. Stale entries are skipped.
        var ids = [Int32](repeating: -1, count: n)
        var next = [Int32](repeating: -1, count: n)
        var prev = [Int32](repeating: -1, count: n)
        var alive = [Bool](repeating: true, count: n)
        for i in 0..<n {
            ids[i] = byteIds[Int(w[i])]
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            prev[i] = Int32(i - 1)
        }
        var heap = MinHeap()
        @inline(__always) func push(_ a: Int32) {
            guard a >= 0, ids[Int(a)] >= 0 else { return }
            let b = next[Int(a)]
            guard b >= 0, ids[Int(b)] >= 0 else { return }
            let key = UInt64(UInt32(ids[Int(a)])) << 32 | UInt64(UInt32(ids[Int(b)]))
            if let m = mergeTable[key] { heap.push((m >> 32) << 32 | UInt64(UInt32(a))) }
        }
        for i in 0..<(n - 1) { push(Int32(i)) }
        while let top = heap.pop() {
            let rank = top >> 32, a = Int(top & 0xFFFF_FFFF)
            guard alive[a] else { continue }
            let b = Int(next[a])
            guard b >= 0 else { continue }
            let key = UInt64(UInt32(ids[a])) << 32 | UInt64(UInt32(ids[b]))
            guard let m = mergeTable[key], m >> 32 == rank else { continue }
            ids[a] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            alive[b] = false
            let nb = next[b]
            next[a] = nb
            if nb >= 0 { prev[Int(nb)] = Int32(a) }
            push(prev[a])
            push(Int32(a))
        }
        var i: Int32 = 0
        while i >= 0 {
            // Bytes missing from the vocabulary become unk, or are dropped without one (as HF does).
            if ids[Int(i)] >= 0 { out.append(ids[Int(i)]) } else if unkId >= 0 { out.append(unkId) }
            i = next[Int(i)]
        }
    }
}

/// A fixed-size open-addressing map from UInt64 to UInt64 (read-mostly, cheap hash).
struct U64Map: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var used: [Bool]
    private let mask: Int

    init(capacity: Int) {
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        keys = [UInt64](repeating: 0, count: cap)
        values = [UInt64](repeating: 0, count: cap)
        used = [Bool](repeating: false, count: cap)
        mask = cap - 1
    }

    @inline(__always) private func start(_ k: UInt64) -> Int {
        let h = k &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: h >> 32 ^ h) & mask
    }

    @inline(__always) subscript(_ k: UInt64) -> UInt64? {
        var i = start(k)
        while used[i] {
            if keys[i] == k { return values[i] }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Inserts or replaces; capacity must stay above the number of keys (set at init).
    mutating func insert(_ k: UInt64, _ v: UInt64) {
        var i = start(k)
        while used[i] && keys[i] != k { i = (i + 1) & mask }
        used[i] = true
        keys[i] = k
        values[i] = v
    }
}

/// A binary min-heap of UInt64 keys.
struct MinHeap {
    var a: [UInt64] = []
    mutating func push(_ x: UInt64) {
        a.append(x)
        var i = a.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if a[p] <= a[i] { break }
            a.swapAt(p, i)
            i = p
        }
    }
    mutating func pop() -> UInt64? {
        guard let last = a.popLast() else { return nil }
        if a.isEmpty { return last }
        let top = a[0]
        a[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < a.count && a[l] < a[m] { m = l }
            if r < a.count && a[r] < a[m] { m = r }
            if m == i { break }
            a.swapAt(m, i)
            i = m
        }
        return top
    }
}

/// A per-call cache of pre-token encodings for pre-tokens of at most 15 bytes: an
/// open-addressing table (no per-entry allocation, cheap multiplicative hash) that starts
/// small, doubles up to 2^16 slots, and is cleared when full at that size. Ids live in one arena.
struct WordCache {
    struct Key: Equatable { var lo: UInt64; var hi: UInt64 }
    private var keys: [Key]
    private var slots: [Int64]  // -1 empty, else (arena offset << 8 | count)
    private var arena: [Int32] = []
    private var count = 0
    private var mask: Int
    static let maxSlots = 1 << 16

    init(log2Capacity: Int = 8) {
        let cap = 1 << log2Capacity
        keys = [Key](repeating: Key(lo: 0, hi: 0), count: cap)
        slots = [Int64](repeating: -1, count: cap)
        mask = cap - 1
    }

    /// A key for pieces of at most 15 bytes (the length goes in the top byte), else nil.
    @inline(__always) static func key(_ w: UnsafeBufferPointer<UInt8>) -> Key? {
        guard w.count <= 15 else { return nil }
        var lo: UInt64 = 0, hi: UInt64 = UInt64(w.count) << 56
        for i in 0..<w.count {
            if i < 8 { lo |= UInt64(w[i]) << (8 * UInt64(i)) } else { hi |= UInt64(w[i]) << (8 * UInt64(i - 8)) }
        }
        return Key(lo: lo, hi: hi)
    }

    @inline(__always) private func start(_ k: Key) -> Int {
        let h = (k.lo &* 0x9E37_79B9_7F4A_7C15) ^ (k.hi &* 0xC2B2_AE3D_27D4_EB4F)
        return Int(truncatingIfNeeded: (h ^ (h >> 29)) & UInt64(mask))
    }

    /// Appends the cached ids for `k` to `out`; false if absent.
    @inline(__always) func lookup(_ k: Key, into out: inout [Int32]) -> Bool {
        var i = start(k)
        while true {
            let s = slots[i]
            if s < 0 { return false }
            if keys[i] == k {
                let off = Int(s >> 8), n = Int(s & 0xFF)
                out.append(contentsOf: arena[off..<(off + n)])
                return true
            }
            i = (i + 1) & mask
        }
    }

    /// Stores the ids for `k` (at most 255 of them).
    mutating func insert(_ k: Key, _ ids: ArraySlice<Int32>) {
        guard ids.count < 256 else { return }
        if count * 2 >= slots.count {
            if slots.count < Self.maxSlots {
                let (oldKeys, oldSlots) = (keys, slots)
                keys = [Key](repeating: Key(lo: 0, hi: 0), count: oldSlots.count * 2)
                slots = [Int64](repeating: -1, count: oldSlots.count * 2)
                mask = slots.count - 1
                for j in oldSlots.indices where oldSlots[j] >= 0 {
                    var i = start(oldKeys[j])
                    while slots[i] >= 0 { i = (i + 1) & mask }
                    keys[i] = oldKeys[j]
                    slots[i] = oldSlots[j]
                }
            } else {
                for j in slots.indices { slots[j] = -1 }
                arena.removeAll(keepingCapacity: true)
                count = 0
            }
        }
        var i = start(k)
        while slots[i] >= 0 { i = (i + 1) & mask }
        keys[i] = k
        slots[i] = Int64(arena.count) << 8 | Int64(ids.count)
        arena.append(contentsOf: ids)
        count += 1
    }
}
