import Foundation
import Tether
import Testing
@testable import TetherLM

/// The sampler on hand-made logits: each filter, the draw, and both log-probs.
@Suite struct SamplerTests {
    /// Draws `n` tokens from one row of `logits`, each from its own stream.
    func draws(_ logits: [Float], _ config: SamplingConfig, n: Int = 2000) throws -> [Int32: Int] {
        let sampler = try Sampler(config: config)
        var counts: [Int32: Int] = [:]
        let root = RandomGenerator(seed: 7)
        for i in 0..<n {
            var rng = root.fork(UInt64(i))
            let (t, _) = logits.withUnsafeBufferPointer { sampler.pick($0, rng: &rng) }
            counts[t, default: 0] += 1
        }
        return counts
    }

    let logits: [Float] = [0, 5, 1, 4.9, -2, 3]

    @Test func greedyPicksTheArgmaxWithoutDrawing() throws {
        let sampler = try Sampler(config: .greedy())
        var rng = RandomGenerator(seed: 1)
        let (t, q) = logits.withUnsafeBufferPointer { sampler.pick($0, rng: &rng) }
        #expect(t == 1 && q == 0 && rng.offset == 0)
        // Ties go to the lowest index.
        let tied: [Float] = [1, 3, 3, 2]
        #expect(tied.withUnsafeBufferPointer { sampler.pick($0, rng: &rng) }.token == 1)
    }

    @Test func topKKeepsTheKLargest() throws {
        let counts = try draws(logits, SamplingConfig(temperature: 1, topK: 2))
        #expect(Set(counts.keys) == [1, 3])
        let mixed: [Float] = [-1, 0, 3.5, -0.0, -7, 3.5, .infinity, -.infinity, 1e-30]
        let order = mixed.withUnsafeBufferPointer { Sampler.sortedByLogit(Array(0..<9), $0.baseAddress!) }
        #expect(order == [6, 2, 5, 8, 1, 3, 0, 4, 7])
        let values: [Float] = [2, 7, 7, 1, 9]
        #expect(values.withUnsafeBufferPointer { Sampler.topK($0, 3) } == [4, 1, 2])
        #expect(values.withUnsafeBufferPointer { Sampler.topK($0, 1) } == [4])
    }

    @Test func topPKeepsTheSmallestNucleusWithDeterministicTies() throws {
        // p1 ≈ 0.483, p3 ≈ 0.437 (together ≈ 0.921), p5 ≈ 0.065.
        #expect(Set(try draws(logits, SamplingConfig(topP: 0.4)).keys) == [1])
        #expect(Set(try draws(logits, SamplingConfig(topP: 0.9)).keys) == [1, 3])
        #expect(Set(try draws(logits, SamplingConfig(topP: 0.95)).keys) == [1, 3, 5])
        // Four equal logits (p = 0.25 each): 0.2 needs one token (the lowest index), 0.3 and 0.5 two.
        let flat: [Float] = [1, 1, 1, 1]
        #expect(Set(try draws(flat, SamplingConfig(topP: 0.2)).keys) == [0])
        #expect(Set(try draws(flat, SamplingConfig(topP: 0.3)).keys) == [0, 1])
        #expect(Set(try draws(flat, SamplingConfig(topP: 0.5)).keys) == [0, 1])
    }

    @Test func topPOnALargeVocabularyMatchesAFullSort() throws {
        // 1000 spread-out logits: the nucleus is found without sorting the vocabulary.
        var rng = RandomGenerator(seed: 5)
        let wide = (0..<1000).map { _ in 1.5 * rng.nextNormal() }
        let z = wide.map(Double.init)
        let m = z.max()!
        let p = z.map { Foundation.exp($0 - m) }
        let total = p.reduce(0, +)
        for topP: Float in [0.3, 0.6, 0.8] {
            let order = z.indices.sorted { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }
            var cumulative = 0.0, nucleus: Set<Int32> = []
            for i in order where cumulative < Double(topP) * total {
                cumulative += p[i]
                nucleus.insert(Int32(i))
            }
            let seen = Set(try draws(wide, SamplingConfig(topP: topP), n: 2000).keys)
            #expect(seen.isSubset(of: nucleus) && nucleus.count > 3, "top-p \(topP)")
            // Every nucleus token with at least 1% of the nucleus mass shows up in 2000 draws.
            #expect(nucleus.filter { p[Int($0)] > 0.01 * cumulative }.isSubset(of: seen))
        }
    }

