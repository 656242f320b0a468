import Foundation
import Synchronization
import Tether
import TetherNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Set by SIGINT (Ctrl-C); the loop checks it between steps, saves a checkpoint and returns.
let stopRequested = Atomic<Bool>(false)

/// How a run ended.
public enum TrainingOutcome: Equatable {
    /// All steps done; the final checkpoint.
    case completed(checkpoint: URL)
    /// Stopped by Ctrl-C (or ``TrainingLoop/requestStop()``) after a checkpoint was saved.
    case interrupted(checkpoint: URL)
}

/// The one training loop every trainer reuses (nanoGPT style: one explicit loop you can read).
///
/// Per optimizer step: for each micro-batch, forward, loss = Σ(loss over units) / (units of the whole accumulated
/// batch), backward; then the gradient-reduce hook, clipping, the AdamW step and the schedule. Evaluation, metrics,
/// checkpoints and exact resume around it.
public final class TrainingLoop<Objective: TrainingObjective> {
    /// The run's configuration (saved in the run folder).
    public let config: TrainingConfig
    /// The trainer's loss and model.
    public let objective: Objective
    /// Training rows.
    public let trainData: TrainingData<Objective.Batch>
    /// Evaluation rows, if any.
    public let evalData: TrainingData<Objective.Batch>?
    /// `outputDir/runName`.
    public let runDirectory: URL
    /// AdamW over the trainable parameters.
    public let optimizer: AdamW
    /// Optimizer steps in the whole run.
    public let totalSteps: Int
    /// Learning rate per step.
    public let schedule: LRSchedule
    /// Step, data position, counters and metrics so far.
    public private(set) var state: TrainerState
    /// The one place gradients are combined across data-parallel workers (a no-op in one process).
    public var reduceGradients: ([Tensor]) -> Void = { _ in }
    /// Called after each step with the metrics line it wrote (empty when the step wrote none).
    public var afterStep: ((_ step: Int, _ metrics: MetricRecord) -> Void)?
    /// Extra evaluation run at each evaluation, in eval mode without gradients (e.g. exact-match accuracy of
    /// generated answers); its keys are logged with the `eval_` prefix. It must not draw from the run's generators.
    public var extraEvaluation: (() -> MetricRecord)?
    /// Adds metrics computed from the others to each metrics line before it is written (e.g. KTO's
    /// `rewards/chosen` = `rewards/chosen_sum` / `count/chosen`, for both the training and `eval_` keys).
    public var derivedMetrics: ((inout MetricRecord) -> Void)?
    /// Progress display.
    public var progress = ProgressReporter()
    /// The last checkpoint written or resumed from.
    public private(set) var lastCheckpoint: URL?

    private var order: (epoch: Int, rows: [Int])?
    private var trainable: [(String, Tensor)]

    /// A new run in a new folder `outputDir/runName`; throws if that folder exists or nothing is trainable.
    public convenience init(config: TrainingConfig, objective: Objective, train: TrainingData<Objective.Batch>,
                            eval: TrainingData<Objective.Batch>? = nil) throws {
        try config.validate()
        let run = URL(fileURLWithPath: config.outputDir).appendingPathComponent(config.runName)
        guard !FileManager.default.fileExists(atPath: run.path) else { throw TrainingError.runExists(path: run.path) }
        try self.init(config: config, objective: objective, train: train, eval: eval, run: run)
        state.dataSeed = config.dataSeed
        state.trainRows = train.count
        state.dropoutGenerators = dropoutGenerators()
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try Checkpoints.encoder().encode(config).write(to: run.appendingPathComponent(Checkpoints.configFile))
    }

