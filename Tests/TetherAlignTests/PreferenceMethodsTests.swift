import Foundation
import Testing
@testable import TetherAlign

/// The preference-methods experiment on a tiny config: the table's shape, its JSON, and determinism for a seed.
@Suite struct PreferenceMethodsTests {
    static func tinyConfig(seed: UInt64 = 0) -> PreferenceMethodsConfig {
        var c = PreferenceMethodsConfig()
        c.seed = seed
        c.prompts = 30
        c.validationPrompts = 3
        c.vocabSize = 300
        c.hiddenSize = 16
        c.layers = 1
        c.heads = 2
        c.pretrain = PreferenceMethodsConfig.stage(steps: 2, learningRate: 3e-3, batch: 4)
        c.sft = PreferenceMethodsConfig.stage(steps: 2, learningRate: 3e-3, batch: 4)
        c.methods = PreferenceMethod.allCases.map {
            PreferenceMethodSettings($0, steps: 2, batchSize: 2, learningRate: 1e-3, beta: 0.5)
        }
        c.samplesPerPrompt = 1
        c.maxNewTokens = 4
        return c
    }

    static func run(_ config: PreferenceMethodsConfig) throws -> (PreferenceMethodsTable, URL) {
        let folder = tempDir().appendingPathComponent("prefexp")
        let experiment = PreferenceMethods(config: config, folder: folder)
        experiment.progress = .silent
        return (try experiment.run(), folder)
    }

    @Test func tableHasEveryMethodAndItsJSONTheIssuesKeys() throws {
        let (table, folder) = try Self.run(Self.tinyConfig())
        #expect(table.methods.map(\.name) == ["dpo", "ipo", "kto", "kto_pairs", "orpo", "simpo"])
        #expect(table.split == "validation" && table.prompts == 3 && table.samplesPerPrompt == 1)
        // The SFT policy against itself: every comparison a tie, no KL.
        #expect(table.reference.goldWinRate == 0.5 && table.reference.kl == 0)
        for r in table.methods {
            #expect((0...1).contains(r.goldWinRate) && (0...1).contains(r.refusalRate) && (0...1).contains(r.overRefusalRate))
            #expect(r.goldReward.isFinite && r.kl.isFinite && r.meanLength > 0 && r.trainSeconds > 0)
        }
        let lines = table.markdown.split(separator: "\n")
        #expect(lines.count == 2 + 7 && lines[0].hasPrefix("| policy | gold win rate vs SFT |"))
        #expect(lines[2].hasPrefix("| SFT (reference) | 50.0% |") && lines[3].hasPrefix("| DPO (sigmoid) |"))
        // The file on disk is the table's JSON, with the issue's keys per method.
        let data = try Data(contentsOf: folder.appendingPathComponent("preference_methods.json"))
        #expect(String(decoding: data, as: UTF8.self) == table.json)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let methods = try #require(object["methods"] as? [String: [String: Double]])
        #expect(Set(methods.keys) == ["dpo", "ipo", "kto", "kto_pairs", "orpo", "simpo"])
        for (_, m) in methods {
            #expect(Set(m.keys) == ["gold_win_rate", "gold_reward", "kl", "mean_length", "refusal_rate",
                                    "over_refusal_rate", "arithmetic_accuracy", "train_seconds"])
        }
        #expect(methods["kto"]?["gold_win_rate"] == table.methods[2].goldWinRate)
        for file in ["config.json", "table.md", "data/preference.jsonl", "tokenizer/tokenizer.json", "sft/metrics.jsonl",
                     "orpo/metrics.jsonl", "simpo_samples.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "missing \(file)")
        }
        // Nothing is overwritten: a second run into the folder is refused.
        #expect(throws: TrainingError.self) { try PreferenceMethods(config: Self.tinyConfig(), folder: folder).run() }
    }

    @Test func sameSeedSameTable() throws {
        var config = Self.tinyConfig(seed: 3)
        config.methods = [config.methods[0], config.methods[4]]      // DPO (a reference) and ORPO (none)
        let (a, _) = try Self.run(config)
        let (b, _) = try Self.run(config)
        func figures(_ t: PreferenceMethodsTable) -> [[Double]] {
            ([t.reference] + t.methods).map { [$0.goldWinRate, $0.goldReward, $0.kl, $0.meanLength, $0.refusalRate, $0.overRefusalRate] }
        }
        #expect(figures(a) == figures(b))
        #expect(a.markdown == b.markdown)
    }

    @Test func validationPromptsNeverTrain() throws {
        let data = try AssistantData(config: { var w = AssistantWorldConfig(); w.prompts = 100; return w }())
        let split = PreferenceMethods.split(data, validation: 10, seed: 0)
        let held = Set(split.evaluation.map(\.text))
        #expect(held.count == 10 && split.name == "validation")
        #expect(!split.sft.contains { held.contains($0.prompt.text) })
        #expect(!split.preference.contains { held.contains($0.prompt.text) })
        #expect(!split.kto.contains { held.contains($0.prompt.text) })
        #expect(split.preference.count < data.preference.count)
        let test = PreferenceMethods.split(data, validation: nil, seed: 0)
        #expect(test.name == "test" && test.evaluation == data.world.eval && test.preference.count == data.preference.count)
    }
}
