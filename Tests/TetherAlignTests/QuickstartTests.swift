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
        #expect(summary.table.contains("| add_1x1 |") && summary.table.contains("| total |"))
        // Pretraining text states the facts; the SFT data asks the questions; the test problems are in neither.
        let pretrain = try String(contentsOf: folder.appendingPathComponent("data/pretrain.jsonl"), encoding: .utf8)
        #expect(pretrain.contains("The sum of ") && !pretrain.contains("What is"))
        // A second run into the same folder is refused, and nothing is overwritten.
        let before = try Data(contentsOf: folder.appendingPathComponent("summary.json"))
        #expect(throws: TrainingError.self) { try Quickstart(config: Self.tinyConfig(), folder: folder).run() }
        #expect(try Data(contentsOf: folder.appendingPathComponent("summary.json")) == before)
    }
}
