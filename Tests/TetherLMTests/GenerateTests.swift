import Foundation
import Tether
import Testing
@testable import TetherLM

/// A small random model with peaked logits (weights std 0.3), GPT-2 or Llama layout.
func peakedModel(_ family: String, seed: UInt64 = 1) -> CausalLM {
    var c = family == "gpt2"
        ? TransformerConfig.gpt2(vocabSize: 40, hiddenSize: 32, layers: 2, heads: 4, maxPositions: 64)
        : TransformerConfig.llama(vocabSize: 40, hiddenSize: 32, layers: 2, heads: 4, kvHeads: 2,
                                  intermediateSize: 48, maxPositions: 64)
    c.initializerRange = 0.3
    c.eosTokenIds = [39]
    return CausalLM(config: c, seed: seed)
}

/// The models the generation tests run on: two fixtures and two peaked random models.
func generationModel(_ name: String) throws -> CausalLM {
    switch name {
    case "gpt2", "llama": return peakedModel(name)
    default: return try CausalLM(contentsOf: fixture(name))
    }
}

/// "<3><17>..." : each id in angle brackets.
@Sendable func angleDecode(_ ids: [Int32]) -> String { ids.map { "<\($0)>" }.joined() }

/// Prompts of lengths 2, 5 and 7 (a left-padded batch).
let mixedPrompts: [[Int32]] = [[5, 9], [1, 4, 8, 2, 7], [3, 3, 12, 6, 10, 11, 4]]

@Suite struct GenerateTests {
    static let models = ["gpt2", "llama", "tiny-gpt2", "tiny-llama"]

