import Foundation
import Tether
import TetherLM
import TetherNN

/// A batch of preference pairs in one forward: chosen and rejected completions concatenated.
public struct PreferenceBatch {
    /// (2B) rows: the B chosen completions, then the B rejected ones, each after its prompt.
    public var pairs: CompletionBatch
    /// Precomputed reference log-probs of the chosen and rejected completions, (B) each; nil: computed on the fly.
    public var reference: (chosen: Tensor, rejected: Tensor)?
    /// The pairs' indices in their dataset.
    public var rows: [Int]
}

/// Turning tokenized preference pairs into the loop's data.
public enum PreferencePairs {
    /// Prompt and completion cut to `maxLength` tokens together: the completion keeps its start, then the prompt its end.
    public static func fit(_ prompt: [Int32], _ completion: [Int32], maxLength: Int) -> (prompt: [Int32], completion: [Int32]) {
        var c = completion, p = prompt
        if p.count + c.count > maxLength { c = Array(c.prefix(max(1, maxLength - p.count))) }
        if p.count + c.count > maxLength { p = Array(p.suffix(maxLength - c.count)) }
        return (p, c)
    }

    /// Chosen pairs then rejected pairs, each fitted to `maxLength`.
    static func sequences(_ examples: [PreferenceTokens], maxLength: Int) -> (chosen: [(prompt: [Int32], completion: [Int32])],
                                                                                rejected: [(prompt: [Int32], completion: [Int32])]) {
        (examples.map { fit($0.prompt, $0.chosen, maxLength: maxLength) },
         examples.map { fit($0.prompt, $0.rejected, maxLength: maxLength) })
    }

    /// `maxLength` lowered to the positions the model has learned (GPT-2), so no row is longer than it can read.
    public static func lengthLimit(_ maxLength: Int, model config: TransformerConfig) -> Int {
        config.family == .gpt2 ? min(maxLength, config.maxPositions) : maxLength
    }

    /// Throws naming the first pair with an empty prompt or completion (`set` names the dataset).
    public static func validate(_ examples: [PreferenceTokens], set: String) throws(TrainingError) {
        guard !examples.isEmpty else { throw .noData("the \(set) set has no preference pairs") }
        if let i = examples.firstIndex(where: { $0.prompt.isEmpty || $0.chosen.isEmpty || $0.rejected.isEmpty }) {
            throw .noData("\(set) pair \(i) has an empty prompt, chosen or rejected completion after tokenizing")
        }
    }

    /// Loop data over `examples` (with precomputed reference log-probs when given, one per pair each).
    public static func data(_ examples: [PreferenceTokens], maxLength: Int, padId: Int32,
                            reference: (chosen: [Float], rejected: [Float])? = nil) -> TrainingData<PreferenceBatch> {
        let (chosen, rejected) = sequences(examples, maxLength: maxLength)
        return TrainingData(count: examples.count) { rows in
            let pairs = CompletionBatch(pairs: rows.map { chosen[$0] } + rows.map { rejected[$0] }, padId: padId)
            let ref = reference.map { r in
                (Tensor(rows.map { r.chosen[$0] }, shape: [rows.count]), Tensor(rows.map { r.rejected[$0] }, shape: [rows.count]))
            }
            return PreferenceBatch(pairs: pairs, reference: ref, rows: rows)
        }
    }

    /// Reference log-probs of every pair, (chosen, rejected), computed once.
    static func referenceLogProbs(_ examples: [PreferenceTokens], reference: ReferenceModel, reduction: SequenceReduction,
                                  maxLength: Int, padId: Int32) -> (chosen: [Float], rejected: [Float]) {
        let (chosen, rejected) = sequences(examples, maxLength: maxLength)
        return (reference.logProbs(chosen, reduction: reduction, padId: padId),
                reference.logProbs(rejected, reduction: reduction, padId: padId))
    }
}

