import ArgumentParser
import Foundation
import TetherAlign
import TetherLM

/// `tether orpo`: odds-ratio preference optimisation (SFT and preference in one loss, no reference model).
struct ORPOCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "orpo",
        abstract: "Train a policy on preference pairs with ORPO (NLL + λ·odds-ratio term, no reference model); writes runs/NAME.")

    @OptionGroup var training: TrainingOptions
    @OptionGroup var preference: PreferenceOptions

    /// The effective config: the file, ORPO's learning rate where the file is silent, then the flags (--beta is λ).
    func effectiveConfig() throws -> ORPOConfig {
        var c = try ConfigFile.load(ORPOConfig.self, from: training.config, empty: ORPOConfig()) { c, keys in
            if !keys.contains("learning_rate") { c.training.learningRate = 1e-6 }  // TRL's ORPOConfig default
        }
        training.apply(to: &c.training)
        preference.apply(to: &c.preference)
        if let b = preference.beta { c.beta = b }
        try c.validate()
        return c
    }

    /// Trains; returns the run folder and its last checkpoint.
    @discardableResult
    func train() throws -> (run: URL, checkpoint: URL?) {
        try preference.refuseWithResume(training)
        let config = try preference.config(ORPOConfig.self, effective: effectiveConfig)
        let tok = try PreferenceFiles.tokenizers(model: preference.model)
        let trainSet = try PreferenceFiles.pairs(preference.data, tok.examples, settings: config.preference).map(\.tokens)
        let evalSet = try preference.evalData.map { try PreferenceFiles.pairs($0, tok.examples, settings: config.preference).map(\.tokens) }
        let lm = try CausalLM(contentsOf: URL(fileURLWithPath: preference.model))
        let (trainer, run) = try preference.start(config, training: config.training,
            new: { try ORPOTrainer(config: config, model: lm, train: trainSet, eval: evalSet, padId: tok.pad) },
            resuming: { try ORPOTrainer(resuming: $0, config: config, model: lm, train: trainSet, eval: evalSet, padId: tok.pad) })
        try trainer.train()
        try RunFiles.copyTokenizer(tok.url, into: run)
        return (run, trainer.loop.lastCheckpoint)
    }
}
