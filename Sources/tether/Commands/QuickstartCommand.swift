import ArgumentParser
import Foundation
import TetherAlign

/// `tether quickstart`: the whole pipeline on arithmetic in a few minutes, from an empty folder.
struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Make arithmetic data, train a tokenizer, pretrain a tiny model, fine-tune it, and compare base and SFT on held-out problems.")

    @Option(help: "Folder for everything the quickstart writes; it must not exist (default: runs/quickstart).")
    var out = "runs/quickstart"

    @Option(help: "Seed of the data, the tokenizer, initialisation and data order (default: 0).")
    var seed: UInt64 = 0

    @Option(help: "Pretraining steps (default: \(QuickstartConfig().pretrain.maxSteps!)).")
    var pretrainSteps: Int?

    @Option(help: "SFT steps (default: \(QuickstartConfig().sft.maxSteps!)).")
    var sftSteps: Int?

    func validate() throws {
        if let s = pretrainSteps, s < 1 { throw ValidationError("--pretrain-steps: expected at least 1, got \(s)") }
        if let s = sftSteps, s < 1 { throw ValidationError("--sft-steps: expected at least 1, got \(s)") }
    }

    func run() throws {
        var config = QuickstartConfig()
        config.seed = seed
        if let pretrainSteps { config.pretrain.maxSteps = pretrainSteps; config.pretrain.warmupSteps = pretrainSteps / 20 }
        if let sftSteps { config.sft.maxSteps = sftSteps; config.sft.warmupSteps = sftSteps / 20 }
        let folder = URL(fileURLWithPath: out)
        let summary = try Quickstart(config: config, folder: folder).run()
        print("\n" + summary.table)
        print("summary: \(folder.appendingPathComponent("summary.json").path)")
        print("report: \(folder.appendingPathComponent("report.md").path)")
    }
}