/// DPO's part of the loop (and IPO, hinge, robust, SimPO): policy log-probs of chosen and rejected in one forward,
/// reference log-probs precomputed or from the reference model, the ``dpoLoss`` and TRL's metrics.
public final class DPOObjective: TrainingObjective {
    /// The policy trained.
    public let model: CausalLM
    /// The settings.
    public let config: DPOConfig
    /// The reference for batches without precomputed log-probs (nil when precomputed or not needed).
    public let reference: ReferenceModel?

    /// An objective training `model`.
    public init(model: CausalLM, config: DPOConfig, reference: ReferenceModel?) {
        self.model = model
        self.config = config
        self.reference = reference
    }

    /// The policy, as the module the optimizer updates.
    public var module: Module { model }
    /// Micro-batches may be scored at once unless the reference is the policy with its adapters off, which switches
    /// the shared model's adapters and mode while it scores.
    public var allowsConcurrentMicroBatches: Bool { reference?.adaptersOff != true }
    /// Pairs in the batch.
    public func units(in batch: PreferenceBatch) -> Int { batch.rows.count }
    /// The pairs' indices.
    public func describe(_ batch: PreferenceBatch) -> String { "pairs " + batch.rows.map(String.init).joined(separator: ", ") }

    /// Σ loss over the pairs, with the rewards and log-prob sums TRL logs.
    public func loss(_ batch: PreferenceBatch) -> ObjectiveOutput {
        let n = batch.rows.count
        let reduction = config.lossType.reduction
        let logps = model.sequenceLogProbs(batch.pairs, reduction: reduction)                         // (2B)
        let chosen = logps.slice(axis: 0, 0..<n), rejected = logps.slice(axis: 0, n..<(2 * n))        // (B) each
        var ref: (Tensor, Tensor)? = nil
        if config.lossType.needsReference {
            if let r = batch.reference { ref = r } else {
                guard let reference else { preconditionFailure("DPOObjective: no reference log-probs and no reference model") }
                let all = reference.logProbs(batch.pairs, reduction: reduction)
                ref = (all.slice(axis: 0, 0..<n), all.slice(axis: 0, n..<(2 * n)))
            }
        }
        let out = dpoLoss(policyChosen: chosen, policyRejected: rejected, refChosen: ref?.0, refRejected: ref?.1,
                          beta: config.beta, type: config.lossType, labelSmoothing: config.labelSmoothing,
                          simpoGamma: config.simpoGamma)
        return ObjectiveOutput(lossSum: out.losses.sum(), units: n, inputTokens: batch.pairs.inputTokens,
                               metricSums: preferenceMetricSums(out, policyChosen: chosen, policyRejected: rejected))
    }

    /// The model in HF layout, plus the PEFT adapter files when LoRA adapters are attached.
    public func saveModel(to folder: URL) throws { try CausalLMObjective(model: model).saveModel(to: folder) }
    /// Loads what ``saveModel(to:)`` wrote.
    public func loadModel(from folder: URL) throws { try CausalLMObjective(model: model).loadModel(from: folder) }
}

/// Direct preference optimisation (TRL's `DPOTrainer`) with the ``DPOLossType`` variants, on the shared loop.
///
/// The reference is a frozen copy of the starting model (`reference: copy`, passed in or copied here) or the policy
/// with its adapters off (`adapters_off`). With `precompute_ref_log_probs` its log-probs are computed once, cached in
/// the run folder (reused on resume) and the copy is dropped before training.
public final class DPOTrainer {
    /// The settings.
    public let config: DPOConfig
    /// The policy and its loss.
    public let objective: DPOObjective
    /// The loop running it.
    public let loop: TrainingLoop<DPOObjective>

    /// A new DPO run on tokenized pairs (eval: a given set, else `eval_size` pairs held out with the data seed).
    /// `reference`: the frozen reference for `reference: copy` (nil: a copy of `model` is made).
    public init(config: DPOConfig, model: CausalLM, reference: CausalLM? = nil, train: [PreferenceTokens],
                eval: [PreferenceTokens]? = nil, padId: Int32 = 0) throws {
        let p = try Self.prepare(config: config, model: model, reference: reference, train: train, eval: eval, padId: padId, cache: nil)
        self.config = config
        objective = p.objective
        loop = try TrainingLoop(config: config.training, objective: objective, train: p.train, eval: p.eval)
        if let values = p.cache { try ReferenceCache.write(values, run: loop.runDirectory) }
    }

