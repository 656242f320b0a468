import Foundation
import Testing
@testable import tether
import Tether
import TetherAlign

/// `reward train|score`, `dpo`, `kto` and `orpo` end to end on a tiny pretrained model and handmade pairs.
@Suite struct CLIPreferenceTests {
    /// A scratch folder with text, preference pairs (chosen: the right sum), a 1-step pretrained model and its tokenizer.
    func scratch() throws -> (dir: URL, model: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-pref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var text = "", pairs = ""
        for a in 0..<12 {
            text += "{\"text\": \"What is \(a) + 3? \(a + 3)\"}\n"
            pairs += "{\"prompt\": \"What is \(a) + 3?\", \"chosen\": \" \(a + 3)\", \"rejected\": \" \(a + 4)\", \"margin\": 1}\n"
        }
        try text.write(to: dir.appendingPathComponent("text.jsonl"), atomically: true, encoding: .utf8)
        try pairs.write(to: dir.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        let tok = dir.appendingPathComponent("tok")
        _ = try TokenizerCommand.TrainCommand.parse([
            "--files", dir.appendingPathComponent("text.jsonl").path, "--vocab-size", "280", "--min-frequency", "1",
            "--out", tok.path]).train()
        let pre = try PretrainCommand.parse(["--tokenizer", tok.path, "--data", dir.appendingPathComponent("text.jsonl").path,
                                             "--output-dir", dir.appendingPathComponent("runs").path, "--run-name", "pre",
                                             "--max-steps", "1", "--max-length", "32"]).train()
        return (dir, try #require(pre.checkpoint))
    }

    func common(_ dir: URL, _ name: String) -> [String] {
        ["--output-dir", dir.appendingPathComponent("runs").path, "--run-name", name, "--max-steps", "2",
         "--per-device-train-batch-size", "4", "--max-length", "32", "--learning-rate", "1e-3"]
    }

    func savedConfig(_ run: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: run.appendingPathComponent("training_config.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func rewardDPOKTOORPOFromTheCommandLine() throws {
        let (dir, model) = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("pairs.jsonl").path
        let base = ["--model", model.path, "--data", data]

        // Reward: an ensemble of two, held-out accuracy saved in metrics.json; then scored together.
        let reward = try RewardCommand.TrainCommand.parse(base + common(dir, "rm") + ["--ensemble-size", "2",
                                                                                     "--center-rewards-coefficient", "0.01"]).train()
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: reward.run.appendingPathComponent("metrics.json"))) as? [String: Any])
        let acc = try #require(summary["eval_accuracy"] as? Double)
        #expect(acc >= 0 && acc <= 1 && summary["eval_pairs"] as? Int == 2)
        #expect((summary["member_eval_accuracy"] as? [Double])?.count == 2)
        let members = (0..<2).map { reward.run.appendingPathComponent("member-\($0)").appendingPathComponent("checkpoint-2").path }
        let lines = try RewardCommand.ScoreCommand.parse(["--model", members[0], "--model", members[1], "--data", data,
                                                          "--aggregate", "mean-std", "--lambda", "0.5"]).outputLines()
        #expect(lines.count == 13 && lines.last!.contains("\"accuracy\"") && lines[0].contains("chosen_members"))
        // The handmade pairs are gold-world questions (a right against a wrong sum), so the accuracy is also split by kind.
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        let kinds = try #require(last["by_kind"] as? [String: [String: Any]])
        #expect(kinds.keys.sorted() == ["sums: correctness"] && kinds["sums: correctness"]?["pairs"] as? Int == 12)
        #expect(kinds["sums: correctness"]?["accuracy"] as? Double == last["accuracy"] as? Double)
        // A record longer than the GPT-2 model's 32 positions keeps its start instead of stopping the program.
        let long = dir.appendingPathComponent("long.jsonl")
        try "{\"prompt\": \"What is 1 + 3?\", \"chosen\": \"\(String(repeating: " 4", count: 60))\", \"rejected\": \" 5\"}\n"
            .write(to: long, atomically: true, encoding: .utf8)
        #expect(try RewardCommand.ScoreCommand.parse(["--model", members[0], "--data", long.path]).outputLines().count == 2)

        // A single reward model (with the token verifier, saved in its checkpoint) resumes from its checkpoint and ends
        // as an uninterrupted run.
        let single = base + common(dir, "rm1") + ["--save-steps", "1", "--token-verifier", "true"]
        let rm1 = try RewardCommand.TrainCommand.parse(single).train()
        let rm1Tensors = try SafeTensorsFile(url: rm1.run.appendingPathComponent("checkpoint-1/model.safetensors")).names
        #expect(rm1Tensors.contains("verifier.weight"))
        let straight = try Metrics.read(rm1.run.appendingPathComponent("metrics.jsonl")).map { $0.filter { !Metrics.timingKeys.contains($0.key) } }
        try FileManager.default.removeItem(at: rm1.run.appendingPathComponent("checkpoint-2"))
        _ = try RewardCommand.TrainCommand.parse(base + ["--resume", rm1.run.path]).train()
        #expect(try Metrics.read(rm1.run.appendingPathComponent("metrics.jsonl")).map { $0.filter { !Metrics.timingKeys.contains($0.key) } } == straight)

        // An ensemble stopped inside member 0, before member 1 began, resumes both and ends as an uninterrupted run.
        let ensemble = try RewardCommand.TrainCommand.parse(single + ["--run-name", "rm2", "--ensemble-size", "2"]).train().run
        func memberMetrics() throws -> [[MetricRecord]] {
            try (0..<2).map { k in
                try Metrics.read(ensemble.appendingPathComponent("member-\(k)/metrics.jsonl")).map { $0.filter { !Metrics.timingKeys.contains($0.key) } }
            }
        }
        let ensembleStraight = try memberMetrics()
        let accuracy = try Data(contentsOf: ensemble.appendingPathComponent("metrics.json"))
        for gone in ["member-0/checkpoint-2", "member-1", "metrics.json"] {
            try FileManager.default.removeItem(at: ensemble.appendingPathComponent(gone))
        }
        _ = try RewardCommand.TrainCommand.parse(base + ["--resume", ensemble.path]).train()
        #expect(try memberMetrics() == ensembleStraight)
        #expect(try Data(contentsOf: ensemble.appendingPathComponent("metrics.json")) == accuracy)

        // DPO with LoRA as its own reference; its effective config is saved.
        let dpo = try DPOCommand.parse(base + common(dir, "dpo") + ["--use-peft", "true", "--reference", "adapters_off",
                                                                    "--loss-type", "robust", "--label-smoothing", "0.1"]).train()
        let saved = try savedConfig(dpo.run)
        #expect(saved["loss_type"] as? String == "robust" && saved["reference"] as? String == "adapters_off")
        #expect(saved["beta"] as? Double != nil && saved["use_peft"] as? Bool == true)
        #expect(FileManager.default.fileExists(atPath: dpo.run.appendingPathComponent("reference_logps.json").path))
        let metrics = try String(contentsOf: dpo.run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        #expect(metrics.contains("rewards/accuracies") && metrics.contains("logps/rejected"))

        // KTO on pairs (split into desirable and undesirable), ORPO without a reference.
        let kto = try KTOCommand.parse(base + common(dir, "kto") + ["--undesirable-weight", "1.5"]).train()
        #expect(try String(contentsOf: kto.run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).contains("\"kl\""))
        let orpo = try ORPOCommand.parse(base + common(dir, "orpo") + ["--beta", "0.5"]).train()
        #expect(try String(contentsOf: orpo.run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).contains("log_odds_ratio"))
        #expect(try savedConfig(orpo.run)["beta"] as? Double == 0.5)
    }

    @Test func prmTrainAndScoreStepwiseRecords() throws {
        let (dir, model) = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var lines = ""
        for a in 0..<10 {
            lines += "{\"prompt\": \"What is \(a) + 3?\", \"completions\": [\"\(a) + 3\", \"= \(a + 3 + a % 2)\"], \"labels\": [true, \(a % 2 == 0)]}\n"
        }
        let data = dir.appendingPathComponent("steps.jsonl")
        try lines.write(to: data, atomically: true, encoding: .utf8)
        let prm = try PRMCommand.TrainCommand.parse(["--model", model.path, "--data", data.path] + common(dir, "prm")).train()
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: prm.run.appendingPathComponent("metrics.json"))) as? [String: Any])
        #expect(summary["eval_accuracy"] as? Double != nil && summary["eval_records"] as? Int == 1)
        let scores = try PRMCommand.ScoreCommand.parse(["--model", try #require(prm.checkpoint).path, "--data", data.path]).outputLines()
        #expect(scores.count == 10 && scores.allSatisfy { $0.hasPrefix("{\"step_scores\":[") })
        let first = try #require(try JSONSerialization.jsonObject(with: Data(scores[0].utf8)) as? [String: [Double]])
        #expect(first["step_scores"]?.count == 2 && first["step_scores"]!.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test func malformedPreferenceFilesNameFileLineAndField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.jsonl")
        try ("{\"prompt\": \"a\", \"chosen\": \" b\", \"rejected\": \" c\"}\n"
             + "{\"prompt\": \"a\", \"chosen\": \" b\", \"rejected\": 3}\n").write(to: bad, atomically: true, encoding: .utf8)
        let tokenizer = try PreferenceFiles.tokenizers(model: try fixtureModel()).examples
        #expect { _ = try PreferenceFiles.pairs(bad.path, tokenizer) } throws: { error in
            guard let e = error as? DatasetError else { return false }
            return e.file == bad.path && e.line == 2 && e.field == "rejected" && "\(e)".hasPrefix("\(bad.path):2: field \"rejected\"")
        }
        try "{\"prompt\": \"a\", \"chosen\": \" b\", \"rejected\": \" c\", \"margin\": \"big\"}\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect { _ = try PreferenceFiles.pairs(bad.path, tokenizer) } throws: { error in
            (error as? DatasetError).map { $0.line == 1 && $0.field == "margin" } ?? false
        }
        try "{\"prompt\": \"a\", \"completion\": \" b\", \"label\": \"yes\"}\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect { _ = try PreferenceFiles.unpaired(bad.path, tokenizer, settings: PreferenceSettings()) } throws: { error in
            (error as? DatasetError).map { $0.line == 1 && $0.field == "label" } ?? false
        }
    }

    /// A tokenizer.json from the tokenizer fixtures (the loader fails before any model is needed).
    func fixtureModel() throws -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TetherTokenizersTests/Fixtures/gpt2.json").path
    }

    @Test func yamlConfigsWithTRLKeysAndFlagOverrides() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = dir.appendingPathComponent("dpo.yaml")
        try "loss_type: simpo\nbeta: 2.0\nsimpo_gamma: 1.0\nuse_peft: true\nmax_prompt_length: 64\n".write(to: yaml, atomically: true, encoding: .utf8)
        let c = try DPOCommand.parse(["--config", yaml.path, "--model", "m", "--data", "d", "--beta", "2.5"]).effectiveConfig()
        #expect(c.lossType == .simpo && c.beta == 2.5 && c.simpoGamma == 1 && c.preference.usePeft && c.preference.maxPromptLength == 64)
        #expect(c.training.learningRate == 1e-6)   // TRL's default where the file is silent
        try "desirable_weight: 1.0\nundesirable_wieght: 2.0\n".write(to: yaml, atomically: true, encoding: .utf8)
        #expect { try KTOCommand.parse(["--config", yaml.path, "--model", "m", "--data", "d"]).effectiveConfig() } throws: { error in
            (error as? ConfigFileError).map { $0.field == "undesirable_wieght" && $0.line == 2 } ?? false
        }
        try "center_rewards_coefficient: -1\n".write(to: yaml, atomically: true, encoding: .utf8)
        #expect { try RewardCommand.TrainCommand.parse(["--config", yaml.path, "--model", "m", "--data", "d"]).effectiveConfig() } throws: { error in
            (error as? ConfigFileError)?.field == "center_rewards_coefficient"
        }
        let r = try RewardCommand.TrainCommand.parse(["--model", "m", "--data", "d"]).effectiveConfig()
        #expect(r.evalSize == .fraction(0.1) && r.training.learningRate == 1e-5)
    }

    @Test func helpExplainsEveryOptionWithItsDefault() {
        for help in [DPOCommand.helpMessage(), KTOCommand.helpMessage(), ORPOCommand.helpMessage(),
                     RewardCommand.TrainCommand.helpMessage(), RewardCommand.ScoreCommand.helpMessage()] {
            #expect(help.contains("default"))
        }
        let dpo = DPOCommand.helpMessage(columns: 400)
        for option in ["--loss-type", "--label-smoothing", "--simpo-gamma", "--reference", "--precompute-ref-log-probs", "--beta", "--use-peft"] {
            #expect(dpo.contains(option), "\(option)")
        }
    }
}
