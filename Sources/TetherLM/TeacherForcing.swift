import Tether

/// log p(completion[j] | prompt, completion[..<j]) for each completion token, by teacher
/// forcing through ``CausalLM/tokenLogProbs(hidden:tokens:chunkRows:)`` (the function the
/// sampler's log-probs and the trainers use): (completion.count).
public func logProbs(model: CausalLM, prompt: [Int32], completion: [Int32]) throws -> [Float] {
    try logProbs(model: model, pairs: [(prompt: prompt, completion: completion)])[0]
}

/// Teacher-forced completion log-probs for many (prompt, completion) pairs in one batch.
///
/// Pairs are scored `batchSize` at a time (in order; `progress` gets pairs done and the
/// total after each batch). Within a batch the layout is TRL's: prompts left-padded to the
/// longest, completions right-padded after them, so every completion starts at the same
/// column P and only the (B, Cmax) completion positions go through the vocabulary
/// projection (`chunkRows` rows at a time). Padding is masked and positions come from the
/// mask, so each row scores as if alone. Runs under `noGrad`; returns one array of
/// completion.count log-probs per pair.
public func logProbs(model: CausalLM, pairs: [(prompt: [Int32], completion: [Int32])], batchSize: Int = 16,
                     chunkRows: Int = 512,
                     progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [[Float]] {
    precondition(batchSize > 0, "logProbs: batchSize must be positive, got \(batchSize)")
    let cfg = model.config
    try validateSequences(pairs.map(\.prompt), model: cfg, extra: 0)
    for (i, pair) in pairs.enumerated() {
        if let bad = pair.completion.first(where: { $0 < 0 || Int($0) >= cfg.vocabSize }) {
            throw GenerationError.tokenOutOfRange(index: i, token: bad, vocabSize: cfg.vocabSize)
        }
    }
    try validateSequences(pairs.map { $0.prompt + $0.completion.dropLast() }, model: cfg, extra: 0)
    var out: [[Float]] = []
    out.reserveCapacity(pairs.count)
    var start = 0
    while start < pairs.count {
        let end = Swift.min(start + batchSize, pairs.count)
        out += try scoreBatch(model: model, pairs: Array(pairs[start..<end]), firstIndex: start, chunkRows: chunkRows)
        progress?(end, pairs.count)
        start = end
    }
    return out
}

/// One padded batch of ``logProbs(model:pairs:batchSize:chunkRows:progress:)`` (validated pairs).
private func scoreBatch(model: CausalLM, pairs: [(prompt: [Int32], completion: [Int32])], firstIndex: Int,
                        chunkRows: Int) throws -> [[Float]] {
    let cfg = model.config
    let b = pairs.count
    let p = pairs.map(\.prompt.count).max() ?? 0
    let cm = pairs.map(\.completion.count).max() ?? 0
    guard b > 0, cm > 0 else { return pairs.map { _ in [] } }
    // Columns 0..<P hold the left-padded prompt, P..<P+Cmax-1 all but the last completion
    // token (the last one is only predicted, never fed).
    let t = p + cm - 1
    if let window = cfg.slidingWindow, t > window {
        throw GenerationError.tooLong(index: firstIndex, tokens: t, limit: window,
                                      reason: "sliding window; a batch is padded to its longest prompt and completion")
    }
    let batch = CompletionBatch(pairs: pairs, padId: Int32(cfg.padTokenId ?? 0))
    let scores: [Float] = noGrad { model.completionTokenLogProbs(batch, chunkRows: chunkRows).scalars() }  // (B, Cmax)
    return pairs.enumerated().map { row, pair in Array(scores[(row * cm)..<(row * cm + pair.completion.count)]) }
}
