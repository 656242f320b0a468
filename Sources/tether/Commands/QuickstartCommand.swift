import ArgumentParser
import Foundation
import TetherAlign

/// `tether quickstart`: the whole pipeline in a few minutes, from an empty folder: arithmetic, then the gold world.
struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Make arithmetic data, train a tokenizer, pretrain a tiny model, fine-tune it, and compare base and SFT on held-out problems; then chat SFT, a reward model and DPO on the gold world, judged by gold.")

    @Option(help: "Folder for everything the quickstart writes; it must not exist (default: runs/quickstart).")
    var out = "runs/quickstart"

    @Option(help: "YAML (or JSON) with the quickstart's config keys, as in OUT/config.json, which every run writes; a nested mapping changes only the keys it names (e.g. `sft: {weight_decay: 0.5}`), and the flags below override it (default: none, the built-in settings).")
    var config: String?

    @Option(help: "Seed of the data, the tokenizer, initialisation and data order (default: 0).")
    var seed: UInt64?

    @Option(help: "Pretraining steps (default: \(QuickstartConfig().pretrain.maxSteps!)).")
    var pretrainSteps: Int?

    @Option(help: "SFT steps (default: \(QuickstartConfig().sft.maxSteps!)).")
    var sftSteps: Int?

    @Option(help: "Hold out this many training problems per task and evaluate on them instead of the test problems, to choose settings without looking at the test set (default: off).")
    var validationProblems: Int?

    @Flag(help: "Stop after the arithmetic stages: no chat SFT, reward model or DPO on the gold world.")
    var arithmeticOnly = false

    func validate() throws {
        if let v = validationProblems, v < 1 { throw ValidationError("--validation-problems: expected at least 1, got \(v)") }
        if let s = pretrainSteps, s < 1 { throw ValidationError("--pretrain-steps: expected at least 1, got \(s)") }
        if let s = sftSteps, s < 1 { throw ValidationError("--sft-steps: expected at least 1, got \(s)") }
    }

    /// The effective config: the built-in settings, then the config file, then the flags.
    func effectiveConfig() throws -> QuickstartConfig {
        var config = try self.config.map { try ConfigFile.overlay(QuickstartConfig(), from: $0) } ?? QuickstartConfig()
        if let seed { config.seed = seed }
        if let pretrainSteps { config.pretrain.maxSteps = pretrainSteps; config.pretrain.warmupSteps = pretrainSteps / 20 }
        if let sftSteps { config.sft.maxSteps = sftSteps; config.sft.warmupSteps = sftSteps / 20 }
        if let validationProblems { config.validationProblems = validationProblems }
        if arithmeticOnly { config.preference = nil }
        return config
    }

    func run() throws {
        let config = try effectiveConfig()
        let folder = URL(fileURLWithPath: out)
        let summary = try Quickstart(config: config, folder: folder).run()
        print("\n" + summary.table)
        print("summary: \(folder.appendingPathComponent("summary.json").path)")
        print("report: \(folder.appendingPathComponent("report.md").path)")
    }
}
