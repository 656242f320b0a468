import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM
import TetherNN

/// The preference trainers really learn on tiny synthetic sets whose gold rule is known.
@Suite struct PreferenceLearningTests {
    static let good: Int32 = 12, bad: Int32 = 13

    /// Pairs over random prompts: the chosen completion starts with the `good` token, the rejected one with `bad`,
    /// the rest shared (the gold rule: "good" beats "bad").
    static func pairs(_ n: Int, seed: UInt64) -> [PreferenceTokens] {
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in
            let prompt = (0..<(2 + rng.nextInt(below: 3))).map { _ in Int32(1 + rng.nextInt(below: 9)) }
            let rest = (0..<(1 + rng.nextInt(below: 3))).map { _ in Int32(1 + rng.nextInt(below: 9)) }
            return PreferenceTokens(prompt: prompt, chosen: [good] + rest, rejected: [bad] + rest)
        }
    }

    /// Mean over `pairs` of log π(chosen) − log π(rejected) (summed log-probs), through the evaluator.
    static func margin(_ model: CausalLM, _ pairs: [PreferenceTokens]) throws -> Double {
        let c = try logProbs(model: model, pairs: pairs.map { ($0.prompt, $0.chosen) })
        let r = try logProbs(model: model, pairs: pairs.map { ($0.prompt, $0.rejected) })
        return zip(c, r).reduce(0.0) { $0 + Double($1.0.reduce(0, +) - $1.1.reduce(0, +)) } / Double(pairs.count)
    }

    /// The gold measure: mean probability that the policy's first completion token is the good one.
    static func goldRate(_ model: CausalLM, _ pairs: [PreferenceTokens]) throws -> Double {
        try logProbs(model: model, pairs: pairs.map { ($0.prompt, [good]) }).reduce(0.0) { $0 + exp(Double($1[0])) } / Double(pairs.count)
    }

    static func config(steps: Int) -> TrainingConfig {
        var c = smallConfig(steps: steps)
        c.microBatchSize = 8
        c.learningRate = 1e-2
        c.warmupSteps = 0
        c.schedule = .constant
        return c
    }

    @Test func rewardModelLearnsAKeywordRuleOnHeldOutPairs() throws {
        // Chosen sequences contain the keyword somewhere; rejected ones never do.
        var rng = RandomGenerator(seed: 9)
        func pair() -> RewardPair {
            let n = 3 + rng.nextInt(below: 4)
            let base = (0..<n).map { _ in Int32(1 + rng.nextInt(below: 10)) }
            var chosen = base
            chosen[rng.nextInt(below: n)] = Self.good
            return RewardPair(chosen: chosen, rejected: base.map { $0 == Self.good ? 1 : $0 })
        }
        let train = (0..<96).map { _ in pair() }, eval = (0..<48).map { _ in pair() }
        let model = ScoreModel(config: .gpt2(vocabSize: 16, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 32), seed: 2)
        var c = RewardConfig(training: Self.config(steps: 60))
        c.training.learningRate = 3e-3
        let t = try RewardTrainer(config: c, model: model, train: train, eval: eval)
        t.loop.progress = .silent
        let before = RewardEnsemble(members: [model]).accuracy(eval)
        try t.train()
        let last = try Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl")).last!
        #expect(before < 0.8, "held-out accuracy before training \(before)")
        #expect(last["eval_accuracy"]! > 0.9, "held-out accuracy \(last["eval_accuracy"]!)")
        for key in ["accuracy", "margin", "mean_reward", "min_reward", "max_reward", "eval_margin"] { #expect(last[key] != nil, "\(key)") }
        #expect(last["min_reward"]! <= last["max_reward"]!)
        #expect(abs(RewardEnsemble(members: [model]).accuracy(eval) - last["eval_accuracy"]!) < 1e-9)
    }

    /// Every trainable parameter's values after a run, in order.
    static func weights(_ module: Module) -> [[Float]] { module.trainableParameters.map { $0.scalars() } }

    @Test func rewardAndDPOMicroBatchesAtOnceTrainAsOneAfterAnother() throws {
        // 4 pairs a step as 1 x 4 micro-batches, at once or one after another: the same weights (within rounding),
        // and the same at once every time. DPO scores its frozen reference on the fly, inside each micro-batch.
        let pairs = Self.pairs(16, seed: 6)
        func config(_ concurrent: Bool) -> TrainingConfig {
            var c = Self.config(steps: 3)
            c.microBatchSize = 1
            c.gradientAccumulationSteps = 4
            c.concurrentMicroBatches = concurrent
            return c
        }
        // Each run gives the weights before and after training.
        func reward(_ concurrent: Bool) throws -> (before: [[Float]], after: [[Float]]) {
            var c = RewardConfig(training: config(concurrent))
            c.tokenVerifier = true
            let model = ScoreModel(config: .gpt2(vocabSize: 16, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 32),
                                   verifier: true, seed: 2)
            let before = Self.weights(model)
            let t = try RewardTrainer(config: c, model: model, train: pairs.map { RewardPair($0, maxLength: 32) })
            t.loop.progress = .silent
            try t.train()
            return (before, Self.weights(model))
        }
        func dpo(_ concurrent: Bool) throws -> (before: [[Float]], after: [[Float]]) {
            var c = DPOConfig(training: config(concurrent))
            c.precomputeRefLogProbs = false
            let model = Self.policy()
            let before = Self.weights(model)
            let t = try DPOTrainer(config: c, model: model, train: pairs)
            t.loop.progress = .silent
            try t.train()
            #expect(t.objective.reference != nil)
            return (before, Self.weights(model))
        }
        for run in [reward, dpo] {
            let sequential = try run(false), atOnce = try run(true)
            #expect(maxDifference(sequential.before, sequential.after) > 1e-3)  // it trained
            #expect(maxDifference(sequential.after, atOnce.after) <= 1e-5, "max difference \(maxDifference(sequential.after, atOnce.after))")
            #expect(try run(true).after == atOnce.after)
        }
        // The policy as its own reference (adapters off, scored on the fly) switches the shared model: refused.
        var c = Self.dpoConfig(steps: 1, reference: .adaptersOff, lora: true)
        c.training.concurrentMicroBatches = true
        c.precomputeRefLogProbs = false
        let refused = #expect(throws: TrainingError.self) { _ = try DPOTrainer(config: c, model: Self.policy(), train: pairs) }
        #expect("\(String(describing: refused))".contains("concurrent_micro_batches"))
    }

    /// A tiny policy whose embeddings are large enough (σ 0.3) for adapters alone to move its logits.
    static func policy() -> CausalLM {
        var config = TransformerConfig.gpt2(vocabSize: 16, hiddenSize: 16, layers: 1, heads: 2, maxPositions: 64)
        config.initializerRange = 0.3
        return CausalLM(config: config, seed: 3)
    }

    /// DPO settings for the learning tests: full fine-tuning, or LoRA adapters (with any reference).
    static func dpoConfig(steps: Int, reference: ReferenceSource, lora: Bool) -> DPOConfig {
        var c = DPOConfig(training: Self.config(steps: steps))
        c.reference = reference
        c.preference.usePeft = lora
        c.preference.loraR = 4
        c.preference.loraAlpha = 8
        c.preference.loraDropout = 0
        if lora { c.training.learningRate = 2e-2 }
        return c
    }

    @Test(arguments: [ReferenceSource.copy, .adaptersOff])
    func dpoRaisesTheHeldOutMarginAndTheGoldRate(reference: ReferenceSource) throws {
        let train = Self.pairs(48, seed: 1), eval = Self.pairs(16, seed: 2)
        let model = Self.policy()
        let c = Self.dpoConfig(steps: 25, reference: reference, lora: reference == .adaptersOff)
        let marginBefore = try Self.margin(model, eval), goldBefore = try Self.goldRate(model, eval)
        let t = try DPOTrainer(config: c, model: model, train: train, eval: eval)
        t.loop.progress = .silent
        try t.train()
        model.eval()
        let lines = try Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        // Step 1 starts at the reference: every implicit reward is 0 and the loss is log 2.
        #expect(abs(lines[0]["loss"]! - log(2)) < 1e-4 && abs(lines[0]["rewards/margins"]!) < 1e-4)
        let marginAfter = try Self.margin(model, eval), goldAfter = try Self.goldRate(model, eval)
        #expect(marginAfter > marginBefore + 2, "held-out margin \(marginBefore) → \(marginAfter)")
        #expect(goldAfter > goldBefore + 0.2, "gold rate \(goldBefore) → \(goldAfter)")
        #expect(lines.last!["eval_rewards/accuracies"]! > 0.9)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"] {
            #expect(lines.last![key] != nil, "\(key)")
        }
        // Reference log-probs were precomputed once and cached; the copy is gone.
        #expect(FileManager.default.fileExists(atPath: t.loop.runDirectory.appendingPathComponent(ReferenceCache.fileName).path))
        #expect(t.objective.reference == nil)
    }

    @Test func adaptersOffIsTheSameReferenceAsAFrozenCopy() throws {
        // With LoRA on the policy, both references are the starting weights: the runs agree bit for bit, with
        // reference log-probs precomputed or computed on the fly each step.
        let train = Self.pairs(16, seed: 4)
        var lines: [[MetricRecord]] = []
        for (reference, precompute) in [(ReferenceSource.copy, true), (.adaptersOff, true), (.adaptersOff, false), (.copy, false)] {
            var c = Self.dpoConfig(steps: 4, reference: reference, lora: true)
            c.precomputeRefLogProbs = precompute
            let t = try DPOTrainer(config: c, model: Self.policy(), train: train)
            t.loop.progress = .silent
            try t.train()
            lines.append(timeless(try Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl"))))
        }
        #expect(lines[0] == lines[1])
        for other in lines[2...] {
            for (a, b) in zip(lines[0], other) { #expect(abs(a["loss"]! - b["loss"]!) < 1e-5) }
        }
    }

    @Test func dpoResumesFromTheCachedReferenceBitForBit() throws {
        let train = Self.pairs(24, seed: 5)
        var c = DPOConfig(training: Self.config(steps: 6))
        c.training.microBatchSize = 4
        c.training.saveSteps = 3
        let whole = try DPOTrainer(config: c, model: tinyGPT2(seed: 3), train: train)
        whole.loop.progress = .silent
        try whole.train()
        c.training.runName = "split"
        let first = try DPOTrainer(config: c, model: tinyGPT2(seed: 3), train: train)
        first.loop.progress = .silent
        first.loop.afterStep = { step, _ in if step == 3 { first.loop.requestStop() } }
        try first.train()
        // Resumed from a model of other weights: the checkpoint restores the policy, and only the cached reference
        // log-probs in the run folder (not a copy of this model) can make the rest of the run equal.
        let resumed = try DPOTrainer(resuming: first.loop.runDirectory, config: c, model: tinyGPT2(seed: 99), train: train)
        resumed.loop.progress = .silent
        try resumed.train()
        let a = try Metrics.read(whole.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        let b = try Metrics.read(first.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        #expect(timeless(a) == timeless(b))
    }

    @Test func simpoAndOnTheFlyReferencesTrainWithoutACache() throws {
        let train = Self.pairs(32, seed: 6), eval = Self.pairs(16, seed: 7)
        for (type, precompute) in [(DPOLossType.simpo, true), (.ipo, false), (.hinge, false), (.robust, true)] {
            let model = tinyGPT2(seed: 3)
            var c = DPOConfig(training: Self.config(steps: 12))
            c.lossType = type
            c.precomputeRefLogProbs = precompute
            if type == .robust { c.labelSmoothing = 0.1 }
            if type == .simpo { c.beta = 2 }
            let before = try Self.margin(model, eval)
            let t = try DPOTrainer(config: c, model: model, train: train, eval: eval)
            t.loop.progress = .silent
            try t.train()
            model.eval()
            #expect(try Self.margin(model, eval) > before + 1, "\(type)")
            let cached = FileManager.default.fileExists(atPath: t.loop.runDirectory.appendingPathComponent(ReferenceCache.fileName).path)
            #expect(cached == (precompute && type.needsReference), "\(type)")
            #expect((t.objective.reference != nil) == (!precompute && type.needsReference), "\(type)")
        }
    }

    @Test func ktoLearnsFromUnpairedLabelsAndLogsTRLMetrics() throws {
        let train = Self.pairs(32, seed: 1).flatMap(KTOTokens.unpaired), eval = Self.pairs(8, seed: 2).flatMap(KTOTokens.unpaired)
        let model = tinyGPT2(seed: 3)
        let held = Self.pairs(8, seed: 2)
        let before = try Self.margin(model, held)
        var c = KTOConfig(training: Self.config(steps: 20))
        c.undesirableWeight = 1.2
        let t = try KTOTrainer(config: c, model: model, train: train, eval: eval)
        t.loop.progress = .silent
        try t.train()
        model.eval()
        let last = try Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl")).last!
        #expect(try Self.margin(model, held) > before + 2)
        #expect(last["eval_rewards/chosen"]! > 0 && last["eval_rewards/rejected"]! < 0, "\(last)")
        #expect(last["kl"] != nil && last["rewards/margins"] != nil && last["logps/chosen"] != nil)
    }

    @Test func orpoRaisesChosenOverRejectedWithoutAReference() throws {
        let train = Self.pairs(32, seed: 1), eval = Self.pairs(16, seed: 2)
        let model = tinyGPT2(seed: 3)
        let before = try Self.margin(model, eval)
        var c = ORPOConfig(training: Self.config(steps: 20))
        c.beta = 1
        let t = try ORPOTrainer(config: c, model: model, train: train, eval: eval)
        t.loop.progress = .silent
        try t.train()
        model.eval()
        let last = try Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl")).last!
        #expect(try Self.margin(model, eval) > before + 1)
        for key in ["nll_loss", "log_odds_ratio", "log_odds_chosen", "rewards/margins", "eval_log_odds_ratio"] { #expect(last[key] != nil, "\(key)") }
        #expect(last["nll_loss"]! < lines0NLL(t))
    }

    /// The first logged NLL of a finished run.
    func lines0NLL(_ t: ORPOTrainer) -> Double {
        (try? Metrics.read(t.loop.runDirectory.appendingPathComponent("metrics.jsonl")).first?["nll_loss"]) ?? .nan
    }

    @Test func pairsLongerThanTheModelsPositionsAreCut() throws {
        // max_length 1024 on a model with 64 learned positions: the whole is cut to 64 keeping its start (TRL's
        // keep_start), so the completion loses its end; a prompt of 64 or more would keep its last 63 tokens.
        let long = [PreferenceTokens(prompt: [Int32](repeating: 3, count: 60), chosen: [Int32](repeating: 12, count: 20),
                                     rejected: [Int32](repeating: 13, count: 30))]
        var c = DPOConfig(training: Self.config(steps: 1))
        c.training.maxLength = 1024
        let t = try DPOTrainer(config: c, model: tinyGPT2(seed: 3), train: long + Self.pairs(3, seed: 1))
        t.loop.progress = .silent
        try t.train()
        let cut = PreferencePairs.fit([Int32](repeating: 3, count: 60), [Int32](repeating: 12, count: 20),
                                      maxLength: PreferencePairs.lengthLimit(1024, model: tinyGPT2().config))
        #expect(cut.prompt.count == 60 && cut.completion == [12, 12, 12, 12])
        #expect(PreferencePairs.fit([Int32](0..<70), [9, 9], maxLength: 64) == (Array(7..<70), [9]))
    }

    @Test func configsRejectBadFieldsByName() {
        func field(_ body: () throws -> Void) -> String? {
            do { try body() } catch let TrainingError.badConfig(f, _) { return f } catch { return "other: \(error)" }
            return nil
        }
        var d = DPOConfig()
        d.reference = .adaptersOff
        #expect(field { try d.validate() } == "reference")
        d = DPOConfig(); d.lossType = .ipo; d.labelSmoothing = 0.1
        #expect(field { try d.validate() } == "label_smoothing")
        var o = ORPOConfig(); o.training.packing = true
        #expect(field { try o.validate() } == "packing")
        var k = KTOConfig(); k.training.microBatchSize = 1
        #expect(field { try k.validate() } == "per_device_train_batch_size")
        let json = Data(#"{"beta": -1}"#.utf8)
        #expect(field { _ = try JSONDecoder().decode(ORPOConfig.self, from: Data(#"{"beta": -1}"#.utf8)) } == "beta")
        #expect(field { _ = try JSONDecoder().decode(DPOConfig.self, from: json) } == "beta")
        let roundTrip = try? JSONDecoder().decode(DPOConfig.self, from: JSONEncoder().encode(DPOConfig()))
        #expect(roundTrip == DPOConfig())
    }
}
