import ArgumentParser
import Foundation
import TetherAlign

/// `tether data ...`: make synthetic data sets.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Make data sets in TRL's formats and inspect what the loss sees.",
        subcommands: [MakeCommand.self, InspectCommand.self])

    /// The synthetic data sets `tether data make` knows.
    enum SyntheticTask: String, ExpressibleByArgument, CaseIterable {
        /// Held-out arithmetic question answering: train.jsonl and test.jsonl.
        case arithmetic
        /// The gold assistant world: SFT, preference, KTO and stepwise files and held-out eval prompts.
        case assistant
    }

    /// `tether data make arithmetic|assistant`: synthetic data sets with held-out test prompts.
    struct MakeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make",
            abstract: "Make a synthetic data set (test or eval prompts never appear in training).",
            discussion: """
                arithmetic: train.jsonl and test.jsonl.
                assistant: the gold world, sft.jsonl, preference.jsonl, kto.jsonl, stepwise.jsonl, \
                eval_prompts.jsonl and preference_eval.jsonl (pairs on the held-out prompts labeled by gold, noise 0 \
                and bias 0, for a reward model's held-out accuracy); gold scores any response (correctness, refusal \
                decision, length).
                """)

        @Argument(help: "The data set to make.")
        var task: SyntheticTask

        @Option(help: "Folder to write into (existing files are never overwritten). Default: data/TASK.")
        var out: String?

        @Option(help: "Comma-separated arithmetic sub-tasks, OP_AxB with OP add, sub or mul and digit counts. Default: add_3x3,mul_2x1 (arithmetic), add_2x2,mul_2x1 (assistant).")
        var tasks: String?

        @Option(help: "arithmetic: training problems per sub-task.")
        var train = 5000

        @Option(help: "Held-out arithmetic problems per sub-task. Default: 200 (arithmetic), 50 (assistant).")
        var test: Int?

        @Option(help: "Random seed: the same seed writes byte-identical files.")
        var seed: UInt64 = 0

        @Option(help: "arithmetic: training file format, prompt_completion, prompt_only, text (prompt and answer) or statement (the fact in words, for pretraining).")
        var format: ArithmeticData.Format = .promptCompletion

        @Option(help: "assistant: training prompts (half arithmetic, a quarter harmful, a quarter look-alike).")
        var prompts = 2000

        @Option(help: "assistant: probability that a preference or KTO label is flipped, or a stepwise error misplaced.")
        var noise = 0.0

        @Option(help: "assistant: how much the labelers favour long, flattering and formatted answers (0: as gold does).")
        var bias = 0.0

        @Flag(help: "assistant: write the labeler's score difference as each pair's margin.")
        var margin = false

        @Option(help: "assistant: preference pairs per training prompt in preference.jsonl, each from fresh candidates; the first pair of every prompt is the same whatever the count.")
        var pairsPerPrompt = 1

        @Option(help: "assistant: the rater's score from which a kto.jsonl completion gets a thumbs-up (gold: 1 for a right, concise answer, at least 0.5 for a right one with chatter).")
        var desirableThreshold = PreferenceLabeler.defaultDesirableThreshold

        @Option(help: "assistant: multi-step solutions in stepwise.jsonl. Default: a quarter of --prompts.")
        var stepwise: Int?

        func run() throws {
            let folder = URL(fileURLWithPath: out ?? "data/\(task.rawValue)")
            let urls: [URL]
            switch task {
            case .arithmetic:
                let specs = try (tasks ?? "add_3x3,mul_2x1").split(separator: ",").enumerated().map { i, name in
                    try TaskSpec(name: String(name), trainCount: train, testCount: test ?? 200, seed: seed &+ UInt64(i))
                }
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                urls = try ArithmeticData.make(specs: specs, into: folder, seed: seed, trainFormat: format,
                                               completionPrefix: " ")
            case .assistant:
                var config = AssistantWorldConfig()
                config.seed = seed
                config.prompts = prompts
                if let tasks { config.arithmeticTasks = tasks.split(separator: ",").map(String.init) }
                if let test { config.evalArithmeticPerTask = test }
                let data = try AssistantData(config: config, labeler: PreferenceLabeler(noise: noise, bias: bias, margin: margin,
                                                                                        desirableThreshold: desirableThreshold),
                                             pairsPerPrompt: pairsPerPrompt, stepwise: StepwiseLabeler(noise: noise), stepwiseCount: stepwise)
                urls = try data.write(into: folder)
            }
            for url in urls { print(url.path) }
        }
    }
}

extension ArithmeticData.Format: ExpressibleByArgument {}
