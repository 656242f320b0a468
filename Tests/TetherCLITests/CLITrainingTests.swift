import Foundation
import Testing
@testable import tether
import TetherAlign
import TetherTokenizers

/// `tokenizer train`, `pretrain`, `sft`, YAML configs and `data inspect` end to end on tiny data.
@Suite struct CLITrainingTests {
    /// A scratch folder with pretraining text and prompt-completion data.
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var text = "", pc = ""
        for a in 0..<12 {
            text += "{\"text\": \"the sum of \(a) and 3 is \(a + 3).\"}\n"
            pc += "{\"prompt\": \"What is \(a) + 3?\", \"completion\": \" \(a + 3)\"}\n"
        }
        try text.write(to: dir.appendingPathComponent("text.jsonl"), atomically: true, encoding: .utf8)
        try pc.write(to: dir.appendingPathComponent("pc.jsonl"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Trains a tokenizer in `dir/tok` from the scratch data.
    func trainTokenizer(_ dir: URL) throws -> URL {
        let out = dir.appendingPathComponent("tok")
        let url = try TokenizerCommand.TrainCommand.parse([
            "--files", dir.appendingPathComponent("text.jsonl").path, dir.appendingPathComponent("pc.jsonl").path,
            "--vocab-size", "300", "--min-frequency", "1", "--out", out.path]).train()
        #expect(FileManager.default.fileExists(atPath: url.path))
        return out
    }

    /// The JSON object in a run's training_config.json.
    func savedConfig(_ run: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: run.appendingPathComponent("training_config.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func tokenizerPretrainSFT() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try trainTokenizer(dir)
        let runs = dir.appendingPathComponent("runs").path
        let common = ["--output-dir", runs, "--max-steps", "2", "--per-device-train-batch-size", "2", "--max-length", "32"]
        let pre = try PretrainCommand.parse(["--tokenizer", tok.path, "--data", dir.appendingPathComponent("text.jsonl").path,
                                             "--run-name", "pre"] + common).train()
        let base = try #require(pre.checkpoint)
        #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("tokenizer.json").path))
        let sftData = ["--model", base.path, "--data", dir.appendingPathComponent("pc.jsonl").path]
        let sft = try SFTCommand.parse(sftData + ["--run-name", "sft", "--save-steps", "1"] + common).train()
        let straight = try Self.untimed(sft.run.appendingPathComponent("metrics.jsonl"))
        try FileManager.default.removeItem(at: sft.run.appendingPathComponent("checkpoint-2"))
        _ = try SFTCommand.parse(sftData + ["--resume", sft.run.path]).train()
        #expect(try Self.untimed(sft.run.appendingPathComponent("metrics.jsonl")) == straight)
        for run in [pre.run, sft.run] {
            let metrics = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            #expect(metrics.split(separator: "\n").count == 2)
            #expect(metrics.contains("\"loss\""))
        }
        #expect(try savedConfig(pre.run)["learning_rate"] as? Double == 1e-3)  // pretraining's default
        let sftSaved = try savedConfig(sft.run)
        #expect(sftSaved["completion_only_loss"] as? Bool == true)
        #expect(sftSaved["max_steps"] as? Int == 2)
        // A second run of the same name is refused rather than overwriting it.
        #expect(throws: (any Error).self) {
            try SFTCommand.parse(["--model", base.path, "--data", dir.appendingPathComponent("pc.jsonl").path,
                                  "--run-name", "sft"] + common).train()
        }
    }

    @Test func qwen2PreTokenizerSpellsNumbersDigitByDigit() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var numbers = ""
        for i in 0..<200 { numbers += "{\"text\": \"\(1000 + i * 7) and \(1000 + i * 7)\"}\n" }
        try numbers.write(to: dir.appendingPathComponent("numbers.jsonl"), atomically: true, encoding: .utf8)
        func encode(_ pre: String) throws -> [Int32] {
            let out = dir.appendingPathComponent("tok-\(pre)")
            let url = try TokenizerCommand.TrainCommand.parse([
                "--files", dir.appendingPathComponent("numbers.jsonl").path, "--vocab-size", "400", "--min-frequency", "1",
                "--pre-tokenizer", pre, "--out", out.path]).train()
            return try Tokenizer(tokenizerJSON: url).encode("1357")
        }
        #expect(try encode("qwen2").count == 4)   // one token per digit
        #expect(try encode("gpt2").count < 4)     // frequent digit runs merge
    }

    @Test func skipBadRecordsCountsInsteadOfStopping() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try trainTokenizer(dir)
        let bad = dir.appendingPathComponent("bad.jsonl")
        var lines = try String(contentsOf: dir.appendingPathComponent("pc.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] = "{\"prompt\": \"What is 3 + 3?\"}"                       // no completion
        lines[7] = "{\"prompt\": \"What is 7 + 3?\", \"completion\": 10}"   // mistyped completion
        try (lines.joined(separator: "\n") + "\n").write(to: bad, atomically: true, encoding: .utf8)
        let tokenizer = SFTCommand.exampleTokenizer(try Tokenizer(tokenizerJSON: tok.appendingPathComponent("tokenizer.json")),
                                                    config: SFTConfig())
        // Without the flag, the first bad record stops the run, naming the file, line and field.
        let error = try #require(throws: DatasetError.self) { try SFTCommand.tokenized(bad.path, tokenizer) }
        #expect(error.description.contains("bad.jsonl") && error.description.contains(":4") && error.description.contains("completion"))
        // With it, the ten good records are kept and the two bad ones counted.
        let command = try SFTCommand.parse(["--model", tok.path, "--data", bad.path, "--skip-bad-records"])
        #expect(try SFTCommand.tokenized(bad.path, tokenizer, command.training.loadOptions).count == 10)
        let report = try DatasetLoader.load(bad, options: command.training.loadOptions).report
        #expect(report.skipped == 2 && report.loaded == 10)
    }

    @Test func yamlConfigWithFlagOverride() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = dir.appendingPathComponent("sft.yaml")
        try "learning_rate: 0.005\nmax_steps: 7\nwarmup_steps: 3\ncompletion_only_loss: false\n"
            .write(to: yaml, atomically: true, encoding: .utf8)
        let config = try SFTCommand.parse(["--config", yaml.path, "--model", "m", "--data", "d",
                                           "--max-steps", "4"]).effectiveConfig()
        #expect(config.training.maxSteps == 4)            // the flag wins
        #expect(config.training.learningRate == 0.005)    // the file where no flag is given
        #expect(config.training.warmupSteps == 3)
        #expect(config.completionOnlyLoss == false)
        #expect(config.assistantOnlyLoss == true)         // the command's default where the file is silent

        // The effective config is what the run folder keeps.
        let tok = try trainTokenizer(dir)
        try "learning_rate: 0.005\nmax_steps: 7\nper_device_train_batch_size: 2\nmax_length: 32\n"
            .write(to: yaml, atomically: true, encoding: .utf8)
        let pre = try PretrainCommand.parse(["--config", yaml.path, "--tokenizer", tok.path,
                                             "--data", dir.appendingPathComponent("text.jsonl").path,
                                             "--output-dir", dir.appendingPathComponent("runs").path, "--max-steps", "1"]).train()
        let saved = try savedConfig(pre.run)
        #expect(saved["max_steps"] as? Int == 1)
        #expect(abs((saved["learning_rate"] as? Double ?? 0) - 0.005) < 1e-6)
    }

    @Test func yamlErrorsNameFileLineAndField() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = dir.appendingPathComponent("bad.yaml")
        try "learning_rate: 0.001\nmax_steps: lots\n".write(to: yaml, atomically: true, encoding: .utf8)
        do {
            _ = try SFTCommand.parse(["--config", yaml.path, "--model", "m", "--data", "d"]).effectiveConfig()
            Issue.record("a wrong-typed field was accepted")
        } catch let error as ConfigFileError {
            #expect(error.field == "max_steps")
            #expect(error.line == 2)
            #expect("\(error)".contains(yaml.path) && "\(error)".contains("max_steps"))
        }
        // A value of the right type that cannot work names its field too.
        try "per_device_train_batch_size: 0\n".write(to: yaml, atomically: true, encoding: .utf8)
        #expect { try PretrainCommand.parse(["--config", yaml.path, "--data", "d"]).effectiveConfig() } throws: { error in
            (error as? ConfigFileError)?.field == "per_device_train_batch_size"
        }
        // A misspelt key is not silently ignored.
        try "learning_rate: 0.001\nlearning_rat: 0.1\n".write(to: yaml, atomically: true, encoding: .utf8)
        #expect { try SFTCommand.parse(["--config", yaml.path, "--model", "m", "--data", "d"]).effectiveConfig() } throws: { error in
            guard let e = error as? ConfigFileError else { return false }
            return e.field == "learning_rat" && e.line == 2
        }
        // Broken YAML names the file and line.
        try "learning_rate: [0.1\nmax_steps: 2\n".write(to: yaml, atomically: true, encoding: .utf8)
        #expect { try PretrainCommand.parse(["--config", yaml.path, "--data", "d"]).effectiveConfig() } throws: { error in
            guard let e = error as? ConfigFileError else { return false }
            return e.file == yaml.path && e.line != nil
        }
    }

    @Test func dataInspectMarksCompletionTokens() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try trainTokenizer(dir)
        let data = dir.appendingPathComponent("pc.jsonl").path
        let lines = try DataCommand.InspectCommand.parse([data, "--tokenizer", tok.path, "--n", "2"]).outputLines()
        #expect(lines.count == 5)
        #expect(lines[1] == "What is 0 + 3?[[ 3<|endoftext|>]]")
        #expect(lines[3] == "What is 1 + 3?[[ 4<|endoftext|>]]")
        #expect(lines[4].hasPrefix("12 examples:"))
        // With loss on every token nothing is masked and the whole text is marked.
        let all = try DataCommand.InspectCommand.parse([data, "--tokenizer", tok.path, "--n", "1",
                                                        "--completion-only-loss", "false"]).outputLines()
        #expect(all[1] == "[[What is 0 + 3? 3<|endoftext|>]]")
        #expect(all.last?.hasSuffix(" 0 masked tokens") == true)
    }

    @Test func dataInspectMarksAssistantTurns() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let chat = dir.appendingPathComponent("chat.jsonl")
        try "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n"
            .write(to: chat, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("tok")
        _ = try TokenizerCommand.TrainCommand.parse(["--files", chat.path, "--vocab-size", "270", "--min-frequency", "1",
                                                     "--special-tokens", "<|endoftext|>", "<|im_start|>", "<|im_end|>",
                                                     "--out", out.path]).train()
        let lines = try DataCommand.InspectCommand.parse([chat.path, "--tokenizer", out.path]).outputLines()
        #expect(lines[1] == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n[[hello<|im_end|>]]\n")
        // Without the chat tokens the template cannot render: the error names the file and record.
        let plainTok = dir.appendingPathComponent("plain")
        _ = try TokenizerCommand.TrainCommand.parse(["--files", chat.path, "--vocab-size", "270", "--min-frequency", "1",
                                                     "--out", plainTok.path]).train()
        #expect { try DataCommand.InspectCommand.parse([chat.path, "--tokenizer", plainTok.path]).outputLines() } throws: { error in
            "\(error)".hasPrefix("\(chat.path): item 0")
        }
    }

    @Test func pretrainResumeEqualsStraightRun() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try trainTokenizer(dir)
        let args = ["--tokenizer", tok.path, "--data", dir.appendingPathComponent("text.jsonl").path]
        let run = try PretrainCommand.parse(args + ["--output-dir", dir.appendingPathComponent("runs").path, "--max-steps", "2",
                                                    "--save-steps", "1", "--per-device-train-batch-size", "2",
                                                    "--max-length", "32"]).train().run
        let metrics = run.appendingPathComponent("metrics.jsonl")
        let straight = try Self.untimed(metrics)
        try FileManager.default.removeItem(at: run.appendingPathComponent("checkpoint-2"))
        // Training flags with --resume would be ignored: refused instead.
        #expect(throws: (any Error).self) { try PretrainCommand.parse(args + ["--resume", run.path, "--max-steps", "5"]).train() }
        _ = try PretrainCommand.parse(args + ["--resume", run.path]).train()
        let resumed = try Self.untimed(metrics)
        #expect(resumed.count == 2 && resumed == straight)
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint-2/tokenizer.json").path))
    }

    /// A metrics file's lines without the wall-clock fields, which differ from run to run.
    static func untimed(_ url: URL) throws -> [[String: Double]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            var r = try JSONDecoder().decode([String: Double].self, from: Data(line.utf8))
            r["elapsed_seconds"] = nil
            r["tokens_per_second"] = nil
            return r
        }
    }
}
