import Foundation
import Testing
@testable import Tether

/// Pools with fixed thread counts, kept alive for the whole test process (workers hold
/// unowned references to their pool).
private enum Pools {
    static let one = ThreadPool(threads: 1)
    static let three = ThreadPool(threads: 3)
}

private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

private func fillArray(_ n: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
    var out = [Float](repeating: .nan, count: n)
    out.withUnsafeMutableBufferPointer { body($0) }
    return out
}

private func meanAndVariance(_ xs: [Float]) -> (mean: Double, variance: Double) {
    var sum = 0.0
    for x in xs { sum += Double(x) }
    let mean = sum / Double(xs.count)
    var ss = 0.0
    for x in xs { ss += (Double(x) - mean) * (Double(x) - mean) }
    return (mean, ss / Double(xs.count - 1))
}

@Suite("Philox4x32-10 generator")
struct RandomTests {
    // Random123's published known-answer vectors for philox4x32_R(10) (tests/kat_vectors):
    // counter (4 words), key (2 words) -> output (4 words).
    @Test("Known-answer vectors", arguments: [
        ([0, 0, 0, 0] as [UInt32], [0, 0] as [UInt32],
         [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8] as [UInt32]),
        ([0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff], [0xffff_ffff, 0xffff_ffff],
         [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        ([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0],
         [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]),
    ])
    func knownAnswers(counter: [UInt32], key: [UInt32], expected: [UInt32]) {
        let out = RandomGenerator.philox4x32(
            counter: SIMD4(counter[0], counter[1], counter[2], counter[3]), key: SIMD2(key[0], key[1]))
        #expect([out[0], out[1], out[2], out[3]] == expected)
    }

    @Test("Stream value i is word i%4 of block (i/4, stream) under key seed")
    func streamLayout() {
        var zero = RandomGenerator(seed: 0)
        #expect((0..<4).map { _ in zero.nextUInt32() } == [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])

        let seed: UInt64 = 0x299f_31d0_a409_3822
        var rng = RandomGenerator(seed: seed)
        rng.advance(by: 4 * 0x1_0000_0002 + 1)
        let block = RandomGenerator.philox4x32(counter: SIMD4(2, 1, 0, 0), key: SIMD2(0xa409_3822, 0x299f_31d0))
        #expect(rng.nextUInt32() == block[1])
        #expect(rng.nextUInt32() == block[2])
        #expect(rng.nextUInt64() == UInt64(RandomGenerator.philox4x32(
            counter: SIMD4(3, 1, 0, 0), key: SIMD2(0xa409_3822, 0x299f_31d0))[0]) << 32 | UInt64(block[3]))
        #expect(rng.offset == 4 * 0x1_0000_0002 + 5)
    }

    @Test("Eight-lane SIMD blocks equal scalar blocks, including across a 2^32 block boundary")
    func simdBlocks() {
        for first: UInt64 in [0, 5, 0xFFFF_FFFC, 0x1234_5678_9ABC_DEF0] {
            for (seed, stream): (UInt64, UInt64) in [(0, 0), (0xDEAD_BEEF_0BAD_F00D, 0x7123_4567_89AB_CDEF)] {
                let (a, b, c, d) = RandomGenerator.blocks8(first, stream: stream, seed: seed)
                for l in 0..<8 {
                    let scalar = RandomGenerator.block(first + UInt64(l), stream: stream, seed: seed)
                    #expect(SIMD4(a[l], b[l], c[l], d[l]) == scalar, "block \(first) + \(l)")
                }
            }
        }
    }

    @Test("Uniform floats: range, mean and variance over 1e6 samples")
    func uniformStatistics() {
        var rng = RandomGenerator(seed: 42)
        let xs = fillArray(1_000_000) { rng.fill(uniform: $0) }
        #expect(xs.min()! >= 0 && xs.max()! < 1)
        let (mean, variance) = meanAndVariance(xs)
        // Standard errors: mean 2.9e-4, variance 7.5e-5; bounds are about 5 of them.
        #expect(abs(mean - 0.5) < 1.5e-3)
        #expect(abs(variance - 1.0 / 12) < 4e-4)

        let ys = fillArray(100_000) { rng.fill(uniform: $0, low: -3, high: 5) }
        #expect(ys.min()! >= -3 && ys.max()! < 5)
        #expect(abs(meanAndVariance(ys).mean - 1) < 0.05)
    }

    @Test("nextUniform stays below high even when rounding would reach it")
    func uniformUpperBound() {
        var rng = RandomGenerator(seed: 1)
        // With low = 1e8, every step of the float grid is 8, so low + width * u rounds to high often.
        for _ in 0..<1000 {
            let v = rng.nextUniform(low: 1e8, high: 1e8 + 16)
            #expect(v >= 1e8 && v < 1e8 + 16)
        }
        #expect(rng.nextUniform(low: 2, high: 2) == 2)
        var largest: UInt32 = 0xffff_ffff
        #expect(RandomGenerator.unitFloat(largest) < 1)
        largest = 0
        #expect(RandomGenerator.unitFloatOpenZero(largest) > 0)
    }

    @Test("Normal samples: mean, variance and the one-sigma fraction over 1e6 samples")
    func normalStatistics() {
        var rng = RandomGenerator(seed: 7)
        let xs = fillArray(1_000_000) { rng.fill(normal: $0) }
        let (mean, variance) = meanAndVariance(xs)
        // Standard errors: mean 1e-3, variance 1.4e-3.
        #expect(abs(mean) < 5e-3)
        #expect(abs(variance - 1) < 7e-3)
        let inside = Double(xs.filter { abs($0) < 1 }.count) / Double(xs.count)
        #expect(abs(inside - 0.682_689) < 2.5e-3)
        #expect(xs.allSatisfy { $0.isFinite })

        let ys = fillArray(200_000) { rng.fill(normal: $0, mean: 3, std: 0.5) }
        let (m2, v2) = meanAndVariance(ys)
        #expect(abs(m2 - 3) < 5e-3 && abs(v2 - 0.25) < 5e-3)
    }

    @Test("Bulk fills equal the scalar draws they replace")
    func fillsMatchScalars() {
        var bulk = RandomGenerator(seed: 99)
        bulk.advance(by: 3)  // start mid-block
        var scalar = bulk
        // 1000 values from offset 3: a scalar head, eight-block SIMD groups, a scalar tail.
        let us = fillArray(1000) { bulk.fill(uniform: $0, low: -1, high: 2) }
        #expect(bits(us) == bits((0..<1000).map { _ in scalar.nextUniform(low: -1, high: 2) }))
        #expect(bulk == scalar)

        let ns = fillArray(9) { bulk.fill(normal: $0, mean: 1, std: 2) }
        var expected: [Float] = []
        for _ in 0..<5 {
            let a = scalar.nextUInt32(), b = scalar.nextUInt32()
            let (z0, z1) = RandomGenerator.boxMuller(a, b)
            expected += [1 + 2 * z0, 1 + 2 * z1]
        }
        #expect(bits(ns) == bits(Array(expected.prefix(9))))
        #expect(bulk == scalar)  // an odd count still consumes the whole last pair

        var one = bulk
        let single = fillArray(1) { one.fill(normal: $0) }
        #expect(single[0].bitPattern == bulk.nextNormal().bitPattern)
        #expect(one == bulk)

        scalar = bulk
        let mask = fillArray(50) { bulk.fill(bernoulli: $0, keep: 0.3) }
        #expect(mask == (0..<50).map { _ in scalar.nextFloat() < 0.3 ? 1 : 0 })
    }

    @Test("Fills are bit-identical on 1 and 3 threads")
    func threadCountIndependence() {
        let n = 1_000_003
        var start = RandomGenerator(seed: 2024).fork(5)
        start.advance(by: 1)
        for kind in 0..<3 {
            var a = start, b = start
            let fill: (inout RandomGenerator, UnsafeMutableBufferPointer<Float>, ThreadPool) -> Void = { rng, buf, pool in
                switch kind {
                case 0: rng.fill(uniform: buf, low: -0.5, high: 0.5, pool: pool)
                case 1: rng.fill(normal: buf, mean: 0, std: 0.02, pool: pool)
                default: rng.fill(bernoulli: buf, keep: 0.9, pool: pool)
                }
            }
            let x = fillArray(n) { fill(&a, $0, Pools.one) }
            let y = fillArray(n) { fill(&b, $0, Pools.three) }
            #expect(bits(x) == bits(y), "fill kind \(kind) differs between 1 and 3 threads")
            #expect(a == b)
            #expect(!x.contains { $0.isNaN }, "fill kind \(kind) left elements unwritten")
        }
    }

    @Test("nextInt(below:) is unbiased, including for bounds near 2^64")
    func nextIntUnbiased() {
        var rng = RandomGenerator(seed: 3)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<600_000 { counts[rng.nextInt(below: 6)] += 1 }
        // Each count is 100000 with standard deviation 289.
        #expect(counts.allSatisfy { abs($0 - 100_000) < 1_500 }, "\(counts)")

        // bound = 3 * 2^61: reducing 64 random bits modulo it would put half the draws below
        // 2^62 instead of two thirds.
        let bound = 3 << 61
        var below = 0
        for _ in 0..<30_000 {
            let v = rng.nextInt(below: bound)
            #expect(v >= 0 && v < bound)
            if v < 1 << 62 { below += 1 }
        }
        #expect(abs(Double(below) / 30_000 - 2.0 / 3) < 0.015)
        #expect(rng.nextInt(below: 1) == 0)
        #expect(rng.nextInt(below: Int.max) >= 0)
    }

    @Test("Shuffle is a uniform, reproducible permutation")
    func shuffleUniform() {
        var rng = RandomGenerator(seed: 11)
        var counts: [[Int]: Int] = [:]
        for _ in 0..<60_000 {
            var a = [0, 1, 2]
            rng.shuffle(&a)
            counts[a, default: 0] += 1
        }
        // Six permutations, 10000 each, standard deviation 91.
        #expect(counts.count == 6)
        #expect(counts.values.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")

        var r1 = RandomGenerator(seed: 5), r2 = RandomGenerator(seed: 5), r3 = RandomGenerator(seed: 6)
        let p1 = r1.permutation(1000), p2 = r2.permutation(1000), p3 = r3.permutation(1000)
        #expect(p1.sorted() == Array(0..<1000))
        #expect(p1 == p2)
        #expect(p1 != p3)
        var empty: [Int] = []
        r1.shuffle(&empty)
        #expect(empty.isEmpty)
    }

    @Test("Forked streams are independent of draws, distinct, and differ from the parent")
    func forking() {
        var root = RandomGenerator(seed: 123)
        let early = root.fork(1)
        _ = root.nextUInt64()
        #expect(root.fork(1) == early)  // labels name streams, whatever was drawn
        #expect(early.offset == 0 && early.stream >> 63 == 0)

        let labels: [RandomGenerator] = [root, root.fork(0), root.fork(1), root.fork(2),
                                         root.fork(1).fork(2), root.fork(2).fork(1),
                                         RandomGenerator(seed: 124).fork(1)]
        var firstValues = Set<[UInt32]>()
        for g in labels {
            var g = g
            firstValues.insert((0..<8).map { _ in g.nextUInt32() })
        }
        #expect(firstValues.count == labels.count)

        var parent = RandomGenerator(seed: 9)
        let child = parent.split()
        #expect(parent.offset == 2)
        var parentAgain = RandomGenerator(seed: 9)
        #expect(parentAgain.split() == child)
        #expect(child.stream != parent.stream)
    }

    @Test("Codable state resumes bit for bit")
    func codableResume() throws {
        var rng = RandomGenerator(seed: 0xfedc_ba98_7654_3210).fork(0xffff_ffff_ffff_fff1)
        rng.advance(by: (1 << 60) + 12_345)
        _ = fillArray(1001) { rng.fill(normal: $0) }
        let json = try JSONEncoder().encode(rng)
        var resumed = try JSONDecoder().decode(RandomGenerator.self, from: json)
        #expect(resumed == rng)
        let plist = try PropertyListEncoder().encode([rng])
        #expect(try PropertyListDecoder().decode([RandomGenerator].self, from: plist) == [rng])

        let a = fillArray(5000) { rng.fill(uniform: $0) } + [rng.nextNormal(), Float(rng.nextInt(below: 77))]
        let b = fillArray(5000) { resumed.fill(uniform: $0) } + [resumed.nextNormal(), Float(resumed.nextInt(below: 77))]
        #expect(bits(a) == bits(b))

        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"seed\":18364758544493064720"))
        #expect(text.contains("philox4x32-10"))

        let badStream = #"{"algorithm":"philox4x32-10","seed":1,"stream":9223372036854775808,"offset":0}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RandomGenerator.self, from: Data(badStream.utf8)) }
        let otherAlgorithm = #"{"algorithm":"mt19937","seed":1,"stream":0,"offset":0}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RandomGenerator.self, from: Data(otherAlgorithm.utf8)) }
    }

    @Test("Tensor factories: shapes, reproducibility, dropout masks")
    func tensorFactories() {
        var r1 = RandomGenerator(seed: 8), r2 = RandomGenerator(seed: 8)
        let u = Tensor.uniform([3, 4, 5], low: -1, high: 1, rng: &r1, requiresGrad: true)
        #expect(u.shape == [3, 4, 5] && u.requiresGrad)
        #expect(u.scalars() == Tensor.uniform([60], low: -1, high: 1, rng: &r2).scalars())
        let n = Tensor.normal([2, 3], mean: 5, std: 0, rng: &r1)
        #expect(n.scalars() == [Float](repeating: 5, count: 6))
        #expect(Tensor.normal([], rng: &r1).shape == [])
        #expect(Tensor.uniform([0, 3], rng: &r1).count == 0)

        let mask = Tensor.bernoulliMask([200, 500], keep: 0.8, rng: &r1)
        let values = mask.scalars()
        #expect(values.allSatisfy { $0 == 0 || $0 == 1 })
        // Mean 0.8 with standard error 9e-4.
        #expect(abs(values.reduce(0, +) / Float(values.count) - 0.8) < 5e-3)
        #expect(Tensor.bernoulliMask([1000], keep: 0, rng: &r1).scalars().allSatisfy { $0 == 0 })
        #expect(Tensor.bernoulliMask([1000], keep: 1, rng: &r1).scalars().allSatisfy { $0 == 1 })
    }
}
