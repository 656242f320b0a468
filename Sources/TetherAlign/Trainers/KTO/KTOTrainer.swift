import Foundation
import Tether
import TetherLM
import TetherNN

/// One unpaired example tokenized: a prompt, a completion, and whether the completion is desirable.
public struct KTOTokens: Sendable, Equatable {
    /// The prompt's ids.
    public var prompt: [Int32]
    /// The completion's ids.
    public var completion: [Int32]
    /// True for a desirable completion.
    public var desirable: Bool

    /// An example.
    public init(prompt: [Int32], completion: [Int32], desirable: Bool) {
        self.prompt = prompt
        self.completion = completion
        self.desirable = desirable
    }

    /// A preference pair as two unpaired examples (chosen desirable, rejected not), as TRL converts paired data.
    public static func unpaired(_ pair: PreferenceTokens) -> [KTOTokens] {
        [KTOTokens(prompt: pair.prompt, completion: pair.chosen, desirable: true),
         KTOTokens(prompt: pair.prompt, completion: pair.rejected, desirable: false)]
    }
}

/// A KTO batch: the examples, and the mismatched pairs (prompt i, completion of example i+1) whose log-ratio
/// estimates the KL reference point.
public struct KTOBatch {
    /// (B) prompt + completion rows.
    public var completions: CompletionBatch
    /// (B) prompt i + the completion of the dataset's next example.
    public var mismatched: CompletionBatch
    /// Per row, whether the completion is desirable.
    public var desirable: [Bool]
    /// Precomputed reference log-probs of `completions` and `mismatched`, (B) each; nil: computed on the fly.
    public var reference: (completions: Tensor, mismatched: Tensor)?
    /// The examples' indices.
    public var rows: [Int]
}

/// KTO's part of the loop: policy log-probs with autograd, the KL reference point without, the ``ktoLoss``, and
/// TRL's metrics (`kl`, `rewards/chosen`, `rewards/rejected`, `rewards/margins`, `logps/chosen`, `logps/rejected`,
/// from the `*_sum` and `count/*` sums).
public final class KTOObjective: TrainingObjective {
    /// The policy trained.
    public let model: CausalLM
    /// The settings.
    public let config: KTOConfig
    /// The reference when log-probs are not precomputed.
    public let reference: ReferenceModel?

    /// An objective training `model`.
    public init(model: CausalLM, config: KTOConfig, reference: ReferenceModel?) {
        self.model = model
        self.config = config
        self.reference = reference
    }

    /// The policy.
    public var module: Module { model }
    /// Examples in the batch.
    public func units(in batch: KTOBatch) -> Int { batch.rows.count }
    /// The examples' indices.
    public func describe(_ batch: KTOBatch) -> String { "examples " + batch.rows.map(String.init).joined(separator: ", ") }

    /// Σ KTO loss over the examples, with metric sums.
    public func loss(_ batch: KTOBatch) -> ObjectiveOutput {
        let policy = model.sequenceLogProbs(batch.completions)                                        // (B)
        let policyKL = noGrad { model.sequenceLogProbs(batch.mismatched).detach() }                   // (B)
        let ref = batch.reference ?? {
            guard let reference else { preconditionFailure("KTOObjective: no reference log-probs and no reference model") }
            return (reference.logProbs(batch.completions, reduction: .sum), reference.logProbs(batch.mismatched, reduction: .sum))
        }()
        // A single example has no mismatched partner: its reference point is 0.
        let z0 = batch.rows.count > 1 ? ktoReferencePoint(policyKL: policyKL, refKL: ref.1) : 0
        let out = ktoLoss(policy: policy, reference: ref.0, desirable: batch.desirable, referencePoint: z0, beta: config.beta,
                          desirableWeight: config.desirableWeight, undesirableWeight: config.undesirableWeight)
        let rewards = out.rewards.scalars(), logps = policy.detach().scalars()
        var m: [String: Double] = ["kl": Double(z0) * Double(batch.rows.count)]
        for (i, d) in batch.desirable.enumerated() {
            let side = d ? "chosen" : "rejected"
            m["rewards/\(side)_sum", default: 0] += Double(rewards[i])
            m["logps/\(side)_sum", default: 0] += Double(logps[i])
            m["count/\(side)", default: 0] += 1
        }
        return ObjectiveOutput(lossSum: out.losses.sum(), units: batch.rows.count,
                               inputTokens: batch.completions.inputTokens, metricSums: m)
    }

