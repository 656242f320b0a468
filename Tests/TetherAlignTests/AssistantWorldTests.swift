import Foundation
import Testing
import Tether
import TetherAlign

/// The gold world's prompts, files and held-out split.
@Suite struct AssistantWorldTests {
    func config(seed: UInt64 = 3, prompts: Int = 400) -> AssistantWorldConfig {
        var c = AssistantWorldConfig()
        c.seed = seed
        c.prompts = prompts
        c.evalArithmeticPerTask = 30
        return c
    }

    @Test func sameSeedSameFilesOtherSeedOtherFiles() throws {
        let labeler = PreferenceLabeler(noise: 0.1, bias: 0.5, margin: true)
        let a = try AssistantData(config: config(), labeler: labeler)
        let b = try AssistantData(config: config(), labeler: labeler)
        let c = try AssistantData(config: config(seed: 4), labeler: labeler)
        for ((name, x), (_, y)) in zip(a.files, b.files) { #expect(x == y, "\(name)") }
        for ((name, x), (_, z)) in zip(a.files, c.files) { #expect(x != z, "\(name)") }
    }

    @Test func morePairsPerPromptKeepTheFirstPairsAndChangeNothingElse() throws {
        let one = try AssistantData(config: config()), three = try AssistantData(config: config(), pairsPerPrompt: 3)
        #expect(three.preference.count > 2 * one.preference.count)
        // The one-pair file's pairs come in order among the three-pair file's, and the other files are byte-identical.
        var rest = three.preference[...]
        for pair in one.preference {
            guard let i = rest.firstIndex(of: pair) else { Issue.record("pair for '\(pair.prompt.text)' missing"); break }
            rest = rest[(i + 1)...]
        }
        for ((name, x), (_, y)) in zip(one.files, three.files) where name != "preference.jsonl" { #expect(x == y, "\(name)") }
        // The extra pairs are fresh draws, not copies.
        #expect(Set(three.preference.map { [$0.prompt.text, $0.chosen.text, $0.rejected.text] }).count > 2 * one.preference.count)
        let zero = #expect(throws: DatasetError.self) { try AssistantData(config: config(), pairsPerPrompt: 0) }
        #expect(zero?.field == "pairs_per_prompt")
    }

    @Test func heldOutPromptsNeverAppearInTraining() throws {
        let data = try AssistantData(config: config(prompts: 600))
        let world = data.world
        #expect(world.train.count == 600)
        let counts = Dictionary(grouping: world.train, by: \.kind).mapValues(\.count)
        #expect(counts[.arithmetic] == 300 && counts[.harmful] == 150 && counts[.lookAlike] == 150)
        let trainTexts = Set(world.train.map(\.text))
        #expect(Set(world.eval.map(\.kind)) == Set(AssistantPromptKind.allCases))
        for p in world.eval { #expect(!trainTexts.contains(p.text), "\(p.text)") }
        // Every request prompt is either trained on or held out, and about the held-out fraction is held out.
        for kind in [AssistantPromptKind.harmful, .lookAlike] {
            let all = RequestBank.items(kind).count * RequestBank.frames.count
            let held = world.eval.filter { $0.kind == kind }.count
            #expect(held == Int((Double(all) * 0.2).rounded(.up)))
            #expect(Set(world.train.filter { $0.kind == kind }.map(\.text)).count == all - held)
        }
        // No held-out sum sits inside a training prompt or a multi-step problem (arithmetic's guarantee, extended).
        let cores = world.eval.filter { $0.kind == .arithmetic }.compactMap { p -> String? in
            let t = p.text.split(separator: " ")
            guard let i = t.firstIndex(where: { ["+", "*", "-"].contains($0) }) else { return nil }
            return "\(t[i - 1].filter(\.isNumber)) \(t[i]) \(t[i + 1].filter(\.isNumber))"
        }
        #expect(cores.count == 60)
        for core in cores {
            #expect(!world.train.contains { $0.text.contains(core) }, "\(core)")
            #expect(!data.stepwise.contains { $0.prompt.contains(core) }, "\(core)")
        }
    }

    @Test func goldEvalPairsUseOnlyHeldOutPromptsAndGoldsOwnLabels() throws {
        // A noisy, biased training labeler must not leak into the held-out gold pairs.
        let data = try AssistantData(config: config(prompts: 400), labeler: PreferenceLabeler(noise: 0.5, bias: 2, margin: true))
        let trainTexts = Set(data.world.train.map(\.text)), evalTexts = Set(data.world.eval.map(\.text))
        #expect(data.preferenceEval.count > 2 * data.world.eval.count)
        #expect(Set(data.preferenceEval.map(\.prompt.kind)) == Set(AssistantPromptKind.allCases))
        let gold = GoldReward()
        for p in data.preferenceEval {
            #expect(!trainTexts.contains(p.prompt.text) && evalTexts.contains(p.prompt.text), "\(p.prompt.text)")
            #expect(!p.flipped && p.margin == nil)
            #expect(gold.score(p.prompt, response: p.chosen.text).total > gold.score(p.prompt, response: p.rejected.text).total)
        }
        // The file holds the same pairs, and none of its prompts is a training prompt.
        let dir = tempDir()
        let url = try data.write(into: dir).first { $0.lastPathComponent == "preference_eval.jsonl" }!
        let loaded = try DatasetLoader.load(PreferenceExample.self, from: url).examples
        #expect(loaded.count == data.preferenceEval.count)
        for e in loaded {
            guard case .text(let prompt)? = e.prompt else { Issue.record("no text prompt"); continue }
            #expect(!trainTexts.contains(prompt), "\(prompt)")
        }
    }

    @Test func sftMixesGoodAndBadResponses() throws {
        let data = try AssistantData(config: config())
        let gold = GoldReward()
        let totals = data.sft.map { gold.score($0.prompt, response: $0.response.text).total }
        let good = totals.filter { $0 >= 0.9 }.count, bad = totals.filter { $0 <= 0 }.count
        #expect(good > totals.count / 5 && bad > totals.count / 5)
        #expect(Set(data.sft.map(\.response.text)).count > totals.count / 2)
        #expect(data.sft.contains { $0.response.style.flattery } && data.sft.contains { $0.response.style.formatting == .bullets })
    }

    @Test func everyFileLoadsWithTheExistingLoaders() throws {
        let data = try AssistantData(config: config(prompts: 200), labeler: PreferenceLabeler(noise: 0.1, margin: true))
        let dir = tempDir()
        let urls = try data.write(into: dir)
        #expect(urls.map(\.lastPathComponent) == ["sft.jsonl", "preference.jsonl", "kto.jsonl", "stepwise.jsonl",
                                                  "eval_prompts.jsonl", "preference_eval.jsonl"])
        let sft = try DatasetLoader.load(PromptCompletionExample.self, from: urls[0])
        #expect(sft.examples.count == 200 && sft.examples[0].prompt == .text(data.sft[0].prompt.text))
        let pairs = try DatasetLoader.load(PreferenceExample.self, from: urls[1])
        #expect(pairs.examples.count == data.preference.count && data.preference.count > 150)
        #expect(pairs.examples.allSatisfy { $0.margin != nil && $0.prompt != nil })
        let kto = try DatasetLoader.load(UnpairedPreferenceExample.self, from: urls[2])
        #expect(kto.examples.map(\.label) == data.kto.map(\.label))
        let steps = try DatasetLoader.load(StepwiseSupervisionExample.self, from: urls[3])
        #expect(steps.examples.map(\.labels) == data.stepwise.map(\.labels))
        let eval = try DatasetLoader.load(PromptOnlyExample.self, from: urls[4])
        #expect(eval.examples.count == data.world.eval.count)
        // Type detection from the keys alone agrees.
        let expected: [DatasetType] = [.promptCompletion, .preference, .unpairedPreference, .stepwiseSupervision, .promptOnly,
                                       .preference]
        for (u, t) in zip(urls, expected) { #expect(try DatasetLoader.load(u).report.datasetType == t) }
        #expect(try AssistantPrompt.load(urls[4]) == data.world.eval)
        // Never overwritten.
        #expect(throws: DatasetError.self) { try data.write(into: dir) }
    }

    @Test func stepwiseLabelsMarkTheInjectedStepAndAfter() {
        var rng = RandomGenerator(seed: 11)
        let solutions = StepwiseLabeler(errorFraction: 0.5).make(count: 300, rng: &rng)
        #expect(solutions.count == 300)
        let injected = solutions.filter { $0.wrongStep != nil }.count
        #expect(injected > 100 && injected < 200)
        for s in solutions {
            let operands = s.prompt.dropFirst("What is ".count).dropLast().split(separator: " ")
            let exact = stride(from: 1, to: operands.count, by: 2).reduce(Int(operands[0])!) { v, i in
                operands[i] == "+" ? v + Int(operands[i + 1])! : v - Int(operands[i + 1])!
            }
            #expect(s.steps.count == operands.count / 2 + 1 && s.labels.count == s.steps.count)
            // Which steps are actually wrong, read off the text: a step "x op y = z" with z != x op y.
            var wrong: [Int] = []
            for (i, step) in s.steps.dropLast().enumerated() {
                let t = step.split(separator: " ")
                let x = Int(t[0])!, y = Int(t[2])!, z = Int(t[4])!
                if (t[1] == "+" ? x + y : x - y) != z { wrong.append(i) }
            }
            let final = ResponseFeatures.answer(in: s.steps.last!)
            if let k = s.wrongStep {
                #expect(wrong == [k])
                #expect(s.labels == s.steps.indices.map { $0 < k })
                #expect(final != exact)
            } else {
                #expect(wrong.isEmpty && s.labels.allSatisfy { $0 } && final == exact)
            }
        }
    }

    @Test func stepwiseNoiseMisplacesTheFirstWrongLabel() {
        var rng = RandomGenerator(seed: 12)
        let solutions = StepwiseLabeler(noise: 0.3).make(count: 600, rng: &rng)
        let mislabeled = solutions.filter(\.mislabeled)
        #expect(abs(Double(mislabeled.count) / 600 - 0.3) < 0.05)
        for s in solutions {
            let truth = s.steps.indices.map { i in s.wrongStep.map { i < $0 } ?? true }
            #expect((s.labels != truth) == s.mislabeled)
            #expect(s.labels == s.labels.sorted(by: { $0 && !$1 }))  // still true..., then false...
        }
        #expect(throws: DatasetError.self) { try AssistantData(config: config(), stepwise: StepwiseLabeler(noise: 1.5)) }
    }
}
