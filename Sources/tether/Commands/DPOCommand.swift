import ArgumentParser
import Foundation
import TetherAlign
import TetherLM

/// `tether dpo`: direct preference optimisation (and IPO, hinge, robust, SimPO) on prompt/chosen/rejected data.
struct DPOCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Train a policy on preference pairs with DPO or a relative (ipo, hinge, robust, simpo); writes runs/NAME.")

    @OptionGroup var training: TrainingOptions
    @OptionGroup var preference: PreferenceOptions

    @Option(help: "Loss variant: sigmoid (DPO), ipo, hinge, robust or simpo (loss_type; default: sigmoid).")
    var lossType: DPOLossType?

    @Option(help: "ε, the assumed rate of flipped labels, for sigmoid, robust and simpo (label_smoothing; default: 0).")
    var labelSmoothing: Float?

    @Option(help: "γ, SimPO's target reward margin (simpo_gamma; default: 0.5).")
    var simpoGamma: Float?

    @OptionGroup var reference: ReferenceOptions

    /// The effective config: the file, DPO's learning rate where the file is silent, then the flags.
    func effectiveConfig() throws -> DPOConfig {
        var c = try ConfigFile.load(DPOConfig.self, from: training.config, empty: DPOConfig()) { c, keys in
            if !keys.contains("learning_rate") { c.training.learningRate = 1e-6 }  // TRL's DPOConfig default
        }
        training.apply(to: &c.training)
        preference.apply(to: &c.preference)
        if let b = preference.beta { c.beta = b }
        if let lossType { c.lossType = lossType }
        if let labelSmoothing { c.labelSmoothing = labelSmoothing }
        if let simpoGamma { c.simpoGamma = simpoGamma }
        reference.apply(reference: &c.reference, precompute: &c.precomputeRefLogProbs)
        try c.validate()
        return c
    }

    /// Trains; returns the run folder and its last checkpoint.
    @discardableResult
    func train() throws -> (run: URL, checkpoint: URL?) {
        let extra = [("--loss-type", lossType != nil), ("--label-smoothing", labelSmoothing != nil),
                     ("--simpo-gamma", simpoGamma != nil)].filter(\.1).map(\.0)
        try preference.refuseWithResume(training, extra: extra + reference.given)
        let config = try preference.config(DPOConfig.self, effective: effectiveConfig)
        let tok = try PreferenceFiles.tokenizers(model: preference.model)
        let trainSet = try PreferenceFiles.pairs(preference.data, tok.examples, settings: config.preference).map(\.tokens)
        let evalSet = try preference.evalData.map { try PreferenceFiles.pairs($0, tok.examples, settings: config.preference).map(\.tokens) }
        let lm = try CausalLM(contentsOf: URL(fileURLWithPath: preference.model))
        let (trainer, run) = try preference.start(config, training: config.training,
            new: { try DPOTrainer(config: config, model: lm, train: trainSet, eval: evalSet, padId: tok.pad) },
            resuming: { try DPOTrainer(resuming: $0, config: config, model: lm, train: trainSet, eval: evalSet, padId: tok.pad) })
        try trainer.train()
        try RunFiles.copyTokenizer(tok.url, into: run)
        print("peak RSS: \(String(format: "%.1f", PreferenceFiles.peakRSSMiB())) MiB (reference: \(config.lossType.needsReference ? config.reference.rawValue : "none"))")
        return (run, trainer.loop.lastCheckpoint)
    }
}
