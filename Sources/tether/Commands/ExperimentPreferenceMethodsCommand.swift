import ArgumentParser
import Foundation
import TetherAlign

/// `tether experiment preference-methods`: DPO, IPO, KTO, ORPO and SimPO from one tiny SFT policy, judged by gold.
struct ExperimentPreferenceMethodsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preference-methods",
        abstract: "Train a tiny SFT policy on the gold world, then DPO, IPO, KTO, ORPO and SimPO from it; print gold's table against the SFT policy.")

    @Option(help: "Folder for everything the experiment writes; it must not exist (default: runs/preference-methods).")
    var out = "runs/preference-methods"

    @Option(help: "Seed of the world, tokenizer, initialisation, data order and sampling (default: 0).")
    var seed: UInt64 = 0

    @Option(help: "Methods to train, comma-separated, from dpo, ipo, kto, kto_pairs, orpo, simpo (default: \(PreferenceMethodsConfig().methods.map(\.method.rawValue).joined(separator: ","))).")
    var methods: String?

    @Option(help: "Measure on this many training prompts held out from every training set instead of the test prompts: the split to tune on (default: off).")
    var validationPrompts: Int?

    @Option(help: "Steps of every method (default: each method's own, \(PreferenceMethodsConfig().methods[0].steps)).")
    var steps: Int?

    @Option(parsing: .singleValue, help: "A method's learning rate, METHOD=VALUE (repeatable), e.g. --lr dpo=1e-4.")
    var lr: [String] = []

    @Option(parsing: .singleValue, help: "A method's beta (ORPO: lambda), METHOD=VALUE (repeatable), e.g. --beta ipo=0.5.")
    var beta: [String] = []

    @Option(help: "Pretraining steps (default: \(PreferenceMethodsConfig().pretrain.maxSteps!)).")
    var pretrainSteps: Int?

    @Option(help: "SFT steps (default: \(PreferenceMethodsConfig().sft.maxSteps!)).")
    var sftSteps: Int?

    @Option(help: "Responses sampled per evaluation prompt (default: \(PreferenceMethodsConfig().samplesPerPrompt)).")
    var samplesPerPrompt: Int?

    @Option(help: "The rater's score from which a kto.jsonl completion gets a thumbs-up (gold: 1 for a right, concise answer, at least 0.5 for a right one with chatter) (default: \(PreferenceMethodsConfig().ktoDesirableThreshold)).")
    var ktoDesirableThreshold: Double?

    /// The config the flags describe.
    func makeConfig() throws -> PreferenceMethodsConfig {
        var config = PreferenceMethodsConfig()
        config.seed = seed
        config.validationPrompts = validationPrompts
        if let methods {
            let names = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            config.methods = try names.map { name in
                guard let m = PreferenceMethod(rawValue: name) else {
                    throw ValidationError("--methods: expected names from dpo, ipo, kto, kto_pairs, orpo, simpo, got \(name)")
                }
                return config.methods.first { $0.method == m } ?? PreferenceMethodsConfig.settings(m)
            }
        }
        if let steps { for i in config.methods.indices { config.methods[i].steps = steps } }
        for (flag, values, path) in [("--lr", lr, \PreferenceMethodSettings.learningRate), ("--beta", beta, \.beta)] {
            for v in values {
                let parts = v.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let method = PreferenceMethod(rawValue: parts[0]), let x = Float(parts[1]), x > 0 else {
                    throw ValidationError("\(flag): expected METHOD=POSITIVE_NUMBER with METHOD one of dpo, ipo, kto, kto_pairs, orpo, simpo, got \(v)")
                }
                for i in config.methods.indices where config.methods[i].method == method { config.methods[i][keyPath: path] = x }
            }
        }
        if let pretrainSteps { config.pretrain.maxSteps = pretrainSteps; config.pretrain.warmupSteps = max(1, pretrainSteps / 20) }
        if let sftSteps { config.sft.maxSteps = sftSteps; config.sft.warmupSteps = max(1, sftSteps / 20) }
        if let samplesPerPrompt { config.samplesPerPrompt = samplesPerPrompt }
        if let ktoDesirableThreshold { config.ktoDesirableThreshold = ktoDesirableThreshold }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        return config
    }

    func run() throws {
        let config = try makeConfig()
        let folder = URL(fileURLWithPath: out)
        let clock = Date()
        let table = try PreferenceMethods(config: config, folder: folder).run()
        print("\n" + table.markdown)
        print("\n\(table.prompts) \(table.split) prompts x \(table.samplesPerPrompt) samples at temperature 1, seed \(table.seed); "
              + String(format: "wall time %.0f s", Date().timeIntervalSince(clock)))
        print("table: \(folder.appendingPathComponent("preference_methods.json").path)")
    }
}