    /// Continues the run in `run` from its newest checkpoint: weights, optimizer, generators, data position and
    /// metrics are restored so the rest of the run equals an uninterrupted one bit for bit.
    public static func resume(from run: URL, objective: Objective, train: TrainingData<Objective.Batch>,
                              eval: TrainingData<Objective.Batch>? = nil) throws -> TrainingLoop {
        let checkpoint = try Checkpoints.latest(in: run)
        let (state, config) = try Checkpoints.read(checkpoint)
        guard state.trainRows == train.count else {
            throw TrainingError.dataChanged(checkpoint: checkpoint.path, expectedRows: state.trainRows, rows: train.count)
        }
        try objective.loadModel(from: checkpoint)  // first: loading may replace parameter tensors (LoRA adapters)
        let loop = try TrainingLoop(config: config, objective: objective, train: train, eval: eval, run: run)
        try loop.optimizer.load(from: checkpoint.appendingPathComponent(Checkpoints.optimizerFile))
        for (path, module) in objective.module.namedModules() {
            if let d = module as? Dropout, let g = state.dropoutGenerators[path] { d.rng = g }
        }
        if !state.objectiveGenerators.isEmpty { objective.generators = state.objectiveGenerators }
        loop.state = state
        loop.lastCheckpoint = checkpoint
        // Lines written after the checkpoint (by a run that then crashed) are dropped: the resumed run rewrites them.
        try Metrics.write(state.logHistory, to: run.appendingPathComponent("metrics.jsonl"))
        return loop
    }

    private init(config: TrainingConfig, objective: Objective, train: TrainingData<Objective.Batch>,
                 eval: TrainingData<Objective.Batch>?, run: URL) throws {
        guard train.count > 0 else { throw TrainingError.noData("the training set has no rows") }
        trainable = objective.module.trainableNamedParameters
        guard !trainable.isEmpty else { throw TrainingError.nothingTrainable(total: objective.module.parameterCount) }
        if config.concurrentMicroBatches {
            let field = "concurrent_micro_batches"
            guard objective.allowsConcurrentMicroBatches else {
                throw TrainingError.badConfig(field: field, "\(type(of: objective)) cannot score micro-batches at once; set it to false")
            }
            if let (path, _) = objective.module.namedModules().first(where: { (($0.1 as? Dropout)?.p ?? 0) > 0 }) {
                throw TrainingError.badConfig(field: field, "dropout '\(path)' draws from one generator that micro-batches at once would share; set it to false or the dropout to 0")
            }
        }
        self.config = config
        self.objective = objective
        trainData = train
        evalData = eval
        runDirectory = run
        optimizer = AdamW(trainable, learningRate: config.learningRate, betas: (config.adamBeta1, config.adamBeta2),
                          eps: config.adamEpsilon, weightDecay: config.weightDecay)
        totalSteps = config.totalSteps(rows: train.count)
        schedule = config.lrSchedule(totalSteps: totalSteps)
        state = TrainerState()
    }

    /// Asks this loop to save a checkpoint and return after the current step (what Ctrl-C does to every loop).
    public func requestStop() { stopThis = true }
    private var stopThis = false

