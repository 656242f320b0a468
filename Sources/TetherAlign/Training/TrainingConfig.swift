import Foundation
import TetherNN

/// Everything that shapes a training run; saved in the run folder. Keys are TRL/`TrainingArguments` names, and a
/// config file may leave any key out to take its default.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// How the learning rate decays after warm-up.
    public enum Schedule: String, Codable, Sendable, CaseIterable {
        /// Constant after warm-up.
        case constant
        /// Linear decay to `minLRRatio · learningRate` (HF's default).
        case linear
        /// Half a cosine down to `minLRRatio · learningRate`.
        case cosine
    }

    /// Name of the run: its folder is `outputDir/runName`.
    public var runName = "run"
    /// Folder holding runs.
    public var outputDir = "runs"
    /// Optimizer steps to take (nil: as many as `epochs` of the training data need).
    public var maxSteps: Int? = nil
    /// Passes over the training data when `maxSteps` is nil.
    public var epochs: Double = 1
    /// Rows per forward/backward pass (bounded by memory).
    public var microBatchSize = 8
    /// Micro-batches per optimizer step; the effective batch is `microBatchSize × gradientAccumulationSteps` rows.
    public var gradientAccumulationSteps = 1
    /// Peak learning rate (TRL's SFT default, suited to fine-tuning; pretraining from scratch wants ~1e-3).
    public var learningRate: Float = 2e-5
    /// Decay shape after warm-up.
    public var schedule: Schedule = .linear
    /// Steps of linear warm-up from 0.
    public var warmupSteps = 0
    /// Floor of the decay as a fraction of the peak.
    public var minLRRatio: Float = 0
    /// Decoupled weight decay on matrices (biases and norm gains get none); HF's default is 0.
    public var weightDecay: Float = 0
    /// AdamW β₁.
    public var adamBeta1: Float = 0.9
    /// AdamW β₂ (0.999 as PyTorch; 0.95 is common when pretraining).
    public var adamBeta2: Float = 0.999
    /// AdamW ε.
    public var adamEpsilon: Float = 1e-8
    /// Clip the global gradient norm to this (nil: no clipping).
    public var maxGradNorm: Float? = 1
    /// Evaluate every N steps and at the end (nil: only at the end, when there is eval data).
    public var evalSteps: Int? = nil
    /// Save a checkpoint every N steps (nil: only at the end).
    public var saveSteps: Int? = 500
    /// Keep at most this many checkpoints, deleting the oldest (nil: keep all).
    public var saveTotalLimit: Int? = nil
    /// Write a metrics line every N steps.
    public var loggingSteps = 1
    /// Seed of the data order (shuffling per epoch); separate so the data order can vary with the model fixed.
    public var dataSeed: UInt64 = 42
    /// Seed of initialisation, dropout and sampling (TRL's `seed`).
    public var seed: UInt64 = 42
    /// Longest sequence (tokens) fed to the model; longer ones are truncated.
    public var maxLength = 1024
    /// Pack several sequences per row (best-fit decreasing; they cannot attend to each other).
    public var packing = false
    /// Run the `gradient_accumulation_steps` micro-batches of a step at the same time, one per thread, each op of a
    /// micro-batch on its thread, instead of one after another with every op split across the threads; gradients
    /// are added in micro-batch order, so runs stay deterministic. For small models, whose ops are too small to split
    /// well; objectives that allow it (language modelling, reward models, DPO) and models without dropout.
    public var concurrentMicroBatches = false

    /// A configuration with the defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case runName = "run_name", outputDir = "output_dir", maxSteps = "max_steps", epochs = "num_train_epochs"
        case microBatchSize = "per_device_train_batch_size", gradientAccumulationSteps = "gradient_accumulation_steps"
        case learningRate = "learning_rate", schedule = "lr_scheduler_type", warmupSteps = "warmup_steps"
        case minLRRatio = "min_lr_rate", weightDecay = "weight_decay", adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2"
        case adamEpsilon = "adam_epsilon", maxGradNorm = "max_grad_norm", evalSteps = "eval_steps", saveSteps = "save_steps", saveTotalLimit = "save_total_limit"
        case loggingSteps = "logging_steps", dataSeed = "data_seed", seed, maxLength = "max_length", packing
        case concurrentMicroBatches = "concurrent_micro_batches"
    }

    /// Decodes a config; a missing key takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = TrainingConfig()
        func get<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try get(.runName, &d.runName); try get(.outputDir, &d.outputDir)
        d.maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps)
        try get(.epochs, &d.epochs); try get(.microBatchSize, &d.microBatchSize)
        try get(.gradientAccumulationSteps, &d.gradientAccumulationSteps); try get(.learningRate, &d.learningRate)
        try get(.schedule, &d.schedule); try get(.warmupSteps, &d.warmupSteps); try get(.minLRRatio, &d.minLRRatio)
        try get(.weightDecay, &d.weightDecay); try get(.adamBeta1, &d.adamBeta1); try get(.adamBeta2, &d.adamBeta2)
        try get(.adamEpsilon, &d.adamEpsilon)
        if c.contains(.maxGradNorm) { d.maxGradNorm = try c.decodeIfPresent(Float.self, forKey: .maxGradNorm) }
        if c.contains(.evalSteps) { d.evalSteps = try c.decodeIfPresent(Int.self, forKey: .evalSteps) }
        if c.contains(.saveSteps) { d.saveSteps = try c.decodeIfPresent(Int.self, forKey: .saveSteps) }
        if c.contains(.saveTotalLimit) { d.saveTotalLimit = try c.decodeIfPresent(Int.self, forKey: .saveTotalLimit) }
        try get(.loggingSteps, &d.loggingSteps); try get(.dataSeed, &d.dataSeed); try get(.seed, &d.seed)
        try get(.maxLength, &d.maxLength); try get(.packing, &d.packing)
        try get(.concurrentMicroBatches, &d.concurrentMicroBatches)
        self = d
        try validate()
    }

    /// Encodes every key; an unset optional is written as null, so it reads back as unset rather than as the default.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runName, forKey: .runName); try c.encode(outputDir, forKey: .outputDir)
        try c.encode(maxSteps as Int?, forKey: .maxSteps); try c.encode(epochs, forKey: .epochs)
        try c.encode(microBatchSize, forKey: .microBatchSize)
        try c.encode(gradientAccumulationSteps, forKey: .gradientAccumulationSteps)
        try c.encode(learningRate, forKey: .learningRate); try c.encode(schedule, forKey: .schedule)
        try c.encode(warmupSteps, forKey: .warmupSteps); try c.encode(minLRRatio, forKey: .minLRRatio)
        try c.encode(weightDecay, forKey: .weightDecay); try c.encode(adamBeta1, forKey: .adamBeta1)
        try c.encode(adamBeta2, forKey: .adamBeta2); try c.encode(adamEpsilon, forKey: .adamEpsilon)
        try c.encode(maxGradNorm as Float?, forKey: .maxGradNorm); try c.encode(evalSteps as Int?, forKey: .evalSteps)
        try c.encode(saveTotalLimit as Int?, forKey: .saveTotalLimit)
        try c.encode(saveSteps as Int?, forKey: .saveSteps); try c.encode(loggingSteps, forKey: .loggingSteps)
        try c.encode(dataSeed, forKey: .dataSeed); try c.encode(seed, forKey: .seed)
        try c.encode(maxLength, forKey: .maxLength); try c.encode(packing, forKey: .packing)
        try c.encode(concurrentMicroBatches, forKey: .concurrentMicroBatches)
    }

    /// Throws naming the first field whose value cannot work.
    public func validate() throws(TrainingError) {
        func bad(_ field: String, _ why: String) -> TrainingError { .badConfig(field: field, why) }
        if runName.isEmpty || runName.contains("/") { throw bad("run_name", "expected a non-empty name without '/', got \"\(runName)\"") }
        if let s = maxSteps, s < 1 { throw bad("max_steps", "expected at least 1, got \(s)") }
        if maxSteps == nil && !(epochs > 0) { throw bad("num_train_epochs", "expected a positive number, got \(epochs)") }
        if microBatchSize < 1 { throw bad("per_device_train_batch_size", "expected at least 1, got \(microBatchSize)") }
        if gradientAccumulationSteps < 1 { throw bad("gradient_accumulation_steps", "expected at least 1, got \(gradientAccumulationSteps)") }
        if !(learningRate >= 0) { throw bad("learning_rate", "expected >= 0, got \(learningRate)") }
        if warmupSteps < 0 { throw bad("warmup_steps", "expected >= 0, got \(warmupSteps)") }
        if let g = maxGradNorm, !(g > 0) { throw bad("max_grad_norm", "expected a positive number or null, got \(g)") }
        if let e = evalSteps, e < 1 { throw bad("eval_steps", "expected at least 1, got \(e)") }
        if let s = saveSteps, s < 1 { throw bad("save_steps", "expected at least 1, got \(s)") }
        if let l = saveTotalLimit, l < 1 { throw bad("save_total_limit", "expected at least 1 or null, got \(l)") }
        if loggingSteps < 1 { throw bad("logging_steps", "expected at least 1, got \(loggingSteps)") }
        if maxLength < 2 { throw bad("max_length", "expected at least 2, got \(maxLength)") }
    }

    /// Rows consumed by one optimizer step.
    public var rowsPerStep: Int { microBatchSize * gradientAccumulationSteps }

    /// The same rows per step as `parts` micro-batches scored at once (`concurrent_micro_batches`), one per thread.
    public func concurrent(parts: Int) -> TrainingConfig {
        precondition(parts > 0 && microBatchSize % parts == 0, "concurrent(parts:): \(microBatchSize) rows do not split into \(parts)")
        var c = self
        c.microBatchSize /= parts
        c.gradientAccumulationSteps *= parts
        c.concurrentMicroBatches = true
        return c
    }

    /// Optimizer steps for `rows` training rows: `maxSteps`, or enough for `epochs` passes (at least 1).
    public func totalSteps(rows: Int) -> Int {
        maxSteps ?? max(1, Int((epochs * Double(rows) / Double(rowsPerStep)).rounded(.up)))
    }

    /// The learning-rate schedule over `totalSteps` steps.
    public func lrSchedule(totalSteps: Int) -> LRSchedule {
        switch schedule {
        case .constant: return .constantWithWarmup(peak: learningRate, warmupSteps: warmupSteps)
        case .linear: return .linear(peak: learningRate, warmupSteps: warmupSteps, totalSteps: totalSteps, minRatio: minLRRatio)
        case .cosine: return .cosine(peak: learningRate, warmupSteps: warmupSteps, totalSteps: totalSteps, minRatio: minLRRatio)
        }
    }
}

