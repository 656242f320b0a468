import ArgumentParser
import Foundation
import TetherAlign
import TetherLM

/// `tether kto`: Kahneman–Tversky optimisation on unpaired desirable/undesirable completions.
struct KTOCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "kto",
        abstract: "Train a policy with KTO on prompt+completion+label records (or pairs, split into a desirable and an undesirable example); writes runs/NAME.")

    @OptionGroup var training: TrainingOptions
    @OptionGroup var preference: PreferenceOptions

    @Option(help: "Weight of desirable examples' losses (desirable_weight; default: 1).")
    var desirableWeight: Float?

    @Option(help: "Weight of undesirable examples' losses (undesirable_weight; default: 1).")
    var undesirableWeight: Float?

    @OptionGroup var reference: ReferenceOptions

    /// The effective config: the file, KTO's learning rate where the file is silent, then the flags.
    func effectiveConfig() throws -> KTOConfig {
        var c = try ConfigFile.load(KTOConfig.self, from: training.config, empty: KTOConfig()) { c, keys in
            if !keys.contains("learning_rate") { c.training.learningRate = 1e-6 }  // TRL's KTOConfig default
        }
        training.apply(to: &c.training)
        preference.apply(to: &c.preference)
        if let b = preference.beta { c.beta = b }
        if let desirableWeight { c.desirableWeight = desirableWeight }
        if let undesirableWeight { c.undesirableWeight = undesirableWeight }
        reference.apply(reference: &c.reference, precompute: &c.precomputeRefLogProbs)
        try c.validate()
        return c
    }

    /// Trains; returns the run folder and its last checkpoint.
    @discardableResult
    func train() throws -> (run: URL, checkpoint: URL?) {
        let extra = [("--desirable-weight", desirableWeight != nil), ("--undesirable-weight", undesirableWeight != nil)].filter(\.1).map(\.0)
        try preference.refuseWithResume(training, extra: extra + reference.given)
        let config = try preference.config(KTOConfig.self, effective: effectiveConfig)
        let tok = try PreferenceFiles.tokenizers(model: preference.model)
        let trainSet = try PreferenceFiles.unpaired(preference.data, tok.examples, settings: config.preference)
        let evalSet = try preference.evalData.map { try PreferenceFiles.unpaired($0, tok.examples, settings: config.preference) }
        let lm = try CausalLM(contentsOf: URL(fileURLWithPath: preference.model))
        let (trainer, run) = try preference.start(config, training: config.training,
            new: { try KTOTrainer(config: config, model: lm, train: trainSet, eval: evalSet, padId: tok.pad) },
            resuming: { try KTOTrainer(resuming: $0, config: config, model: lm, train: trainSet, eval: evalSet, padId: tok.pad) })
        try trainer.train()
        try RunFiles.copyTokenizer(tok.url, into: run)
        print("peak RSS: \(String(format: "%.1f", PreferenceFiles.peakRSSMiB())) MiB (reference: \(config.reference.rawValue))")
        return (run, trainer.loop.lastCheckpoint)
    }
}
