import Foundation

/// A seeded counter-based random number generator: Philox4x32-10 (Salmon et al., SC 2011).
///
/// The stream is a sequence of 32-bit values. Value `i` of a stream is word `i % 4` of the
/// Philox block with counter `(i / 4, stream)` and key `seed`, so it depends only on
/// `(seed, stream, i)`: never on thread count, chunking, or the order values are drawn in.
/// The whole state is three integers (`seed`, `stream`, `offset`); it is `Codable`, so a
/// training run that saves it resumes bit for bit.
///
/// Consumption per draw, in 32-bit values: `nextUInt32`, `nextFloat`, `nextUniform` and
/// Bernoulli draws take 1; `nextUInt64` takes 2; `nextNormal` takes 2 (Box–Muller makes two
/// normals, the scalar call keeps one); `fill(normal:)` of `n` values takes `n` rounded up
/// to even (it keeps both); `nextInt(below:)` takes 2 per attempt (rarely more than one).
public struct RandomGenerator: Sendable, Hashable, Codable, RandomNumberGenerator {
    /// The Philox key (two 32-bit words: low, high).
    public let seed: UInt64
    /// Which stream of this seed (high 64 bits of the counter). Always below 2^63.
    public private(set) var stream: UInt64
    /// Index of the next 32-bit value in the stream.
    public private(set) var offset: UInt64

    /// A generator for `seed`, at the start of its root stream.
    public init(seed: UInt64) {
        self.seed = seed
        self.stream = 0
        self.offset = 0
    }

    private init(seed: UInt64, stream: UInt64, offset: UInt64) {
        self.seed = seed
        self.stream = stream
        self.offset = offset
    }

    // MARK: - Philox4x32-10

    /// Multipliers and Weyl key increments of Philox4x32 (Salmon et al. 2011, table 2).
    static let m0: UInt32 = 0xD251_1F53
    static let m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9
    static let w1: UInt32 = 0xBB67_AE85