    /// Continues the run in `run` (same data; `model` with the starting weights: the checkpoint's are loaded into it).
    /// Precomputed reference log-probs are read from the run folder.
    public init(resuming run: URL, config: DPOConfig, model: CausalLM, reference: CausalLM? = nil, train: [PreferenceTokens],
                eval: [PreferenceTokens]? = nil, padId: Int32 = 0) throws {
        let cached = config.precomputeRefLogProbs ? try ReferenceCache.read(run: run) : nil
        let p = try Self.prepare(config: config, model: model, reference: reference, train: train, eval: eval, padId: padId,
                                 cache: cached)
        self.config = config
        objective = p.objective
        loop = try TrainingLoop.resume(from: run, objective: objective, train: p.train, eval: p.eval)
        if cached == nil, let values = p.cache { try ReferenceCache.write(values, run: run) }
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try loop.run() }

    private static func prepare(config: DPOConfig, model: CausalLM, reference: CausalLM?, train: [PreferenceTokens],
                                eval: [PreferenceTokens]?, padId: Int32, cache: [String: [Float]]?) throws
        -> (objective: DPOObjective, train: TrainingData<PreferenceBatch>, eval: TrainingData<PreferenceBatch>?,
            cache: [String: [Float]]?) {
        try config.validate()
        var trainSet = train, evalSet = eval
        if evalSet == nil, let size = config.preference.evalSize {
            (trainSet, evalSet) = try DataOrder.trainEvalSplit(train, eval: size, seed: config.training.dataSeed)
        }
        try PreferencePairs.validate(trainSet, set: "training")
        if let evalSet { try PreferencePairs.validate(evalSet, set: "eval") }
        let needs = config.lossType.needsReference
        var ref: ReferenceModel? = nil
        if needs && config.reference == .copy && cache == nil {
            ref = try reference.map { ReferenceModel(frozen: $0) } ?? ReferenceModel.frozenCopy(of: model)
        }
        if let lora = config.preference.lora, model.adapterConfig == nil { try model.applyLoRA(lora, seed: config.training.seed) }
        if needs && config.reference == .adaptersOff { ref = ReferenceModel(adaptersOf: model) }
        let maxLength = PreferencePairs.lengthLimit(config.training.maxLength, model: model.config)
        let reduction = config.lossType.reduction
        var values = cache
        if needs && config.precomputeRefLogProbs && values == nil, let r = ref {
            var v: [String: [Float]] = [:]
            (v["train_chosen"], v["train_rejected"]) = PreferencePairs.referenceLogProbs(
                trainSet, reference: r, reduction: reduction, maxLength: maxLength, padId: padId)
            if let evalSet {
                (v["eval_chosen"], v["eval_rejected"]) = PreferencePairs.referenceLogProbs(
                    evalSet, reference: r, reduction: reduction, maxLength: maxLength, padId: padId)
            }
            values = v
        }
        func cached(_ split: String, _ n: Int) throws -> (chosen: [Float], rejected: [Float])? {
            guard needs && config.precomputeRefLogProbs, let values else { return nil }
            guard let c = values[split + "_chosen"], let r = values[split + "_rejected"], c.count == n, r.count == n else {
                throw TrainingError.dataChanged(checkpoint: ReferenceCache.fileName, expectedRows: values[split + "_chosen"]?.count ?? 0, rows: n)
            }
            return (c, r)
        }
        if values != nil && needs && config.precomputeRefLogProbs {
            ref = nil                    // drop the copy: its work is done,
            BufferCache.shared.trim()    // and hand its freed buffers back to the system
        }
        let objective = DPOObjective(model: model, config: config, reference: ref)
        let t = PreferencePairs.data(trainSet, maxLength: maxLength, padId: padId, reference: try cached("train", trainSet.count))
        let e = try evalSet.map { PreferencePairs.data($0, maxLength: maxLength, padId: padId, reference: try cached("eval", $0.count)) }
        return (objective, t, e, values)
    }
}
