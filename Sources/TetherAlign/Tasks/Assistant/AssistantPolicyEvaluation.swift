import Foundation
import Tether
import TetherLM
import TetherTokenizers

/// Samples a policy's responses to the world's prompts and judges them with gold: the library side of
/// `tether eval --task assistant`, for the quickstart and experiments to call.
///
/// Each prompt is encoded as SFT encodes the prompt of a plain-text prompt-completion record (the tokenizer's own
/// encoding, special tokens added by its post-processor) and continued until an EOS token of the model (or
/// `sampling.maxNewTokens`). With a reference policy, the reference is sampled with the same config and seed on
/// the same prompts (for the gold win rate), and KL(policy || reference) is estimated from the policy's samples:
/// the mean over samples of the sum over their tokens of log pi - log pi_ref, both log-probs by teacher forcing
/// through ``logProbs(model:pairs:batchSize:chunkRows:progress:)`` (so the same model as reference gives exactly 0).
/// The sampler's own log-probs are checked against teacher forcing (`maxLogProbGap`).
///
/// Reproducibility: samples are drawn `batchSize` rows at a time, row-major over (prompt, sample); batch b uses
/// the seed `RandomGenerator(seed: sampling.seed).fork(b).nextUInt64()`, so the same prompts, config, batch size
/// and seed give the same report, bit for bit, on one machine.
public struct AssistantPolicyEvaluation {
    /// The policy's (and the reference's) tokenizer.
    public var tokenizer: Tokenizer
    /// How responses are drawn (temperature 1 with no filter samples the policy itself, as the KL estimate assumes).
    public var sampling: SamplingConfig
    /// Responses drawn per prompt.
    public var samplesPerPrompt: Int
    /// Rows sampled (and scored) together.
    public var batchSize: Int
    /// The judge.
    public var gold: GoldReward

    /// An evaluation; the defaults draw one response per prompt at temperature 1, up to 64 tokens, seed 0.
    public init(tokenizer: Tokenizer, sampling: SamplingConfig = SamplingConfig(maxNewTokens: 64),
                samplesPerPrompt: Int = 1, batchSize: Int = 256, gold: GoldReward = GoldReward()) {
        self.tokenizer = tokenizer
        self.sampling = sampling
        self.samplesPerPrompt = samplesPerPrompt
        self.batchSize = batchSize
        self.gold = gold
    }

    /// Throws ``GenerationError/invalidConfig(field:message:)`` naming the first bad setting.
    public func validate() throws {
        try sampling.validate()
        func bad(_ field: String, _ message: String) -> GenerationError { .invalidConfig(field: field, message: message) }
        guard sampling.maxNewTokens >= 1 else { throw bad("maxNewTokens", "must be >= 1 to sample a response, got \(sampling.maxNewTokens)") }
        guard samplesPerPrompt >= 1 else { throw bad("samplesPerPrompt", "must be >= 1, got \(samplesPerPrompt)") }
        guard batchSize >= 1 else { throw bad("batchSize", "must be >= 1, got \(batchSize)") }
    }

    /// Samples `policy` (and `reference`, if given) on `prompts` and reports gold's figures, the win rate and the KL
    /// estimate. Both models run in evaluation mode (no dropout) and get their previous mode back.
    public func run(policy: CausalLM, reference: CausalLM? = nil, prompts: [AssistantPrompt]) throws -> AssistantPolicyReport {
        try validate()
        guard !prompts.isEmpty else { throw GenerationError.invalidConfig(field: "prompts", message: "need at least one prompt") }
        let modes = (policy.isTraining, reference?.isTraining)
        policy.eval()
        reference?.eval()
        defer {
            reference?.train(modes.1 ?? false)
            policy.train(modes.0)  // after the reference, in case they are the same model
        }
        let rows = prompts.flatMap { Array(repeating: $0, count: samplesPerPrompt) }
        let policySamples = try sample(policy, rows)
        let referenceSamples = try reference.map { try sample($0, rows) }
        let pairs = zip(rows, policySamples).map { (prompt: encode($0.0), completion: $0.1.tokenIds) }
        let policyLogProbs = try teacherForced(policy, pairs)
        var gap = 0.0
        for (s, tf) in zip(policySamples, policyLogProbs) {
            for (a, b) in zip(s.logprobs, tf) { gap = max(gap, abs(Double(a) - Double(b))) }
        }
        var kl: Double?
        if let reference {
            let refLogProbs = try teacherForced(reference, pairs)
            kl = AssistantEvaluation.klEstimate(policyLogProbs: policyLogProbs.map(Self.sum),
                                                referenceLogProbs: refLogProbs.map(Self.sum))
        }
        let stops = sampling.stopIds(for: policy.config)
        let lengths = policySamples.map { s in  // response tokens, without a final stop token
            s.tokenIds.count - (s.finishReason == .stop && s.tokenIds.last.map(stops.contains) == true ? 1 : 0)
        }
        let report = AssistantEvaluation.evaluate(prompts: rows, responses: policySamples.map { $0.text ?? "" },
                                                  reference: referenceSamples?.map { $0.text ?? "" },
                                                  tokens: lengths, gold: gold)
        return AssistantPolicyReport(
            prompts: rows, responses: policySamples.map { $0.text ?? "" },
            referenceResponses: referenceSamples?.map { $0.text ?? "" }, tokenIds: policySamples.map(\.tokenIds),
            tokenCounts: lengths, gold: report, kl: kl,
            maxLogProbGap: gap,
            truncatedFraction: Double(policySamples.filter { $0.finishReason == .length }.count) / Double(rows.count),
            samplesPerPrompt: samplesPerPrompt, sampling: sampling,
            baselines: Dictionary(uniqueKeysWithValues: AssistantBaselinePolicy.allCases.map {
                ($0, $0.evaluate(rows, seed: sampling.seed, gold: gold))
            }))
    }

    /// The prompt's token ids, as SFT encodes the prompt of a plain-text record.
    public func encode(_ prompt: AssistantPrompt) -> [Int32] {
        tokenizer.encode(prompt.text, addSpecialTokens: true)
    }

    /// One sample per row, `batchSize` rows per `generate` call, each batch seeded from its index.
    func sample(_ model: CausalLM, _ rows: [AssistantPrompt]) throws -> [GeneratedSample] {
        let root = RandomGenerator(seed: sampling.seed)
        var out: [GeneratedSample] = []
        out.reserveCapacity(rows.count)
        for (b, start) in stride(from: 0, to: rows.count, by: batchSize).enumerated() {
            var config = sampling
            var rng = root.fork(UInt64(b))
            config.seed = rng.nextUInt64()
            let batch = rows[start..<min(start + batchSize, rows.count)].map(encode)
            do {
                out += try generate(model: model, prompts: batch, config: config,
                                    decode: { tokenizer.decode($0, skipSpecialTokens: true) })
            } catch GenerationError.tooLong(let i, let tokens, let limit, let reason) {
                // Name the prompt (0-based, in `prompts`), not the row of this batch.
                throw GenerationError.tooLong(index: (start + i) / samplesPerPrompt, tokens: tokens, limit: limit, reason: reason)
            }
        }
        return out
    }

    /// Per-token log-probs of each completion under `model`, by teacher forcing.
    func teacherForced(_ model: CausalLM, _ pairs: [(prompt: [Int32], completion: [Int32])]) throws -> [[Float]] {
        try logProbs(model: model, pairs: pairs, batchSize: min(batchSize, 64))
    }

    static func sum(_ xs: [Float]) -> Double { xs.reduce(0.0) { $0 + Double($1) } }
}