    /// Runs the remaining steps; returns when done or interrupted. Throws (keeping the last good checkpoint) on a
    /// NaN/infinite loss or gradient, a fully masked micro-batch, or a first step that changes nothing.
    public func run() throws -> TrainingOutcome {
        let model = objective.module
        let total = model.parameterCount, count = model.trainableParameterCount
        progress.message("trainable params: \(count) || all params: \(total) || trainable%: "
                         + String(format: "%.4f", 100 * Double(count) / Double(max(total, 1))))
        stopRequested.store(false, ordering: .relaxed)
        // First Ctrl-C: finish the step, checkpoint, return. A second one exits at once (a step that hangs).
        let previous = signal(SIGINT) { _ in if stopRequested.exchange(true, ordering: .relaxed) { _exit(130) } }
        defer { signal(SIGINT, previous) }

        let parameters = trainable.map(\.1)
        let sessionStart = Date()
        var before: [[Float]]? = state.step == 0 ? parameters.map { $0.scalars() } : nil
        model.train()
        while state.step < totalSteps {
            if stopThis || stopRequested.load(ordering: .relaxed) {
                stopThis = false
                let saved = try checkpoint(sessionStart)
                progress.message("interrupted: saved \(saved.path)")
                return .interrupted(checkpoint: saved)
            }
            let step = state.step + 1                     // 1-based, as logged
            let micro = (0..<config.gradientAccumulationSteps).map { _ in trainData.batch(nextRows(config.microBatchSize)) }

            let lr = schedule.apply(to: optimizer, at: state.step)
            optimizer.zeroGrad()
            let sums = try accumulateGradients(micro, step: step)
            let loss = sums.lossSum / Double(sums.units)
            guard loss.isFinite else {
                throw TrainingError.nonFinite(step: step, what: "the loss", value: loss, lastCheckpoint: lastCheckpoint?.path)
            }
            reduceGradients(parameters)
            let norm = config.maxGradNorm.map { clipGradNorm(parameters, maxNorm: $0) } ?? gradNorm(parameters)
            guard norm.isFinite else {
                throw TrainingError.nonFinite(step: step, what: "the gradient norm", value: Double(norm),
                                              lastCheckpoint: lastCheckpoint?.path)
            }
            if step == 1 && norm == 0 { throw TrainingError.zeroGradient(step: step) }
            optimizer.step()
            if let old = before, lr > 0 || config.warmupSteps == 0 {  // warm-up starts at 0: wait for a real step
                guard zip(parameters, old).contains(where: { $0.scalars() != $1 }) else { throw TrainingError.weightsUnchanged(step: step) }
                before = nil
            }

            state.step = step
            state.numTokens += sums.inputTokens
            state.interval.add(lossSum: sums.lossSum, units: sums.units, inputTokens: sums.inputTokens, metrics: sums.metricSums)
            let elapsed = state.elapsedSeconds + Date().timeIntervalSince(sessionStart)
            let isLast = step == totalSteps
            let evalNow = evalData != nil && (isLast || config.evalSteps.map { step % $0 == 0 } ?? false)
            var record: MetricRecord? = nil
            if step % config.loggingSteps == 0 || isLast || evalNow {
                var r = state.interval.means()
                r["grad_norm"] = Self.decimal(norm)
                r["learning_rate"] = Self.decimal(lr)
                r["num_tokens"] = Double(state.numTokens)
                r["epoch"] = Double(state.epoch) + Double(state.index) / Double(trainData.count)
                r["step"] = Double(step)
                r["elapsed_seconds"] = elapsed
                r["tokens_per_second"] = Double(state.numTokens) / max(elapsed, 1e-9)
                if evalNow { r.merge(evaluate()) { $1 } }
                derivedMetrics?(&r)
                state.interval = IntervalSums()
                state.logHistory.append(r)
                try Metrics.append(r, to: runDirectory.appendingPathComponent("metrics.jsonl"))
                record = r
            }
            progress.update(step: step, total: totalSteps, loss: loss, tokensPerSecond: Double(state.numTokens) / max(elapsed, 1e-9),
                            elapsed: elapsed)
            if !isLast, let every = config.saveSteps, step % every == 0 { _ = try checkpoint(sessionStart) }
            afterStep?(step, record ?? [:])
        }
        let saved = try checkpoint(sessionStart)
        try Report.write(run: runDirectory, config: config, history: state.logHistory,
                         wallSeconds: state.elapsedSeconds + Date().timeIntervalSince(sessionStart), numTokens: state.numTokens,
                         parameters: (trainable: count, total: total))
        progress.message("report: \(runDirectory.appendingPathComponent("report.md").path)")
        return .completed(checkpoint: saved)
    }

    /// Σ over the micro-batches of one step.
    public struct StepSums {
        /// Σ loss sums.
        public var lossSum = 0.0
        /// Σ units.
        public var units = 0
        /// Σ input tokens.
        public var inputTokens = 0
        /// Σ metric sums.
        public var metricSums: [String: Double] = [:]

        /// Adds one micro-batch's output.
        mutating func add(_ out: ObjectiveOutput) {
            lossSum += Double(out.lossSum.item)
            units += out.units
            inputTokens += out.inputTokens
            for (k, v) in out.metricSums { metricSums[k, default: 0] += v }
        }
    }