    /// Adds `rewards/chosen` (= `rewards/chosen_sum` / `count/chosen`), the rejected side, `rewards/margins` and the
    /// `logps/*` means to a metrics line, for training and `eval_` keys.
    public static func deriveMetrics(_ r: inout MetricRecord) {
        for prefix in ["", "eval_"] {
            for kind in ["rewards", "logps"] {
                for side in ["chosen", "rejected"] {
                    if let s = r["\(prefix)\(kind)/\(side)_sum"], let n = r["\(prefix)count/\(side)"], n > 0 {
                        r["\(prefix)\(kind)/\(side)"] = s / n
                    }
                }
            }
            if let c = r["\(prefix)rewards/chosen"], let j = r["\(prefix)rewards/rejected"] { r["\(prefix)rewards/margins"] = c - j }
        }
    }

    /// The model in HF layout, plus the PEFT adapter files when LoRA adapters are attached.
    public func saveModel(to folder: URL) throws { try CausalLMObjective(model: model).saveModel(to: folder) }
    /// Loads what ``saveModel(to:)`` wrote.
    public func loadModel(from folder: URL) throws { try CausalLMObjective(model: model).loadModel(from: folder) }
}

/// Kahneman–Tversky optimisation (TRL's `KTOTrainer`) on unpaired desirable/undesirable examples, on the shared loop.
/// Reference log-probs as in ``DPOTrainer``: a frozen copy or the adapters switched off, precomputed and cached or not.
public final class KTOTrainer {
    /// The settings.
    public let config: KTOConfig
    /// The policy and its loss.
    public let objective: KTOObjective
    /// The loop running it.
    public let loop: TrainingLoop<KTOObjective>

    /// A new KTO run (eval: a given set, else `eval_size` examples held out with the data seed).
    public init(config: KTOConfig, model: CausalLM, reference: CausalLM? = nil, train: [KTOTokens], eval: [KTOTokens]? = nil,
                padId: Int32 = 0) throws {
        let p = try Self.prepare(config: config, model: model, reference: reference, train: train, eval: eval, padId: padId, cache: nil)
        self.config = config
        objective = p.objective
        loop = try TrainingLoop(config: config.training, objective: objective, train: p.train, eval: p.eval)
        loop.derivedMetrics = KTOObjective.deriveMetrics
        if let values = p.cache { try ReferenceCache.write(values, run: loop.runDirectory) }
    }

    /// Continues the run in `run`; precomputed reference log-probs are read from the run folder.
    public init(resuming run: URL, config: KTOConfig, model: CausalLM, reference: CausalLM? = nil, train: [KTOTokens],
                eval: [KTOTokens]? = nil, padId: Int32 = 0) throws {
        let cached = config.precomputeRefLogProbs ? try ReferenceCache.read(run: run) : nil
        let p = try Self.prepare(config: config, model: model, reference: reference, train: train, eval: eval, padId: padId, cache: cached)
        self.config = config
        objective = p.objective
        loop = try TrainingLoop.resume(from: run, objective: objective, train: p.train, eval: p.eval)
        loop.derivedMetrics = KTOObjective.deriveMetrics
        if cached == nil, let values = p.cache { try ReferenceCache.write(values, run: run) }
    }

    /// Trains to the end (or until Ctrl-C).
    @discardableResult
    public func train() throws -> TrainingOutcome { try loop.run() }