    @Test(arguments: models) func greedyIsTheArgmaxOfAFullForwardAtEachStep(_ name: String) throws {
        let model = try generationModel(name)
        let out = try generate(model: model, prompts: mixedPrompts,
                               config: SamplingConfig(temperature: 0, maxNewTokens: 6, stopTokenIds: []))
        for s in out {
            #expect(s.tokenIds.count == 6 && s.finishReason == .length)
            for j in 0..<s.tokenIds.count {
                // No cache, no padding: the whole sequence so far.
                let seq = s.promptIds + s.tokenIds[..<j]
                let logits = noGrad { model(IndexTensor(seq, shape: [1, seq.count])) }   // (1, T, V)
                let v = model.config.vocabSize
                let last = Array(logits.scalars()[((seq.count - 1) * v)...])
                let best = last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }!
                #expect(s.tokenIds[j] == Int32(best), "\(name) row \(s.index) step \(j)")
                let lse = Foundation.log(last.map { Foundation.exp(Double($0 - last[best])) }.reduce(0, +)) + Double(last[best])
                #expect(abs(Double(s.logprobs[j]) - (Double(last[best]) - lse)) < 1e-4)
                #expect(s.samplingLogprobs[j] == 0)
            }
        }
    }

    @Test(arguments: models) func samplingLogProbsEqualTeacherForcing(_ name: String) throws {
        let model = try generationModel(name)
        let configs = [
            SamplingConfig(temperature: 0, maxNewTokens: 8),
            SamplingConfig(temperature: 1, maxNewTokens: 8, seed: 3),
            SamplingConfig(temperature: 0.7, topK: 5, topP: 0.9, minP: 0.02, maxNewTokens: 8, seed: 4),
        ]
        for config in configs {
            let out = try generate(model: model, prompts: mixedPrompts + mixedPrompts, config: config)
            var done: [Int] = []
            let batched = try logProbs(model: model, pairs: out.map { ($0.promptIds, $0.tokenIds) }, batchSize: 4,
                                       progress: { d, total in done.append(d); #expect(total == 6) })
            #expect(done == [4, 6])
            for s in out {
                #expect(!s.tokenIds.isEmpty && s.logprobs.count == s.tokenIds.count)
                let alone = try logProbs(model: model, prompt: s.promptIds, completion: s.tokenIds)
                let worst = zip(s.logprobs, alone).map { abs($0 - $1) }.max()!
                let worstBatched = zip(s.logprobs, batched[s.index]).map { abs($0 - $1) }.max()!
                #expect(worst < 1e-4 && worstBatched < 1e-4, "\(name) T=\(config.temperature) row \(s.index): \(worst), \(worstBatched)")
            }
        }
    }

    @Test(arguments: ["gpt2", "llama"]) func sameSeedSameSamplesOtherSeedOthers(_ name: String) throws {
        let model = try generationModel(name)
        let config = SamplingConfig(temperature: 1.5, maxNewTokens: 12, stopTokenIds: [], seed: 11)
        let a = try generate(model: model, prompts: mixedPrompts, config: config)
        let b = try generate(model: model, prompts: mixedPrompts, config: config)
        #expect(a == b)
        var other = config
        other.seed = 12
        let c = try generate(model: model, prompts: mixedPrompts, config: other)
        #expect(a.map(\.tokenIds) != c.map(\.tokenIds))
        // Identical prompts in one batch draw from different streams (row index), so they differ.
        let twins = try generate(model: model, prompts: [mixedPrompts[1], mixedPrompts[1]], config: config)
        #expect(twins[0].tokenIds != twins[1].tokenIds)
    }

    @Test(arguments: ["gpt2", "llama"]) func topKOneAndTinyTopPAreGreedy(_ name: String) throws {
        let model = try generationModel(name)
        let greedy = try generate(model: model, prompts: mixedPrompts, config: .greedy(maxNewTokens: 10))
        for config in [SamplingConfig(temperature: 1.3, topK: 1, maxNewTokens: 10, seed: 5),
                       SamplingConfig(temperature: 0.8, topP: 1e-6, maxNewTokens: 10, seed: 6),
                       SamplingConfig(temperature: 1, minP: 1, maxNewTokens: 10, seed: 7)] {
            let out = try generate(model: model, prompts: mixedPrompts, config: config)
            #expect(out.map(\.tokenIds) == greedy.map(\.tokenIds))
            for (s, g) in zip(out, greedy) {
                #expect(zip(s.logprobs, g.logprobs).allSatisfy { abs($0 - $1) < 1e-5 })
                #expect(s.samplingLogprobs.allSatisfy { abs($0) < 1e-6 })  // a one-token distribution
            }
        }
    }

    @Test(arguments: ["gpt2", "tiny-llama"]) func leftPaddedBatchEqualsEachPromptAlone(_ name: String) throws {
        let model = try generationModel(name)
        // Stop at a token one row reaches early, so rows leave the batch at different steps.
        let probe = try generate(model: model, prompts: mixedPrompts,
                                 config: SamplingConfig(temperature: 0, maxNewTokens: 12, stopTokenIds: []))
        var config = SamplingConfig.greedy(maxNewTokens: 12)
        config.stopTokenIds = [probe[1].tokenIds[2]]
        let batch = try generate(model: model, prompts: mixedPrompts, config: config)
        #expect(batch[1].finishReason == .stop && batch[1].tokenIds.count <= 3)
        for (i, p) in mixedPrompts.enumerated() {
            let alone = try generate(model: model, prompts: [p], config: config)[0]
            #expect(batch[i].tokenIds == alone.tokenIds, "row \(i)")
            #expect(batch[i].finishReason == alone.finishReason)
            #expect(zip(batch[i].logprobs, alone.logprobs).allSatisfy { abs($0 - $1) < 1e-4 })
        }
        // Sampled rows (same index) agree too.
        let sampled = SamplingConfig(temperature: 1, maxNewTokens: 8, stopTokenIds: [], seed: 9)
        let all = try generate(model: model, prompts: mixedPrompts, config: sampled)
        let first = try generate(model: model, prompts: [mixedPrompts[0]], config: sampled)[0]
        #expect(all[0].tokenIds == first.tokenIds)
    }

    @Test func stopTokenEndsTheSampleAndIsKeptInIdsNotText() throws {
        let model = peakedModel("llama")
        let free = try generate(model: model, prompts: mixedPrompts,
                                config: SamplingConfig(temperature: 1, maxNewTokens: 10, stopTokenIds: [], seed: 2))
        let ids = free[2].tokenIds
        let stop = ids[3]
        let at = ids.firstIndex(of: stop)!
        let out = try generate(model: model, prompts: mixedPrompts,
                               config: SamplingConfig(temperature: 1, maxNewTokens: 10, stopTokenIds: [stop], seed: 2),
                               decode: angleDecode)
        #expect(out[2].tokenIds == Array(ids[...at]))
        #expect(out[2].finishReason == .stop)
        #expect(out[2].text == angleDecode(Array(ids[..<at])))
        #expect(zip(out[2].logprobs, free[2].logprobs[...at]).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func defaultStopIdsAreTheModelsEOS() throws {
        let model = peakedModel("gpt2")
        var config = SamplingConfig(temperature: 0, maxNewTokens: 10, stopTokenIds: [])
        let probe = try generate(model: model, prompts: [mixedPrompts[0]], config: config)[0]
        // A model whose EOS is the second greedy token stops there by default.
        var c = model.config
        c.eosTokenIds = [Int(probe.tokenIds[1])]
        let copy = CausalLM(config: c, seed: 1)
        config.stopTokenIds = nil
        #expect(config.stopIds(for: c) == [probe.tokenIds[1]])
        let out = try generate(model: copy, prompts: [mixedPrompts[0]], config: config)[0]
        #expect(out.finishReason == .stop && out.tokenIds.last == probe.tokenIds[1])
        config.stopTokenIds = []
        #expect(try generate(model: copy, prompts: [mixedPrompts[0]], config: config)[0].finishReason == .length)
    }

    @Test func stopStringCutsTheTextEvenAcrossTokens() throws {
        let model = peakedModel("gpt2")
        let base = SamplingConfig(temperature: 1, maxNewTokens: 12, stopTokenIds: [], seed: 8)
        let free = try generate(model: model, prompts: mixedPrompts, config: base, decode: angleDecode)
        let ids = free[0].tokenIds
        #expect(free[0].text == angleDecode(ids) && free[0].finishReason == .length)
        // A stop string spanning tokens 4 and 5: "4th>" + "<5th" without their outer brackets.
        let stopString = "\(ids[4])><\(ids[5])"
        var config = base
        config.stopStrings = ["never-there", stopString]
        let out = try generate(model: model, prompts: mixedPrompts, config: config, decode: angleDecode)
        let full = angleDecode(ids)
        let cut = full.range(of: stopString)!.lowerBound
        #expect(out[0].text == String(full[..<cut]))
        #expect(out[0].finishReason == .stop)
        let completed = (0..<ids.count).first { angleDecode(Array(ids[...$0])).contains(stopString) }!
        #expect(out[0].tokenIds == Array(ids[...completed]))
        // Without a decode function, stop strings are an error.
        #expect(throws: GenerationError.stopStringsNeedDecode) {
            try generate(model: model, prompts: mixedPrompts, config: config)
        }
    }

    @Test func maxNewTokensEndsWithLength() throws {
        let model = peakedModel("llama")
        var steps: [(Int, Int)] = []
        let out = try generate(model: model, prompts: mixedPrompts,
                               config: SamplingConfig(temperature: 1, maxNewTokens: 5, stopTokenIds: [], seed: 1),
                               progress: { steps.append(($0, $1)) })
        #expect(out.allSatisfy { $0.tokenIds.count == 5 && $0.finishReason == .length && $0.text == nil })
        #expect(steps.map(\.0) == [1, 2, 3, 4, 5, 5] && steps.allSatisfy { $0.1 == 5 })
        let none = try generate(model: model, prompts: mixedPrompts, config: .greedy(maxNewTokens: 0), decode: angleDecode)
        #expect(none.allSatisfy { $0.tokenIds.isEmpty && $0.finishReason == .length && $0.text == "" })
    }

    @Test func badPromptsAreRejectedByIndex() throws {
        let model = peakedModel("gpt2")
        #expect(throws: GenerationError.emptyPrompt(index: 1)) {
            try generate(model: model, prompts: [[1], []], config: .greedy(maxNewTokens: 4))
        }
        #expect(throws: GenerationError.tokenOutOfRange(index: 0, token: 40, vocabSize: 40)) {
            try generate(model: model, prompts: [[1, 40]], config: .greedy(maxNewTokens: 4))
        }
        // GPT-2 has 64 learned positions: 60 + 5 new tokens need 64 fed positions (fits), 6 do not.
        let long = [Int32](repeating: 3, count: 60)
        #expect(throws: Never.self) { try generate(model: model, prompts: [long], config: .greedy(maxNewTokens: 5)) }
        #expect(throws: GenerationError.self) { try generate(model: model, prompts: [long], config: .greedy(maxNewTokens: 6)) }
        #expect(throws: GenerationError.emptyPrompt(index: 0)) {
            try logProbs(model: model, prompt: [], completion: [1])
        }
        #expect(try logProbs(model: model, prompt: [1, 2], completion: []) == [])
    }

    @Test func keepRowsMatchesTheFullBatch() throws {
        let model = peakedModel("llama")
        let ids = IndexTensor([0, 5, 9, /**/ 1, 4, 8, /**/ 3, 3, 12], shape: [3, 3])
        let mask = Tensor([0, 1, 1, 1, 1, 1, 1, 1, 1], shape: [3, 3])
        let next = IndexTensor([7, 2, 6], shape: [3, 1])
        let full = model.makeCache(), kept = model.makeCache()
        let v = model.config.vocabSize
        let reference: [Float] = noGrad {
            _ = model(ids, attentionMask: mask, cache: full)
            return model(next, cache: full).scalars()                           // (3, 1, V)
        }
        let pruned: [Float] = noGrad {
            _ = model(ids, attentionMask: mask, cache: kept)
            kept.keepRows([2, 0])
            return model(IndexTensor([6, 7], shape: [2, 1]), cache: kept).scalars()  // (2, 1, V)
        }
        #expect(kept.nextPositions == [4, 3] && kept.hasPadding && kept.keys[0]!.shape[0] == 2)
        let expected = Array(reference[(2 * v)..<(3 * v)]) + Array(reference[0..<v])
        #expect(zip(pruned, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func streamYieldsTheSameTokensAsGenerate() async throws {
        let model = peakedModel("gpt2")
        let config = SamplingConfig(temperature: 1, maxNewTokens: 7, seed: 4)
        let expected = try generate(model: model, prompts: mixedPrompts, config: config)
        var tokens: [Int: [GeneratedToken]] = [:]
        for await t in try generateStream(model: model, prompts: mixedPrompts, config: config) {
            tokens[t.index, default: []].append(t)
        }
        for s in expected {
            let got = tokens[s.index] ?? []
            #expect(got.map(\.token) == s.tokenIds)
            #expect(got.map(\.logprob) == s.logprobs)
            #expect(got.map(\.samplingLogprob) == s.samplingLogprobs)
            #expect(got.last?.finishReason == s.finishReason)
            #expect(got.dropLast().allSatisfy { $0.finishReason == nil })
        }
        #expect(throws: GenerationError.self) {
            try generateStream(model: model, prompts: mixedPrompts, config: SamplingConfig(topP: 2))
        }
    }

    @Test func streamStopsWhenTheConsumerStops() async throws {
        let model = peakedModel("llama")
        let steps = StepLog()
        // The producer waits after step 3 until the consumer has dropped the stream, so it
        // cannot finish all its tokens before the consumer stops (even on a loaded machine).
        let gate = DispatchSemaphore(value: 0)
        func firstTwo() async throws -> Int {
            let stream = try generateStream(model: model, prompts: [[1, 2]],
                                            config: SamplingConfig(maxNewTokens: 1000, stopTokenIds: []),
                                            progress: { done, _ in
                                                steps.record(done)
                                                if done == 3 { gate.wait() }
                                            })
            var seen = 0
            for await _ in stream {
                seen += 1
                if seen == 2 { break }
            }
            return seen
        }
        let seen = try await firstTwo()
        gate.signal()
        try await Task.sleep(nanoseconds: 300_000_000)
        // The loop checks before each step: it stops after step 2 or 3 (whichever it was in
        // when the stream was dropped), with no final progress call.
        let calls = steps.all
        #expect(seen == 2 && (calls == [1, 2] || calls == [1, 2, 3]), "steps \(calls.prefix(8)) (\(calls.count) calls)")
    }
}

/// Progress calls from the generation task, readable from the test.
final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var steps: [Int] = []
    /// Records one progress call.
    func record(_ done: Int) { lock.lock(); steps.append(done); lock.unlock() }
    /// The calls so far.
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return steps }
}