    /// The Philox4x32 bijection with `rounds` rounds of `counter` under `key`.
    @inline(__always)
    public static func philox4x32(counter: SIMD4<UInt32>, key: SIMD2<UInt32>,
                                  rounds: Int = 10) -> SIMD4<UInt32> {
        var c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3]
        var k0 = key[0], k1 = key[1]
        for r in 0..<rounds {
            if r > 0 { k0 &+= w0; k1 &+= w1 }
            let p0 = UInt64(m0) &* UInt64(c0)
            let p1 = UInt64(m1) &* UInt64(c2)
            let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
            let n1 = UInt32(truncatingIfNeeded: p1)
            let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
            let n3 = UInt32(truncatingIfNeeded: p0)
            (c0, c1, c2, c3) = (n0, n1, n2, n3)
        }
        return SIMD4(c0, c1, c2, c3)
    }

    /// Block `index` of `stream` under `seed`: 32-bit values `4 * index ..< 4 * index + 4`.
    @inline(__always)
    static func block(_ index: UInt64, stream: UInt64, seed: UInt64) -> SIMD4<UInt32> {
        philox4x32(
            counter: SIMD4(UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                           UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
            key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// Eight consecutive blocks `first ..< first + 8` of `stream` at once, as four vectors:
    /// lane `l` of `w[j]` is word `j` of block `first + l`. Same values as `block`, computed
    /// with 8-lane SIMD (about three times faster than eight scalar blocks).
    @inline(__always)
    static func blocks8(_ first: UInt64, stream: UInt64, seed: UInt64)
        -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
        let index = SIMD8<UInt64>(repeating: first) &+ SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7)
        var c0 = SIMD8<UInt32>(truncatingIfNeeded: index)
        var c1 = SIMD8<UInt32>(truncatingIfNeeded: index &>> 32)
        var c2 = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: stream))
        var c3 = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: stream >> 32))
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        let mul0 = SIMD8<UInt64>(repeating: UInt64(m0)), mul1 = SIMD8<UInt64>(repeating: UInt64(m1))
        for r in 0..<10 {
            if r > 0 { k0 &+= w0; k1 &+= w1 }
            let p0 = mul0 &* SIMD8<UInt64>(truncatingIfNeeded: c0)
            let p1 = mul1 &* SIMD8<UInt64>(truncatingIfNeeded: c2)
            let n0 = SIMD8<UInt32>(truncatingIfNeeded: p1 &>> 32) ^ c1 ^ SIMD8(repeating: k0)
            let n1 = SIMD8<UInt32>(truncatingIfNeeded: p1)
            let n2 = SIMD8<UInt32>(truncatingIfNeeded: p0 &>> 32) ^ c3 ^ SIMD8(repeating: k1)
            let n3 = SIMD8<UInt32>(truncatingIfNeeded: p0)
            (c0, c1, c2, c3) = (n0, n1, n2, n3)
        }
        return (c0, c1, c2, c3)
    }

    /// Calls `body(i, v)` for each `i` in `range`, in order, where `v` is the value at stream
    /// position `base + i`. Whole blocks in the middle are made eight at a time.
    @inline(__always)
    static func forEachWord(seed: UInt64, stream: UInt64, base: UInt64, _ range: Range<Int>,
                            _ body: (Int, UInt32) -> Void) {
        var i = range.lowerBound
        let end = range.upperBound
        // Scalar blocks until the position is a multiple of 32 (eight whole blocks).
        while i < end && (base &+ UInt64(i)) & 31 != 0 {
            let position = base &+ UInt64(i)
            let words = block(position >> 2, stream: stream, seed: seed)
            var lane = Int(position & 3)
            while lane < 4 && i < end {
                body(i, words[lane])
                lane += 1
                i += 1
            }
        }
        while end - i >= 32 {
            let (a, b, c, d) = blocks8((base &+ UInt64(i)) >> 2, stream: stream, seed: seed)
            for l in 0..<8 {
                body(i, a[l]); body(i + 1, b[l]); body(i + 2, c[l]); body(i + 3, d[l])
                i += 4
            }
        }
        while i < end {
            let position = base &+ UInt64(i)
            let words = block(position >> 2, stream: stream, seed: seed)
            var lane = Int(position & 3)
            while lane < 4 && i < end {
                body(i, words[lane])
                lane += 1
                i += 1
            }
        }
    }

    // MARK: - Scalars

    /// The next 32 random bits.
    public mutating func nextUInt32() -> UInt32 {
        let words = Self.block(offset >> 2, stream: stream, seed: seed)
        let v = words[Int(offset & 3)]
        offset &+= 1
        return v
    }

    /// The next 64 random bits (two 32-bit values, the first in the low half).
    public mutating func nextUInt64() -> UInt64 {
        let lo = UInt64(nextUInt32())
        return UInt64(nextUInt32()) << 32 | lo
    }

    /// `next()` for `RandomNumberGenerator`; prefer this type's own `shuffle`, which is stable across Swift versions.
    public mutating func next() -> UInt64 { nextUInt64() }

    /// A float in [0, 1) with 24 random bits.
    @inline(__always)
    static func unitFloat(_ v: UInt32) -> Float { Float(v >> 8) * 0x1p-24 }

    /// A float in (0, 1] with 24 random bits (safe to take the log of).
    @inline(__always)
    static func unitFloatOpenZero(_ v: UInt32) -> Float { (Float(v >> 8) + 1) * 0x1p-24 }

    /// Box–Muller: two independent standard normals from two 32-bit values.
    @inline(__always)
    static func boxMuller(_ a: UInt32, _ b: UInt32) -> (Float, Float) {
        let r = (-2 * Foundation.log(unitFloatOpenZero(a))).squareRoot()
        let theta = 2 * Float.pi * unitFloat(b)
        return (r * Foundation.cos(theta), r * Foundation.sin(theta))
    }

    /// The largest value `nextUniform(low:high:)` returns: just below `high` (or `low` if equal).
    @inline(__always)
    static func uniformCeiling(_ low: Float, _ high: Float) -> Float {
        precondition(low <= high, "uniform: low \(low) is above high \(high)")
        return high > low ? Swift.max(low, high.nextDown) : low
    }

    /// A float in [0, 1).
    public mutating func nextFloat() -> Float { Self.unitFloat(nextUInt32()) }

    /// A float in [low, high).
    public mutating func nextUniform(low: Float = 0, high: Float = 1) -> Float {
        let ceiling = Self.uniformCeiling(low, high)
        return Swift.min(low + (high - low) * nextFloat(), ceiling)
    }

    /// A normal sample (Box–Muller; uses two 32-bit values and keeps the first of the pair).
    public mutating func nextNormal(mean: Float = 0, std: Float = 1) -> Float {
        let a = nextUInt32(), b = nextUInt32()
        return mean + std * Self.boxMuller(a, b).0
    }

    /// A uniform integer in `0..<bound`, without modulo bias (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound, got \(bound)")
        let n = UInt64(bound)
        var m = nextUInt64().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n  // 2^64 mod n: low products below it are rejected
            while m.low < threshold {
                m = nextUInt64().multipliedFullWidth(by: n)
            }
        }
        return Int(m.high)
    }

    /// Shuffles `array` in place (Fisher–Yates, back to front).
    public mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count - 1
        while i > 0 {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
            i -= 1
        }
    }

    /// A random permutation of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        shuffle(&p)
        return p
    }

    /// Skips `count` 32-bit values (what drawing them would do, without the work).
    public mutating func advance(by count: UInt64) { offset &+= count }

    // MARK: - Independent streams

    /// An independent generator for `label`, derived from this generator's seed and stream.
    ///
    /// It depends on `(seed, stream, label)` only, not on how much has been drawn, so
    /// `rng.fork(1)` names the same stream wherever it is called. Derivation hashes with
    /// Philox on counters whose top bit is set, which output counters never have.
    public func fork(_ label: UInt64) -> RandomGenerator {
        let hashed = Self.philox4x32(
            counter: SIMD4(UInt32(truncatingIfNeeded: label), UInt32(truncatingIfNeeded: label >> 32),
                           UInt32(truncatingIfNeeded: stream),
                           UInt32(truncatingIfNeeded: stream >> 32) | 0x8000_0000),
            key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
        let derived = (UInt64(hashed[1]) << 32 | UInt64(hashed[0])) & 0x7FFF_FFFF_FFFF_FFFF
        return RandomGenerator(seed: seed, stream: derived, offset: 0)
    }

    /// A new independent generator, labelled by the next 64 values of this one (advances it).
    public mutating func split() -> RandomGenerator {
        fork(nextUInt64())
    }

    // MARK: - Bulk fills (parallel, identical for any thread count)

    /// Fills `buffer` with floats in [low, high), as `buffer.count` calls of `nextUniform` would.
    public mutating func fill(uniform buffer: UnsafeMutableBufferPointer<Float>, low: Float = 0,
                              high: Float = 1, pool: ThreadPool = .shared) {
        guard let out = buffer.baseAddress, buffer.count > 0 else { return }
        let (seed, stream, base) = (self.seed, self.stream, self.offset)
        let ceiling = Self.uniformCeiling(low, high), scale = high - low
        pool.parallelRanges(buffer.count, grain: Self.fillGrain) { range in
            Self.forEachWord(seed: seed, stream: stream, base: base, range) { i, v in
                out[i] = Swift.min(low + scale * Self.unitFloat(v), ceiling)
            }
        }
        offset &+= UInt64(buffer.count)
    }

    /// Fills `buffer` with normal samples; each pair of 32-bit values gives two samples.
    public mutating func fill(normal buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0,
                              std: Float = 1, pool: ThreadPool = .shared) {
        guard let out = buffer.baseAddress, buffer.count > 0 else { return }
        let (seed, stream, base) = (self.seed, self.stream, self.offset)
        let n = buffer.count, pairs = (n + 1) / 2
        pool.parallelRanges(pairs, grain: Self.fillGrain / 2) { range in
            // Pair k uses stream positions base + 2k and base + 2k + 1.
            var first: UInt32 = 0
            Self.forEachWord(seed: seed, stream: stream, base: base,
                             (2 * range.lowerBound)..<(2 * range.upperBound)) { i, v in
                if i & 1 == 0 { first = v; return }
                let (z0, z1) = Self.boxMuller(first, v)
                out[i - 1] = mean + std * z0
                if i < n { out[i] = mean + std * z1 }
            }
        }
        offset &+= UInt64(2 * pairs)
    }

    /// Fills `buffer` with 1 (probability `keep`) or 0, one 32-bit value per element.
    public mutating func fill(bernoulli buffer: UnsafeMutableBufferPointer<Float>, keep: Float,
                              pool: ThreadPool = .shared) {
        precondition(keep >= 0 && keep <= 1, "bernoulli: keep probability \(keep) is outside [0, 1]")
        guard let out = buffer.baseAddress, buffer.count > 0 else { return }
        let (seed, stream, base) = (self.seed, self.stream, self.offset)
        pool.parallelRanges(buffer.count, grain: Self.fillGrain) { range in
            Self.forEachWord(seed: seed, stream: stream, base: base, range) { i, v in
                out[i] = Self.unitFloat(v) < keep ? 1 : 0
            }
        }
        offset &+= UInt64(buffer.count)
    }

    /// Elements per parallel chunk of a fill; below this a fill runs on the calling thread.
    static let fillGrain = 1 << 14

    // MARK: - Codable

    private enum CodingKeys: String, CodingKey { case algorithm, seed, stream, offset }
    static let algorithmName = "philox4x32-10"

    /// Decodes a saved state, rejecting other algorithms and out-of-range streams.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let algorithm = try c.decodeIfPresent(String.self, forKey: .algorithm) ?? Self.algorithmName
        guard algorithm == Self.algorithmName else {
            throw DecodingError.dataCorruptedError(
                forKey: .algorithm, in: c,
                debugDescription: "random generator state is for '\(algorithm)', expected '\(Self.algorithmName)'")
        }
        let stream = try c.decode(UInt64.self, forKey: .stream)
        guard stream >> 63 == 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .stream, in: c, debugDescription: "stream \(stream) is not below 2^63")
        }
        self.init(seed: try c.decode(UInt64.self, forKey: .seed), stream: stream,
                  offset: try c.decode(UInt64.self, forKey: .offset))
    }

    /// Encodes the algorithm name, seed, stream and offset.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.algorithmName, forKey: .algorithm)
        try c.encode(seed, forKey: .seed)
        try c.encode(stream, forKey: .stream)
        try c.encode(offset, forKey: .offset)
    }
}
