import Tether

/// Prompt/completion pairs laid out for teacher forcing as TRL lays them out: prompts left-padded to the longest,
/// completions right-padded after them, so every completion starts at the same column.
public struct CompletionBatch: Sendable {
    /// (B, T) ids, T = P + Cmax − 1 (the last completion token is only predicted, never fed); pads hold `padId`.
    public var ids: IndexTensor
    /// (B, T) 1 for real tokens, 0 for pads; nil when no row is padded.
    public var attentionMask: Tensor?
    /// (B, Cmax) completion tokens to score (pads: 0).
    public var targets: IndexTensor
    /// (B, Cmax) 1 where `targets` holds a real completion token.
    public var targetMask: Tensor
    /// The prompt width P: the completion of every row starts at column P.
    public var promptWidth: Int
    /// Per row, the completion's length.
    public var completionLengths: [Int]

    /// Lays out `pairs` (non-empty prompts; some completion non-empty) with `padId` at pad positions.
    public init(pairs: [(prompt: [Int32], completion: [Int32])], padId: Int32 = 0) {
        precondition(!pairs.isEmpty, "CompletionBatch: no pairs")
        let b = pairs.count
        let p = pairs.map(\.prompt.count).max()!
        let cm = pairs.map(\.completion.count).max()!
        precondition(pairs.allSatisfy { !$0.prompt.isEmpty } && cm > 0,
                     "CompletionBatch: every prompt must be non-empty and some completion too")
        let t = p + cm - 1
        var ids = [Int32](repeating: padId, count: b * t)
        var mask = [Float](repeating: 0, count: b * t)
        var targets = [Int32](repeating: 0, count: b * cm)
        var targetMask = [Float](repeating: 0, count: b * cm)
        for (row, pair) in pairs.enumerated() {
            let start = p - pair.prompt.count
            for (j, tok) in pair.prompt.enumerated() {
                ids[row * t + start + j] = tok
                mask[row * t + start + j] = 1
            }
            for (j, tok) in pair.completion.enumerated() {
                targets[row * cm + j] = tok
                targetMask[row * cm + j] = 1
                if j < pair.completion.count - 1 {
                    ids[row * t + p + j] = tok
                    mask[row * t + p + j] = 1
                }
            }
        }
        self.ids = IndexTensor(ids, shape: [b, t])
        attentionMask = mask.contains(0) ? Tensor(mask, shape: [b, t]) : nil
        self.targets = IndexTensor(targets, shape: [b, cm])
        self.targetMask = Tensor(targetMask, shape: [b, cm])
        promptWidth = p
        completionLengths = pairs.map(\.completion.count)
    }

    /// Rows in the batch.
    public var count: Int { completionLengths.count }
    /// Real (non-pad) input tokens.
    public var inputTokens: Int { attentionMask.map { Int($0.scalars().reduce(0, +)) } ?? ids.count }
}

/// How per-token log-probs become one number per sequence.
public enum SequenceReduction: String, Sendable, Codable, CaseIterable {
    /// Σ log p over the completion (DPO, KTO, IPO in the paper).
    case sum
    /// (Σ log p) / length (SimPO, ORPO: length-normalised).
    case mean
}

extension CausalLM {
    /// log p(completion token | everything before it) for each completion position: (B, Cmax), with autograd; pad
    /// positions hold the log-prob of token 0 and must be masked with `batch.targetMask`.
    ///
    /// The one teacher-forcing path of the LM stack: the evaluator (``logProbs(model:pairs:batchSize:chunkRows:progress:)``),
    /// the samplers' checks and every preference trainer score completions through it, so they cannot disagree.
    public func completionTokenLogProbs(_ batch: CompletionBatch, chunkRows: Int = 512) -> Tensor {
        let t = batch.ids.shape[1]
        let hidden = self.hidden(batch.ids, attentionMask: batch.attentionMask)              // (B, T, C)
        let predicting = hidden.slice(axis: 1, (batch.promptWidth - 1)..<t)                  // (B, Cmax, C)
        return tokenLogProbs(hidden: predicting, tokens: batch.targets, chunkRows: chunkRows) // (B, Cmax)
    }

    /// Sequence log-probs of each row's completion, summed or length-normalised: (B), with autograd.
    public func sequenceLogProbs(_ batch: CompletionBatch, reduction: SequenceReduction = .sum, chunkRows: Int = 512) -> Tensor {
        let summed = (completionTokenLogProbs(batch, chunkRows: chunkRows) * batch.targetMask).sum(axis: 1)  // (B)
        switch reduction {
        case .sum: return summed
        case .mean:
            precondition(!batch.completionLengths.contains(0), "sequenceLogProbs: a mean over an empty completion")
            return summed / Tensor(batch.completionLengths.map(Float.init), shape: [batch.count])
        }
    }
}