    /// Forward and backward over a step's micro-batches, each loss divided by the units of all of them, so the
    /// gradients left on the parameters are those of the mean over the whole accumulated batch.
    public func accumulateGradients(_ microBatches: [Objective.Batch], step: Int = 0) throws -> StepSums {
        let units = microBatches.map { objective.units(in: $0) }
        for (b, u) in zip(microBatches, units) where u == 0 {
            throw TrainingError.allLabelsMasked(step: step, batch: objective.describe(b))
        }
        let scale = Float(1 / Double(units.reduce(0, +)))
        var sums = StepSums()
        if config.concurrentMicroBatches && microBatches.count > 1 {
            // One micro-batch per thread, every op of it on that thread (the pool runs nested jobs inline); the
            // gradients are added in micro-batch order afterwards, as the loop below adds them.
            var results = [(ObjectiveOutput, [(leaf: Tensor, gradient: Tensor)])?](repeating: nil, count: microBatches.count)
            results.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let slots = slots
                ThreadPool.shared.parallelFor(microBatches.count) { i in
                    let out = objective.loss(microBatches[i])
                    slots[i] = (out, (out.lossSum * scale).leafGradients())
                }
            }
            for case let (out, gradients)? in results {
                Tensor.accumulate(gradients)
                sums.add(out)
            }
            return sums
        }
        for b in microBatches {
            let out = objective.loss(b)
            (out.lossSum * scale).backward()
            sums.add(out)
        }
        return sums
    }

    /// Evaluation metrics (`eval_loss`, `eval_<metric>`) over all eval rows, in order, without gradients or dropout.
    public func evaluate() -> MetricRecord {
        guard let evalData else { return [:] }
        objective.module.eval()
        defer { objective.module.train() }
        var sums = IntervalSums()
        noGrad {
            for start in stride(from: 0, to: evalData.count, by: config.microBatchSize) {
                let out = objective.loss(evalData.batch(Array(start..<min(start + config.microBatchSize, evalData.count))))
                sums.add(lossSum: Double(out.lossSum.item), units: out.units, inputTokens: out.inputTokens, metrics: out.metricSums)
            }
        }
        var out = sums.means(prefix: "eval_")
        if let extraEvaluation {
            for (k, v) in noGrad(extraEvaluation) { out["eval_" + k] = v }
        }
        return out
    }

    /// The next `n` row indices in the seeded order, moving to the next epoch (a fresh permutation) at the end of one.
    private func nextRows(_ n: Int) -> [Int] {
        (0..<n).map { _ in
            if state.index == trainData.count { state.epoch += 1; state.index = 0 }
            if order?.epoch != state.epoch {
                var rng = RandomGenerator(seed: state.dataSeed).fork(UInt64(state.epoch))
                order = (state.epoch, rng.permutation(trainData.count))
            }
            defer { state.index += 1 }
            return order!.rows[state.index]
        }
    }

    /// A Float as the Double of its shortest decimal form (0.0005, not 0.0005000000237487257) for metrics lines.
    static func decimal(_ x: Float) -> Double { x.isFinite ? Double("\(x)") ?? Double(x) : Double(x) }

    private func dropoutGenerators() -> [String: RandomGenerator] {
        var out: [String: RandomGenerator] = [:]
        for (path, module) in objective.module.namedModules() { if let d = module as? Dropout { out[path] = d.rng } }
        return out
    }

    /// Saves a checkpoint of the current step.
    private func checkpoint(_ sessionStart: Date) throws -> URL {
        var s = state
        s.elapsedSeconds += Date().timeIntervalSince(sessionStart)
        s.dropoutGenerators = dropoutGenerators()
        s.objectiveGenerators = objective.generators
        let url = try Checkpoints.save(run: runDirectory, step: state.step, config: config, state: s, optimizer: optimizer,
                                       saveModel: objective.saveModel(to:))
        lastCheckpoint = url
        if let limit = config.saveTotalLimit {
            for old in Checkpoints.list(in: runDirectory).dropLast(limit) { try FileManager.default.removeItem(at: old.url) }
        }
        return url
    }
}
