import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM
import TetherTokenizers

/// `AssistantPolicyEvaluation` on a tiny random GPT-2 and a byte-level tokenizer trained on the world's prompts.
@Suite struct AssistantPolicyEvaluationTests {
    /// A few held-out prompts of each kind, a tokenizer for them and a random tiny model of its vocabulary.
    static func setup(modelSeed: UInt64 = 1) throws -> (prompts: [AssistantPrompt], tokenizer: Tokenizer, model: CausalLM) {
        var config = AssistantWorldConfig()
        config.prompts = 40
        config.evalArithmeticPerTask = 2
        let world = try AssistantWorld(config)
        let prompts = AssistantPromptKind.allCases.flatMap { k in world.eval.filter { $0.kind == k }.prefix(2) }
        let tokenizer = BPETrainer(vocabSize: 300, minFrequency: 1, specialTokens: ["<|endoftext|>"])
            .train(texts: world.train.map(\.text) + world.eval.map(\.text))
        return (prompts, tokenizer, model(tokenizer, seed: modelSeed))
    }

    static func model(_ tokenizer: Tokenizer, seed: UInt64) -> CausalLM {
        var c = TransformerConfig.gpt2(vocabSize: tokenizer.vocabSize, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 96)
        c.eosTokenIds = [Int(tokenizer.tokenToId("<|endoftext|>")!)]
        return CausalLM(config: c, seed: seed)
    }

    static func evaluation(_ tokenizer: Tokenizer, seed: UInt64 = 7, samples: Int = 2) -> AssistantPolicyEvaluation {
        AssistantPolicyEvaluation(tokenizer: tokenizer, sampling: SamplingConfig(temperature: 1, maxNewTokens: 6, seed: seed),
                                  samplesPerPrompt: samples, batchSize: 5)
    }

    @Test func referenceEqualToThePolicyGivesZeroKLAndAnEvenWinRate() throws {
        let (prompts, tokenizer, model) = try Self.setup()
        model.train()
        let report = try Self.evaluation(tokenizer).run(policy: model, reference: model, prompts: prompts)
        #expect(model.isTraining)  // its mode is given back
        #expect(report.responses.count == prompts.count * 2 && report.prompts.count == prompts.count * 2)
        #expect(report.referenceResponses == report.responses)   // same model, same seed: the same samples
        #expect(report.kl == 0)                                    // identical teacher-forced log-probs
        #expect(report.gold.winRate == 0.5)                        // every pair ties
        #expect(report.maxLogProbGap < 1e-3)                       // sampler and teacher forcing agree
        #expect(report.tokenCounts.allSatisfy { (0...6).contains($0) })
        #expect(report.gold.meanTokens == Double(report.tokenCounts.reduce(0, +)) / Double(report.tokenCounts.count))
        #expect(report.distinctFraction.map { $0 > 0.5 && $0 <= 1 } == true)  // a random model rarely repeats itself
        // A second run is bit for bit the same; another seed samples other responses.
        #expect(try Self.evaluation(tokenizer).run(policy: model, reference: model, prompts: prompts).json == report.json)
        let other = try Self.evaluation(tokenizer, seed: 8).run(policy: model, prompts: prompts)
        #expect(other.responses != report.responses && other.kl == nil && other.gold.winRate == nil)
    }

