import Foundation
import Testing
@testable import TetherAlign

/// The quickstart's pipeline on a tiny config: every stage runs, writes its files and is recorded.
@Suite struct QuickstartTests {
    static func tinyConfig() -> QuickstartConfig {
        var c = QuickstartConfig()
        c.tasks = [TaskSpec(.addition, digitsA: 1, digitsB: 1, trainCount: 40, testCount: 10),
                   TaskSpec(.multiplication, digitsA: 2, digitsB: 1, trainCount: 30, testCount: 10)]
        c.repeats = ["mul_2x1": 2]
        c.vocabSize = 300
        c.hiddenSize = 32
        c.layers = 1
        c.heads = 2
        c.pretrain = QuickstartConfig.stage(steps: 20, learningRate: 3e-3, batch: 8)
        c.sft = QuickstartConfig.stage(steps: 20, learningRate: 3e-3, batch: 8)
        c.maxNewTokens = 4
        c.preference = nil
        return c
    }

    /// The tiny config with tiny preference stages on a small gold world.
    static func tinyPreferenceConfig() -> QuickstartConfig {
        var c = tinyConfig()
        var p = QuickstartPreferenceConfig()
        p.prompts = 80
        p.sft = QuickstartPreferenceConfig.stage(steps: 4, learningRate: 1e-3, packing: true)
        p.reward = QuickstartPreferenceConfig.stage(steps: 3, learningRate: 1e-3, packing: false)
        p.dpo = QuickstartPreferenceConfig.stage(steps: 3, learningRate: 1e-3, packing: false)
        p.samplesPerPrompt = 1
        p.maxNewTokens = 6
        c.preference = p
        c.vocabSize = 400
        return c
    }

    @Test func everyStageRunsAndIsRecorded() throws {
        let folder = tempDir().appendingPathComponent("quickstart")
        let quickstart = Quickstart(config: Self.tinyConfig(), folder: folder)
        quickstart.progress = .silent
        let summary = try quickstart.run()
        #expect(summary.stages.map(\.stage) == ["data", "tokenizer", "pretrain", "eval_base", "sft", "eval_sft"])
        for s in summary.stages where ["pretrain", "sft", "eval_base", "eval_sft"].contains(s.stage) {
            #expect((s.tokensPerSecond ?? 0) > 0, "\(s.stage) has no tokens/s")
        }
        for model in ["base", "sft"] {
            #expect(Set(summary.accuracy[model]?.keys.map { $0 } ?? []) == ["add_1x1", "mul_2x1", "all"])
        }
        let fm = FileManager.default
        for file in ["summary.json", "report.md", "data/train.jsonl", "data/pretrain.jsonl", "data/test.jsonl",
                     "tokenizer/tokenizer.json", "pretrain/metrics.jsonl", "sft/report.md", "eval_sft.jsonl"] {
            #expect(fm.fileExists(atPath: folder.appendingPathComponent(file).path), "missing \(file)")
        }
        // The checkpoints load as model folders (tokenizer included), and the summary reads back.
        let sftCheckpoint = try #require(summary.stages.first { $0.stage == "sft" }?.checkpoint)
        #expect(fm.fileExists(atPath: sftCheckpoint + "/tokenizer.json"))
        let decoded = try JSONDecoder().decode(QuickstartSummary.self, from: Data(contentsOf: folder.appendingPathComponent("summary.json")))
        #expect(decoded.accuracy == summary.accuracy)
        let saved = try JSONDecoder().decode(QuickstartConfig.self, from: Data(contentsOf: folder.appendingPathComponent("config.json")))
        #expect(saved == Self.tinyConfig())
        #expect(summary.table.contains("| add_1x1 |") && summary.table.contains("| total |"))
        // Pretraining text states the facts; the SFT data asks the questions; the test problems are in neither.
        let pretrain = try String(contentsOf: folder.appendingPathComponent("data/pretrain.jsonl"), encoding: .utf8)
        #expect(pretrain.contains("The sum of ") && !pretrain.contains("What is"))
        // A second run into the same folder is refused, and nothing is overwritten.
        let before = try Data(contentsOf: folder.appendingPathComponent("summary.json"))
        #expect(throws: TrainingError.self) { try Quickstart(config: Self.tinyConfig(), folder: folder).run() }
        #expect(try Data(contentsOf: folder.appendingPathComponent("summary.json")) == before)
    }

