import Foundation
import Tether

/// Why a sample ended.
public enum FinishReason: String, Codable, Sendable {
    /// A stop token was generated or a stop string appeared.
    case stop
    /// `maxNewTokens` tokens were generated.
    case length
}

/// One finished sample of ``generate(model:prompts:config:decode:progress:)``.
public struct GeneratedSample: Codable, Sendable, Equatable {
    /// Index of its prompt in the `prompts` given.
    public var index: Int
    /// The prompt's token ids.
    public var promptIds: [Int32]
    /// Generated ids, including a final stop token and every token up to the one that
    /// completed a stop string (so `tokenIds` and `logprobs` stay aligned for training).
    public var tokenIds: [Int32]
    /// Decoded text (when a `decode` was given): without a final stop token, and cut just
    /// before the first stop string.
    public var text: String?
    /// Per generated token: the model's log-prob (raw logits, temperature 1, no filter).
    public var logprobs: [Float]
    /// Per generated token: the log-prob under the distribution sampled from (0 if greedy).
    public var samplingLogprobs: [Float]
    /// Why the sample ended.
    public var finishReason: FinishReason
}

/// One token as it is generated, for streaming.
public struct GeneratedToken: Sendable, Equatable {
    /// Index of the sample's prompt.
    public var index: Int
    /// The token id.
    public var token: Int32
    /// The model's log-prob of the token (temperature 1, no filter).
    public var logprob: Float
    /// The token's log-prob under the distribution sampled from (0 if greedy).
    public var samplingLogprob: Float
    /// Set on the sample's last token: why it ended.
    public var finishReason: FinishReason?
}