    /// The (prompt, completion) sequences of `examples` and of their mismatched pairs (example i's prompt with
    /// example (i+1) mod n's completion, fixed when the data is built), fitted to `maxLength`.
    static func sequences(_ examples: [KTOTokens], maxLength: Int) -> (own: [(prompt: [Int32], completion: [Int32])],
                                                                         mismatched: [(prompt: [Int32], completion: [Int32])]) {
        let n = examples.count
        return (examples.map { PreferencePairs.fit($0.prompt, $0.completion, maxLength: maxLength) },
                examples.indices.map { PreferencePairs.fit(examples[$0].prompt, examples[($0 + 1) % n].completion, maxLength: maxLength) })
    }

    private static func prepare(config: KTOConfig, model: CausalLM, reference: CausalLM?, train: [KTOTokens], eval: [KTOTokens]?,
                                padId: Int32, cache: [String: [Float]]?) throws
        -> (objective: KTOObjective, train: TrainingData<KTOBatch>, eval: TrainingData<KTOBatch>?, cache: [String: [Float]]?) {
        try config.validate()
        var trainSet = train, evalSet = eval
        if evalSet == nil, let size = config.preference.evalSize {
            (trainSet, evalSet) = try DataOrder.trainEvalSplit(train, eval: size, seed: config.training.dataSeed)
        }
        for (name, set) in [("training", trainSet), ("eval", evalSet ?? [])] where name == "training" || evalSet != nil {
            guard !set.isEmpty else { throw TrainingError.noData("the \(name) set has no examples") }
            if let i = set.firstIndex(where: { $0.prompt.isEmpty || $0.completion.isEmpty }) {
                throw TrainingError.noData("\(name) example \(i) has an empty prompt or completion after tokenizing")
            }
        }
        var ref: ReferenceModel? = nil
        if config.reference == .copy && cache == nil {
            ref = try reference.map { ReferenceModel(frozen: $0) } ?? ReferenceModel.frozenCopy(of: model)
        }
        if let lora = config.preference.lora, model.adapterConfig == nil { try model.applyLoRA(lora, seed: config.training.seed) }
        if config.reference == .adaptersOff { ref = ReferenceModel(adaptersOf: model) }
        let maxLength = PreferencePairs.lengthLimit(config.training.maxLength, model: model.config)
        var values = cache
        if config.precomputeRefLogProbs && values == nil, let r = ref {
            var v: [String: [Float]] = [:]
            for (name, set) in [("train", trainSet)] + (evalSet.map { [("eval", $0)] } ?? []) {
                let s = sequences(set, maxLength: maxLength)
                v[name + "_completions"] = r.logProbs(s.own, reduction: .sum, padId: padId)
                v[name + "_mismatched"] = r.logProbs(s.mismatched, reduction: .sum, padId: padId)
            }
            values = v
        }
        if values != nil && config.precomputeRefLogProbs {
            ref = nil                    // drop the copy: its work is done,
            BufferCache.shared.trim()    // and hand its freed buffers back to the system
        }
        func data(_ set: [KTOTokens], _ split: String) throws -> TrainingData<KTOBatch> {
            let s = sequences(set, maxLength: maxLength)
            var pre: (own: [Float], mismatched: [Float])? = nil
            if config.precomputeRefLogProbs, let values {
                guard let a = values[split + "_completions"], let b = values[split + "_mismatched"], a.count == set.count, b.count == set.count else {
                    throw TrainingError.dataChanged(checkpoint: ReferenceCache.fileName,
                                                    expectedRows: values[split + "_completions"]?.count ?? 0, rows: set.count)
                }
                pre = (a, b)
            }
            return TrainingData(count: set.count) { rows in
                KTOBatch(completions: CompletionBatch(pairs: rows.map { s.own[$0] }, padId: padId),
                         mismatched: CompletionBatch(pairs: rows.map { s.mismatched[$0] }, padId: padId),
                         desirable: rows.map { set[$0].desirable },
                         reference: pre.map { p in (Tensor(rows.map { p.own[$0] }, shape: [rows.count]),
                                                    Tensor(rows.map { p.mismatched[$0] }, shape: [rows.count])) },
                         rows: rows)
            }
        }
        return (KTOObjective(model: model, config: config, reference: ref), try data(trainSet, "train"),
                try evalSet.map { try data($0, "eval") }, values)
    }
}
