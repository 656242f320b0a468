import ArgumentParser
import Foundation
import TetherAlign

/// `tether data ...`: make synthetic data sets.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Make data sets in TRL's formats and inspect what the loss sees.",
        subcommands: [MakeCommand.self, InspectCommand.self])

    /// `tether data make arithmetic`: held-out arithmetic question answering.
    struct MakeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make",
            abstract: "Make a synthetic task's train.jsonl and test.jsonl (test problems never appear in training).")

        @Argument(help: "The task: arithmetic.")
        var task: String

        @Option(help: "Folder to write train.jsonl and test.jsonl into (existing files are never overwritten).")
        var out = "data/arithmetic"

        @Option(help: "Comma-separated sub-tasks, OP_AxB with OP add, sub or mul and digit counts (e.g. add_3x3,mul_2x1).")
        var tasks = "add_3x3,mul_2x1"

        @Option(help: "Training problems per sub-task.")
        var train = 5000

        @Option(help: "Test problems per sub-task.")
        var test = 200

        @Option(help: "Random seed: the same seed writes byte-identical files.")
        var seed: UInt64 = 0

        @Option(help: "Training file format: prompt_completion, prompt_only, text (prompt and answer) or statement (the fact in words, for pretraining).")
        var format: ArithmeticData.Format = .promptCompletion

        func run() throws {
            guard task == "arithmetic" else { throw ValidationError("unknown task '\(task)' (known: arithmetic)") }
            let specs = try tasks.split(separator: ",").enumerated().map { i, name in
                try TaskSpec(name: String(name), trainCount: train, testCount: test, seed: seed &+ UInt64(i))
            }
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let urls = try ArithmeticData.make(specs: specs, into: folder, seed: seed, trainFormat: format,
                                               completionPrefix: " ")
            for url in urls { print(url.path) }
        }
    }
}

extension ArithmeticData.Format: ExpressibleByArgument {}
