import ArgumentParser
import Foundation
import TetherAlign

/// `tether experiment ...`: end-to-end experiments that train what they need and report a table.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run an end-to-end experiment (data, training, evaluation) and report its table.",
        subcommands: [PRMvsORMCommand.self, ExperimentPreferenceMethodsCommand.self])

    /// `tether experiment prm-vs-orm`.
    struct PRMvsORMCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prm-vs-orm",
            abstract: "Best-of-N on multi-step arithmetic: pick one of N sampled solutions by an outcome reward model, a process reward model, majority vote or at random; final-answer accuracy per N.",
            discussion: """
                Trains a tiny policy on worked solutions (some with a wrong step), a PRM (every step's label) and an \
                ORM (the final answer's label only) from it, samples solutions to held-out problems and writes \
                OUT/summary.json, OUT/report.md and OUT/samples.jsonl.
                """)

        @Option(help: "Folder for everything the experiment writes; it must not exist (default: runs/prm-vs-orm).")
        var out = "runs/prm-vs-orm"

        @Option(help: "Seed of the data, the tokenizer, initialisation, data order and sampling (default: 0).")
        var seed: UInt64 = 0

        @Option(help: "Reuse a trained policy: a checkpoint folder with tokenizer.json, e.g. OUT/policy/checkpoint-N of an earlier run with the same seed (default: train one).")
        var policy: String?

        @Option(help: "Held-out problems (default: \(PRMvsORMConfig().problems)).")
        var problems: Int?

        @Option(help: "Solutions sampled per problem, the largest N (default: \(PRMvsORMConfig().samples)).")
        var samples: Int?

        @Option(help: "Comma-separated N values, each dividing --samples (default: \(PRMvsORMConfig().budgets.map(String.init).joined(separator: ","))).")
        var budgets: String?

        @Option(help: "Policy SFT steps (default: \(PRMvsORMConfig().policy.maxSteps!)).")
        var policySteps: Int?

        @Option(help: "Training steps of each reward model (default: \(PRMvsORMConfig().rewardModel.maxSteps!)).")
        var rewardSteps: Int?

        @Option(help: "Sampling temperature (default: \(PRMvsORMConfig().temperature)).")
        var temperature: Float?

        @Flag(help: "Print the result as JSON (summary.json's contents) instead of the table.")
        var json = false

        /// The effective config: the defaults, then the flags.
        func effectiveConfig() throws -> PRMvsORMConfig {
            var c = PRMvsORMConfig()
            c.seed = seed
            if let problems { c.problems = problems }
            if let samples { c.samples = samples }
            if let budgets {
                c.budgets = try budgets.split(separator: ",").map { part in
                    guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else {
                        throw ValidationError("--budgets: expected comma-separated integers, got '\(part)'")
                    }
                    return n
                }
            }
            if let policySteps { c.policy.maxSteps = policySteps; c.policy.warmupSteps = policySteps / 20 }
            if let rewardSteps { c.rewardModel.maxSteps = rewardSteps; c.rewardModel.warmupSteps = rewardSteps / 20 }
            if let temperature { c.temperature = temperature }
            try c.validate()
            return c
        }

        /// Runs the experiment; returns its result.
        @discardableResult
        func experiment(progress: ProgressReporter = ProgressReporter()) throws -> PRMvsORMResult {
            let e = PRMvsORMExperiment(config: try effectiveConfig(), folder: URL(fileURLWithPath: out),
                                       policy: policy.map { URL(fileURLWithPath: $0) })
            e.progress = progress
            return try e.run()
        }

        func run() throws {
            let result = try experiment()
            if json {
                print(String(decoding: try result.json(), as: UTF8.self))
            } else {
                print("\n" + result.report)
                print("summary: \(URL(fileURLWithPath: out).appendingPathComponent("summary.json").path)")
            }
        }
    }
}
