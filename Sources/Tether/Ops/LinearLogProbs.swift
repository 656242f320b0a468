/// The LM head and the token log-prob in one op, a chunk of rows at a time, so the
/// (rows × vocab) logits never exist in full — not in the forward pass and not in the
/// backward pass, which recomputes each chunk's logits instead of keeping them.
extension Tensor {
    /// log softmax(hidden · weightᵀ)[token] per row: hidden (N, C), weight (V, C),
    /// tokens (N) → (N). Peak extra memory is `chunkRows × V` floats.
    public static func linearTokenLogProbs(hidden: Tensor, weight: Tensor, tokens: IndexTensor,
                                           chunkRows: Int = 256) -> Tensor {
        precondition(hidden.rank == 2 && weight.rank == 2 && hidden.shape[1] == weight.shape[1]
                     && tokens.shape == [hidden.shape[0]],
                     "linearTokenLogProbs: hidden \(hidden.shape), weight \(weight.shape), tokens \(tokens.shape) must be (N, C), (V, C), (N)")
        precondition(chunkRows > 0, "linearTokenLogProbs: chunkRows must be positive")
        let (rows, vocab) = (hidden.shape[0], weight.shape[0])
        let chunks = stride(from: 0, to: rows, by: chunkRows).map { $0..<Swift.min($0 + chunkRows, rows) }
        let wT = weight.transpose()                                   // (C, V) view
        let out = Tensor(uninitialized: [rows])
        var lse = [Float](repeating: 0, count: rows)
        let logits = Tensor(uninitialized: [Swift.min(chunkRows, Swift.max(rows, 1)), vocab])  // reused scratch

        /// Fills `logits` with the chunk's logits and returns a (n, V) view of them.
        func chunkLogits(_ r: Range<Int>) -> Tensor {
            let view = logits.slice(axis: 0, 0..<r.count)
            gemm2D(hidden.slice(axis: 0, r).detach(), wT.detach(), into: view)
            return view
        }

        noGrad {
            for r in chunks {
                let ids = IndexTensor(Array(tokens.values[r]), shape: [r.count])
                let (logp, chunkLSE) = pickLogProbs(chunkLogits(r), ids, ignoreIndex: nil)
                (out.data + r.lowerBound).update(from: logp.data, count: r.count)
                lse.replaceSubrange(r, with: chunkLSE)
            }
        }
        return record(out, op: "linearTokenLogProbs", inputs: [hidden, weight]) { g, _ in
            let gc = g.contiguousData()
            let dHidden = Tensor(uninitialized: hidden.shape)
            let dWeight = Tensor.zeros(weight.shape)
            for r in chunks {
                let ids = IndexTensor(Array(tokens.values[r]), shape: [r.count])
                let weights = Tensor(Array(UnsafeBufferPointer(start: gc.data + r.lowerBound, count: r.count)), shape: [r.count])
                // dlogits (n, V) = g_i (onehot_i - softmax_i)
                let dLogits = logProbGradient(chunkLogits(r), ids, lse: Array(lse[r]), rowWeights: weights, ignoreIndex: nil)
                gemm2D(dLogits, weight.detach(), into: dHidden.slice(axis: 0, r))           // (n, V)·(V, C)
                gemm2D(dLogits.transpose(), hidden.slice(axis: 0, r).detach(), into: dWeight, accumulate: true)  // (V, n)·(n, C)
            }
            return [dHidden, dWeight]
        }
    }
}
