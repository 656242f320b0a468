import CTetherKernels

/// How a per-element loss is reduced.
public enum LossReduction: Sendable {
    /// Mean over the counted (not ignored) elements.
    case mean
    /// Sum over the counted elements.
    case sum
    /// One value per element (ignored ones are 0).
    case none
}

/// Fused log-softmax + gather: token log-probs and cross-entropy that never
/// materialise the probabilities in the forward pass.
extension Tensor {
    /// log p(token) for each row of logits (..., V), and each row's log-sum-exp.
    /// Rows whose token is `ignoreIndex` get 0.
    static func pickLogProbs(_ logits: Tensor, _ tokens: IndexTensor,
                                     ignoreIndex: Int32?) -> (logp: Tensor, lse: [Float]) {
        let vocab = logits.shape.last!
        precondition(Array(logits.shape.dropLast()) == tokens.shape,
                     "logits \(logits.shape) do not match tokens \(tokens.shape)")
        let x = logits.contiguousData()
        let rows = tokens.count
        let logp = Tensor(uninitialized: tokens.shape)
        var lse = [Float](repeating: 0, count: rows)
        let px = x.data, pl = logp.data
        tokens.values.withUnsafeBufferPointer { ids in
            lse.withUnsafeMutableBufferPointer { plse in
                ThreadPool.shared.parallelRanges(rows, grain: Swift.max(1, parallelElementwiseGrain / vocab)) { r in
                    for i in r {
                        let t = ids[i]
                        if t == ignoreIndex { pl[i] = 0; continue }
                        precondition(t >= 0 && Int(t) < vocab, "token id \(t) out of range 0..<\(vocab) at row \(i)")
                        tk_logsumexp_rows(1, Int64(vocab), px + i * vocab, plse.baseAddress! + i)
                        pl[i] = px[i * vocab + Int(t)] - plse[i]
                    }
                }
            }
        }
        return (logp, lse)
    }

    /// d/dlogits of Σ w_i · log p(token_i): w_i (onehot_i - softmax_i), computed row by row.
    static func logProbGradient(_ logits: Tensor, _ tokens: IndexTensor, lse: [Float],
                                        rowWeights: Tensor, ignoreIndex: Int32?) -> Tensor {
        let vocab = logits.shape.last!
        let x = logits.contiguousData()
        let w = rowWeights.contiguousData()
        let dx = Tensor(uninitialized: logits.shape)
        let px = x.data, pd = dx.data, pw = w.data
        tokens.values.withUnsafeBufferPointer { ids in
            lse.withUnsafeBufferPointer { plse in
                ThreadPool.shared.parallelRanges(tokens.count, grain: Swift.max(1, parallelElementwiseGrain / vocab)) { r in
                    for i in r {
                        let row = pd + i * vocab
                        let t = ids[i]
                        if t == ignoreIndex || pw[i] == 0 {
                            row.update(repeating: 0, count: vocab)
                            continue
                        }
                        let shift = -plse[i]
                        for j in 0..<vocab { row[j] = px[i * vocab + j] + shift }
                        tk_vexp(Int64(vocab), row, row)
                        let wi = pw[i]
                        for j in 0..<vocab { row[j] *= -wi }
                        row[Int(t)] += wi
                    }
                }
            }
        }
        return dx
    }

    /// log p(token) under softmax(logits) for logits (..., V) and tokens (...): shape (...).
    public static func tokenLogProbs(logits: Tensor, tokens: IndexTensor) -> Tensor {
        let (logp, lse) = pickLogProbs(logits, tokens, ignoreIndex: nil)
        return record(logp, op: "tokenLogProbs", inputs: [logits]) { g, _ in
            [logProbGradient(logits, tokens, lse: lse, rowWeights: g, ignoreIndex: nil)]
        }
    }

    /// Cross-entropy of logits (..., V) against target ids (...), skipping `ignoreIndex`.
    public static func crossEntropy(logits: Tensor, targets: IndexTensor, ignoreIndex: Int32 = -100,
                                    reduction: LossReduction = .mean) -> Tensor {
        let (logp, lse) = pickLogProbs(logits, targets, ignoreIndex: ignoreIndex)
        let counted = targets.values.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
        let perToken = Tensor.binaryForward(logp, Tensor(scalar: -1), .mul)
        let total = perToken.scalars().reduce(0.0) { $0 + Double($1) }  // accumulate in Double
        let out: Tensor
        switch reduction {
        case .none: out = perToken
        case .sum: out = Tensor(scalar: Float(total))
        case .mean: out = Tensor(scalar: counted == 0 ? 0 : Float(total / Double(counted)))
        }
        return record(out, op: "crossEntropy", inputs: [logits]) { g, _ in
            // d(-log p)/dlogits = softmax - onehot = -(onehot - softmax), weighted per row.
            let weights: Tensor
            switch reduction {
            case .none: weights = -g
            case .sum: weights = Tensor.full(targets.shape, -g.item)
            case .mean: weights = Tensor.full(targets.shape, counted == 0 ? 0 : -g.item / Float(counted))
            }
            return [logProbGradient(logits, targets, lse: lse, rowWeights: weights, ignoreIndex: ignoreIndex)]
        }
    }
}