    @Test func minPDropsTokensBelowAFractionOfTheMaxAndKeepsTheMax() throws {
        // p3/p1 = e^-0.1 ≈ 0.905; p5/p1 = e^-2 ≈ 0.135.
        #expect(Set(try draws(logits, SamplingConfig(minP: 0.9)).keys) == [1, 3])
        #expect(Set(try draws(logits, SamplingConfig(minP: 0.1)).keys) == [1, 3, 5])
        #expect(Set(try draws(logits, SamplingConfig(minP: 1)).keys) == [1])
        // With temperature 0.01 the ratio e^-10 drops token 3 even at minP 0.01.
        #expect(Set(try draws(logits, SamplingConfig(temperature: 0.01, minP: 0.01)).keys) == [1])
    }

    @Test func frequenciesFollowTheTemperedSoftmax() throws {
        let t: Float = 2
        let n = 8000
        let counts = try draws(logits, SamplingConfig(temperature: t), n: n)
        let z = logits.map { Double($0 / t) }
        let total = z.map { Foundation.exp($0) }.reduce(0, +)
        for (i, zi) in z.enumerated() {
            let p = Foundation.exp(zi) / total
            let sigma = (p * (1 - p) / Double(n)).squareRoot()
            let seen = Double(counts[Int32(i), default: 0]) / Double(n)
            #expect(abs(seen - p) < 4 * sigma + 1e-3, "token \(i): seen \(seen), expected \(p)")
        }
    }

    @Test func logProbsAreTheModelsAndTheSamplingDistributions() throws {
        let config = SamplingConfig(temperature: 0.5, topK: 3)
        let sampler = try Sampler(config: config)
        var rngs = [RandomGenerator(seed: 3), RandomGenerator(seed: 4)]
        let x = Tensor(logits + logits.reversed(), shape: [2, 6])
        let picked = sampler.sample(logits: x, rngs: &rngs)
        for (row, s) in picked.enumerated() {
            let r = Array(x.scalars()[(row * 6)..<(row * 6 + 6)]).map(Double.init)
            let lse = Foundation.log(r.map { Foundation.exp($0) }.reduce(0, +))
            #expect(abs(Double(s.logprob) - (r[Int(s.token)] - lse)) < 1e-5)
            // Sampling distribution: softmax of the top 3 logits / 0.5.
            let top = r.sorted(by: >).prefix(3).map { $0 / 0.5 }
            let lseTop = Foundation.log(top.map { Foundation.exp($0) }.reduce(0, +))
            #expect(abs(Double(s.samplingLogprob) - (r[Int(s.token)] / 0.5 - lseTop)) < 1e-5)
            #expect(rngs[row].offset == 1)
        }
    }

    @Test func invalidConfigsNameTheField() {
        let cases: [(SamplingConfig, String)] = [
            (SamplingConfig(temperature: -1), "temperature"),
            (SamplingConfig(temperature: .nan), "temperature"),
            (SamplingConfig(topK: -3), "topK"),
            (SamplingConfig(topP: 0), "topP"),
            (SamplingConfig(topP: 1.5), "topP"),
            (SamplingConfig(minP: -0.1), "minP"),
            (SamplingConfig(minP: 2), "minP"),
            (SamplingConfig(maxNewTokens: -1), "maxNewTokens"),
            (SamplingConfig(stopStrings: ["ok", ""]), "stopStrings"),
        ]
        for (config, field) in cases {
            do {
                try config.validate()
                Issue.record("\(field): expected an error")
            } catch let GenerationError.invalidConfig(named, message) {
                #expect(named == field, "\(message)")
                #expect(GenerationError.invalidConfig(field: named, message: message).description.contains(field))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(throws: Never.self) { try SamplingConfig(temperature: 0.7, topK: 0, topP: 1, minP: 0.05).validate() }
    }

    @Test func configRoundTripsThroughJSON() throws {
        let config = SamplingConfig(temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05, maxNewTokens: 12,
                                    stopTokenIds: [2], stopStrings: ["\n\n"], seed: 99)
        let back = try JSONDecoder().decode(SamplingConfig.self, from: JSONEncoder().encode(config))
        #expect(back == config)
    }
}