    @Test func preferenceStagesRunOnTheGoldWorldWithTheQuickstartsHeldOutProblems() throws {
        let folder = tempDir().appendingPathComponent("quickstart")
        let quickstart = Quickstart(config: Self.tinyPreferenceConfig(), folder: folder)
        quickstart.progress = .silent
        let summary = try quickstart.run()
        #expect(summary.stages.map(\.stage) == ["data", "tokenizer", "pretrain", "eval_base", "sft", "eval_sft",
                                                "chat_sft", "reward", "dpo", "eval_world"])
        #expect(Set(summary.assistant.keys) == ["base", "sft", "dpo"])
        // The SFT policy is the reference: against itself it ties every comparison, at no KL.
        let sft = try #require(summary.assistant["sft"])
        #expect(sft.goldWinRate == 0.5 && sft.kl == 0)
        #expect(summary.assistant.values.allSatisfy { (0...1).contains($0.arithmeticAccuracy) })
        let rm = try #require(summary.rewardModel)
        #expect(rm.evalPairs > 0 && (0...1).contains(rm.evalAccuracy))
        // Every held-out pair falls in one kind, and the kinds' right answers add up to the total.
        #expect(rm.byKind.values.map(\.pairs).reduce(0, +) == rm.evalPairs)
        let right = rm.byKind.values.map { $0.accuracy * Double($0.pairs) }.reduce(0, +)
        #expect(abs(right - rm.evalAccuracy * Double(rm.evalPairs)) < 1e-6)
        #expect(rm.byKind.keys.contains("harmful: refusal"))
        #expect(summary.table.contains("| dpo |") && summary.table.contains("arithmetic right") && summary.table.contains("reward model:"))
        let decoded = try JSONDecoder().decode(QuickstartSummary.self, from: Data(contentsOf: folder.appendingPathComponent("summary.json")))
        #expect(decoded.assistant == summary.assistant && decoded.rewardModel?.byKind == rm.byKind)
        for file in ["data/world/preference.jsonl", "data/world/eval_prompts.jsonl", "chat_sft/metrics.jsonl",
                     "reward/metrics.jsonl", "dpo/metrics.jsonl", "eval_world_dpo.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "missing \(file)")
        }
        // The world's held-out arithmetic prompts are the quickstart's test problems, never its training ones.
        func prompts(_ file: String, kind: String? = nil) throws -> [String] {
            try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").compactMap {
                let row = try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                return kind == nil || row["kind"] as? String == kind ? row["prompt"] as? String : nil
            }
        }
        let worldArithmetic = try prompts("data/world/eval_prompts.jsonl", kind: "arithmetic")
        #expect(!worldArithmetic.isEmpty)
        #expect(Set(worldArithmetic).isSubset(of: Set(try prompts("data/test.jsonl"))))
        #expect(Set(worldArithmetic).isDisjoint(with: Set(try prompts("data/train.jsonl"))))
    }

    @Test func validationHoldsOutTrainingProblemsPerTask() throws {
        let specs = Self.tinyConfig().tasks
        let (train, _) = try ArithmeticData.generate(specs: specs, seed: 3)
        let (rest, validation) = Quickstart.validationSplit(train, count: 5)
        #expect(validation.filter { $0.task == "add_1x1" }.count == 5 && validation.filter { $0.task == "mul_2x1" }.count == 5)
        #expect(rest.count + validation.count == train.count)
        #expect(Set(rest.map(\.prompt)).isDisjoint(with: Set(validation.map(\.prompt))))
    }

    @Test func chatSFTArithmeticRowsKeepEveryTasksShare() {
        // The SFT rows hold the tasks one after another (here 6 addition rows, then 4 multiplication rows).
        let rows = Array(repeating: "add", count: 6) + Array(repeating: "mul", count: 4)
        #expect(Quickstart.spread(rows, count: 5) == ["add", "add", "add", "mul", "mul"])  // rows 0, 2, 4, 6, 8
        #expect(Quickstart.spread(rows, count: 20) == rows)
    }
}