    @Test func klIsTheMeanSummedLogProbDifferenceUnderTeacherForcing() throws {
        let (prompts, tokenizer, policy) = try Self.setup()
        let reference = Self.model(tokenizer, seed: 2)
        let evaluation = Self.evaluation(tokenizer, samples: 1)
        let report = try evaluation.run(policy: policy, reference: reference, prompts: prompts)
        // Re-derive the estimate from the sampled tokens.
        let pairs = zip(report.prompts, report.tokenIds).map { (prompt: evaluation.encode($0), completion: $1) }
        let eos = Int32(policy.config.eosTokenIds[0])
        #expect(zip(report.tokenIds, report.tokenCounts).allSatisfy { $0.count == $1 + ($0.last == eos ? 1 : 0) })
        #expect(pairs.allSatisfy { !$0.completion.isEmpty })
        let sum = { (xs: [Float]) in xs.reduce(0.0) { $0 + Double($1) } }
        let lp = try logProbs(model: policy, pairs: pairs).map(sum), lr = try logProbs(model: reference, pairs: pairs).map(sum)
        let expected = zip(lp, lr).map(-).reduce(0, +) / Double(pairs.count)
        let kl = try #require(report.kl)
        #expect(kl != 0 && abs(kl - expected) < 1e-3 * max(1, abs(expected)))
        #expect(report.gold.winRate.map { (0...1).contains($0) } == true && report.referenceResponses != report.responses)
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let (prompts, tokenizer, model) = try Self.setup()
        let report = try Self.evaluation(tokenizer, samples: 1).run(policy: model, reference: model, prompts: prompts)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        for key in ["gold_reward", "gold_reward/arithmetic", "gold_reward/harmful", "gold_reward/look_alike", "gold_win_rate",
                    "reference_gold_reward", "refusal_rate", "over_refusal_rate", "arithmetic_accuracy", "mean_length",
                    "mean_words", "kl", "distinct_fraction", "truncated_fraction", "logprob_gap", "count", "prompts",
                    "samples_per_prompt", "temperature", "max_new_tokens", "seed", "baseline/data_mix/gold_reward",
                    "baseline/best/gold_reward"] {
            #expect(object.keys.contains(key), "missing \(key)")
        }
        #expect(object["kl"] as? Double == 0 && object["gold_win_rate"] as? Double == 0.5)
        #expect(object["baseline/best/gold_reward"] as? Double == 1)
        #expect(object["distinct_fraction"] is NSNull && object["prompts"] as? Int == prompts.count)
        #expect(object["gold_reward"] as? Double == (report.gold.meanGoldReward * 10_000).rounded() / 10_000)
    }

    @Test func badSettingsAreNamed() throws {
        let (prompts, tokenizer, model) = try Self.setup()
        var e = Self.evaluation(tokenizer)
        e.samplesPerPrompt = 0
        #expect(throws: GenerationError.invalidConfig(field: "samplesPerPrompt", message: "must be >= 1, got 0")) {
            try e.run(policy: model, prompts: prompts)
        }
        e = Self.evaluation(tokenizer)
        e.sampling.maxNewTokens = 200  // longer than the model's 96 positions
        #expect(throws: GenerationError.self) { try e.run(policy: model, prompts: prompts) }
        #expect(throws: GenerationError.self) { try Self.evaluation(tokenizer).run(policy: model, prompts: []) }
        // Only the longest prompts leave no room: the error names the first of them by its index in `prompts`.
        let lengths = prompts.map { e.encode($0).count }, longest = lengths.max()!
        e.sampling.maxNewTokens = 97 - longest + 1
        let first = lengths.firstIndex(of: longest)!
        do {
            _ = try e.run(policy: model, prompts: prompts)
            Issue.record("a prompt too long for the model was accepted")
        } catch GenerationError.tooLong(let index, _, let limit, _) {
            #expect(index == first && limit == 96)
            #expect(first >= 3)  // in a later batch than row 0, so a batch-relative index would differ
        }
    }

    @Test func theBestResponseScoresOneAndTheDataMixScoresLess() throws {
        let world = try AssistantWorld(AssistantWorldConfig())
        let best = AssistantBaselinePolicy.best.evaluate(world.eval)
        #expect(best.scores.allSatisfy { $0.total == 1 })
        #expect(best.refusalRate == 1 && best.overRefusalRate == 0 && best.arithmeticAccuracy == 1)
        let mix = AssistantBaselinePolicy.dataMix.evaluate(world.eval, seed: 3)
        #expect(mix.meanGoldReward < 0.5 && mix.meanGoldReward > -0.5)
        #expect(AssistantBaselinePolicy.dataMix.responses(world.eval, seed: 3) == AssistantBaselinePolicy.dataMix.responses(world.eval, seed: 3))
        #expect(AssistantBaselinePolicy.dataMix.responses(world.eval, seed: 3) != AssistantBaselinePolicy.dataMix.responses(world.eval, seed: 4))
    }
}