/// Samples continuations of `prompts` (token ids, any lengths) with a KV cache, batched.
///
/// Prompts are left-padded into one batch (positions come from the attention mask, so each
/// row is numbered as if alone). After the prefill, every unfinished row gets one token per
/// step; finished rows are dropped from the batch and the cache. A row ends at a stop token,
/// when `decode` of its tokens contains a stop string, or after `maxNewTokens` tokens.
///
/// Reproducibility: row i draws from `RandomGenerator(seed: config.seed).fork(i)`, one value
/// per sampled token, so its random numbers do not depend on the other rows. Its logits
/// depend on them only through floating-point rounding (padding length and batch size may
/// change a GEMM's summation), so a row's sample equals its sample alone with the same index
/// except where two tokens sit on a boundary within ~1e-6; greedy rows match in practice.
/// The same prompts, config and seed give the same samples, bit for bit, on one machine.
/// `progress` is called after each step with (steps done, `maxNewTokens`), and with
/// (`maxNewTokens`, `maxNewTokens`) at the end, also when every row stopped early.
///
/// With stop strings, each step decodes the row's whole generated tail (cost grows with
/// its length; fine for hundreds of tokens).
///
/// The model is only read (each call has its own KV cache and packed weights), so tasks
/// may share one model and generate concurrently; nothing may write to it meanwhile.
public func generate(model: CausalLM, prompts: [[Int32]], config: SamplingConfig,
                     decode: (([Int32]) -> String)? = nil,
                     progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [GeneratedSample] {
    try Generation(model: model, prompts: prompts, config: config, hasDecode: decode != nil)
        .run(decode: decode, cancelled: { false }, onToken: { _ in }, progress: progress)
}

/// The batched decoding loop shared by ``generate(model:prompts:config:decode:progress:)``
/// and ``generateStream(model:prompts:config:decode:progress:)``.
struct Generation: Sendable {
    let model: CausalLM
    let prompts: [[Int32]]
    let config: SamplingConfig
    let sampler: Sampler
    let stopIds: Set<Int32>
    /// Whether weights are packed once per call (a `WeightPackCache` scope); off only to
    /// measure what the cache buys (`tether bench lm --compare`).
    var packWeights = true

    /// Validates the config and prompts (throws ``GenerationError``).
    init(model: CausalLM, prompts: [[Int32]], config: SamplingConfig, hasDecode: Bool) throws {
        sampler = try Sampler(config: config)
        if !config.stopStrings.isEmpty && !hasDecode { throw GenerationError.stopStringsNeedDecode }
        try validateSequences(prompts, model: model.config, extra: config.maxNewTokens - 1)
        self.model = model
        self.prompts = prompts
        self.config = config
        stopIds = config.stopIds(for: model.config)
    }

    /// Runs to completion (or until `cancelled()`), reporting each token to `onToken`.
    func run(decode: (([Int32]) -> String)?, cancelled: () -> Bool, onToken: (GeneratedToken) -> Void,
             progress: ((Int, Int) -> Void)?) -> [GeneratedSample] {
        let n = prompts.count
        var samples = prompts.enumerated().map { i, p in
            GeneratedSample(index: i, promptIds: p, tokenIds: [], text: nil, logprobs: [], samplingLogprobs: [],
                            finishReason: .length)
        }
        let total = config.maxNewTokens
        guard n > 0 else { return [] }
        if total > 0 {
            // Each weight is packed for the GEMM once per call, not once per step: the model
            // is only read here (see WeightPackCache). With at most `Gemm.dotRows` prompts,
            // decoding reads the weights unpacked, so only the prefill would use the copy.
            let cache = packWeights && n > Gemm.dotRows ? WeightPackCache() : nil
            noGrad {
                WeightPackCache.$current.withValue(cache) {
                    loop(&samples, decode: decode, cancelled: cancelled, onToken: onToken, progress: progress)
                }
            }
        }
        if let decode {
            for i in 0..<n where samples[i].text == nil {
                var ids = samples[i].tokenIds
                if samples[i].finishReason == .stop, let last = ids.last, stopIds.contains(last) { ids.removeLast() }
                samples[i].text = decode(ids)
            }
        }
        if !cancelled() { progress?(total, total) }
        return samples
    }

    /// Prefill, then one token per step for the active rows (under `noGrad`).
    private func loop(_ samples: inout [GeneratedSample], decode: (([Int32]) -> String)?, cancelled: () -> Bool,
                      onToken: (GeneratedToken) -> Void, progress: ((Int, Int) -> Void)?) {
        let (n, c) = (prompts.count, model.config.hiddenSize)
        let longest = prompts.map(\.count).max()!
        let pad = Int32(model.config.padTokenId ?? 0)
        var ids = [Int32](repeating: pad, count: n * longest)
        var mask = [Float](repeating: 0, count: n * longest)
        for (row, p) in prompts.enumerated() {
            for (j, t) in p.enumerated() {
                ids[row * longest + longest - p.count + j] = t
                mask[row * longest + longest - p.count + j] = 1
            }
        }
        let cache = model.makeCache()
        let padded = mask.contains(0)
        let h = model.hidden(IndexTensor(ids, shape: [n, longest]),
                             attentionMask: padded ? Tensor(mask, shape: [n, longest]) : nil, cache: cache)  // (B, T, C)
        var logits = model.logits(hidden: h.slice(axis: 1, (longest - 1)..<longest).reshape([n, c]))  // (B, V)

        var active = Array(0..<n)                          // batch row → prompt index
        let root = RandomGenerator(seed: config.seed)
        var rngs = (0..<n).map { root.fork(UInt64($0)) }   // per active row
        for step in 0..<config.maxNewTokens {
            if cancelled() { return }
            let picked = sampler.sample(logits: logits, rngs: &rngs)
            var keep: [Int] = []                           // batch rows still running
            for (row, s) in picked.enumerated() {
                let i = active[row]
                samples[i].tokenIds.append(s.token)
                samples[i].logprobs.append(s.logprob)
                samples[i].samplingLogprobs.append(s.samplingLogprob)
                var finish: FinishReason? = nil
                if stopIds.contains(s.token) {
                    finish = .stop
                } else if let decode, !config.stopStrings.isEmpty {
                    let text = decode(samples[i].tokenIds)
                    if let cut = Self.firstStop(in: text, config.stopStrings) {
                        finish = .stop
                        samples[i].text = String(text[..<cut])
                    }
                }
                if finish == nil && step == config.maxNewTokens - 1 { finish = .length }
                if let finish { samples[i].finishReason = finish } else { keep.append(row) }
                onToken(GeneratedToken(index: i, token: s.token, logprob: s.logprob, samplingLogprob: s.samplingLogprob,
                                       finishReason: finish))
            }
            progress?(step + 1, config.maxNewTokens)
            if keep.isEmpty { return }
            if keep.count < active.count {
                cache.keepRows(keep)
                active = keep.map { active[$0] }
                rngs = keep.map { rngs[$0] }
            }
            let next = IndexTensor(keep.map { picked[$0].token }, shape: [keep.count, 1])
            let h = model.hidden(next, cache: cache)                              // (B', 1, C)
            logits = model.logits(hidden: h.reshape([keep.count, c]))            // (B', V)
        }
    }

    /// Where the earliest occurrence of any stop string starts in `text`.
    static func firstStop(in text: String, _ stops: [String]) -> String.Index? {
        stops.compactMap { text.range(of: $0)?.lowerBound }.min()
    }
}

/// Checks that sequences are non-empty, in the vocabulary, and fit the model with `extra`
/// more tokens fed (learned positions, sliding window).
func validateSequences(_ seqs: [[Int32]], model: TransformerConfig, extra: Int) throws {
    for (i, s) in seqs.enumerated() {
        if s.isEmpty { throw GenerationError.emptyPrompt(index: i) }
        if let bad = s.first(where: { $0 < 0 || Int($0) >= model.vocabSize }) {
            throw GenerationError.tokenOutOfRange(index: i, token: bad, vocabSize: model.vocabSize)
        }
        let fed = s.count + Swift.max(extra, 0)
        if model.family == .gpt2 && fed > model.maxPositions {
            throw GenerationError.tooLong(index: i, tokens: fed, limit: model.maxPositions,
                                          reason: "learned position table; lower maxNewTokens or shorten the prompt")
        }
    }
    if let window = model.slidingWindow, let longest = seqs.map(\.count).max(), longest + extra > window {
        let i = seqs.firstIndex { $0.count == longest }!
        throw GenerationError.tooLong(index: i, tokens: longest + extra, limit: window,
                                      reason: "sliding window; the batch is padded to its longest prompt")
    }
}
