import Foundation
import Tether
import TetherLM
import TetherTokenizers

/// The quickstart's preference stages on the gold world: chat SFT, a reward model, DPO, and gold's table of base,
/// SFT and DPO.
extension Quickstart {
    /// The gold world whose arithmetic prompts are the quickstart's problems (its held-out prompts stay held out).
    func world(_ c: QuickstartPreferenceConfig,
               arithmetic: (train: [ArithmeticProblem], test: [ArithmeticProblem])) throws -> AssistantData {
        var world = AssistantWorldConfig()
        world.seed = config.seed
        world.prompts = c.prompts
        return try AssistantData(config: world, labeler: PreferenceLabeler(noise: c.noise, bias: c.bias),
                                 pairsPerPrompt: c.pairsPerPrompt, arithmetic: arithmetic)
    }

    /// Chat SFT from the arithmetic SFT model (with `arithmetic` question-answer rows mixed in), then a reward model and
    /// DPO from the chat SFT policy, then base, SFT and DPO sampled on the world's held-out prompts and judged by gold
    /// against the SFT policy.
    func preferenceStages(_ c: QuickstartPreferenceConfig, data: AssistantData, arithmetic: [TokenizedExample],
                          model: CausalLM, base: URL, tokenizer: Tokenizer, tokenizerFile: URL,
                          into summary: inout QuickstartSummary) throws {
        let eos = Int32(model.config.eosTokenIds[0])
        let examples = ExampleTokenizer(tokenizer: tokenizer, eosId: eos)

        // Chat SFT on the world's mix of good and bad responses and some arithmetic questions (completion-only loss).
        let world = try data.sft.map {
            try examples.tokenize(PromptCompletionExample(prompt: .text($0.prompt.text), completion: .text($0.response.text)))
        }
        let chatRows = world + arithmetic
        heading(7, "chat sft: \(c.sft.maxSteps ?? 0) steps on the gold world's \(world.count) responses (good and bad mixed)"
                + " and \(arithmetic.count) arithmetic answers")
        let chat = try SFTTrainer(config: SFTConfig(training: stageConfig(c.sft, name: "chat_sft")), model: model,
                                  train: chatRows, padId: eos)
        chat.loop.progress = progress
        let sftCheckpoint = try runStage(chat.loop, stage: "chat_sft", into: &summary, tokenizer: tokenizerFile)

        // The reward model: the chat SFT weights with a fresh scalar head (and token verifier), Bradley–Terry on the
        // labeled pairs.
        let pairs = try data.preference.map {
            try examples.tokenize(PreferenceExample(prompt: .text($0.prompt.text), chosen: .text($0.chosen.text),
                                                    rejected: .text($0.rejected.text)))
        }
        let length = QuickstartPreferenceConfig.maxLength
        let evalPairs = try data.preferenceEval.map {
            RewardPair(try examples.tokenize(PreferenceExample(prompt: .text($0.prompt.text), chosen: .text($0.chosen.text),
                                                               rejected: .text($0.rejected.text))), maxLength: length)
        }
        heading(8, "reward model: \(c.reward.maxSteps ?? 0) steps on \(pairs.count) labeled pairs")
        let scorer = try ScoreModel(contentsOf: sftCheckpoint, requireHead: false, verifier: c.rewardTokenVerifier, seed: config.seed)
        let reward = try RewardTrainer(config: RewardConfig(training: stageConfig(c.reward, name: "reward")), model: scorer,
                                       train: pairs.map { RewardPair($0, maxLength: length) }, padId: eos)
        reward.loop.progress = progress
        try runStage(reward.loop, stage: "reward", into: &summary, tokenizer: tokenizerFile)
        summary.rewardModel = .init(rankedRight: RewardEnsemble(members: [scorer]).rankedRight(evalPairs, padId: eos),
                                    kinds: data.preferenceEval.map { GoldPairKind($0).description })
        progress.message(String(format: "  reward model: %.1f%% of %d held-out gold pairs ranked right",
                                100 * summary.rewardModel!.evalAccuracy, evalPairs.count))

        // DPO from the chat SFT policy, against a frozen copy of it.
        heading(9, "dpo: \(c.dpo.maxSteps ?? 0) steps on the same pairs, β \(c.beta)")
        let policy = try CausalLM(contentsOf: sftCheckpoint)
        var dpoConfig = DPOConfig(training: stageConfig(c.dpo, name: "dpo"))
        dpoConfig.beta = c.beta
        let dpo = try DPOTrainer(config: dpoConfig, model: policy, reference: try CausalLM(contentsOf: sftCheckpoint),
                                 train: pairs, padId: eos)
        dpo.loop.progress = progress
        try runStage(dpo.loop, stage: "dpo", into: &summary, tokenizer: tokenizerFile)

        // Gold's table: each policy against the chat SFT policy, sampled with the same seed.
        let prompts = data.world.eval
        heading(10, "evaluate base, sft, dpo on \(prompts.count) held-out prompts x \(c.samplesPerPrompt) samples, judged by gold")
        let clock = Date()
        let evaluation = AssistantPolicyEvaluation(
            tokenizer: tokenizer, sampling: SamplingConfig(maxNewTokens: c.maxNewTokens, seed: config.seed),
            samplesPerPrompt: c.samplesPerPrompt)
        let sft = try CausalLM(contentsOf: sftCheckpoint)
        var generated = 0
        for (name, candidate) in [("base", try CausalLM(contentsOf: base)), ("sft", sft), ("dpo", policy)] {
            let report = try evaluation.run(policy: candidate, reference: sft, prompts: prompts)
            try report.writeRecords(to: folder.appendingPathComponent("eval_world_\(name).jsonl"))
            summary.assistant[name] = PreferenceMethodRow(name: name, report: report, trainSeconds: 0)
            generated += report.tokenCounts.reduce(0, +)
        }
        summary.add(stage: "eval_world", seconds: Date().timeIntervalSince(clock), tokens: generated)
    }
}
