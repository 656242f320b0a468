import CTetherKernels

/// Fused scaled-dot-product attention: scores, masking, softmax and the value product in
/// one op, with a hand-written backward (the probabilities are kept for it).
extension Tensor {
    /// Attention of queries q (B, H, T, D) over keys k and values v (B, Hkv, S, D).
    ///
    /// - H must be a multiple of Hkv (grouped-query attention shares each kv head).
    /// - T ≤ S: query t sits at position S - T + t (a KV cache holds the first S - T).
    /// - `causal`: query at position i sees keys j ≤ i.
    /// - `keyMask`: (B, S), 0 marks padding keys that are never attended.
    /// - `segments`: (B, S) ids; a query sees only keys of its own segment (packed sequences).
    /// - Returns (B, H, T, D). A query that can see no key gets zeros.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, causal: Bool = true,
                                 keyMask: Tensor? = nil, segments: IndexTensor? = nil,
                                 scale: Float? = nil) -> Tensor {
        precondition(q.rank == 4 && k.rank == 4 && v.rank == 4, "attention: q, k, v must be rank 4, got \(q.shape) \(k.shape) \(v.shape)")
        let (batch, heads, tq, dim) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (kvHeads, tk) = (k.shape[1], k.shape[2])
        precondition(k.shape == v.shape && k.shape[0] == batch && k.shape[3] == dim && heads % kvHeads == 0 && tq <= tk,
                     "attention: incompatible q \(q.shape), k \(k.shape), v \(v.shape)")
        if let keyMask { precondition(keyMask.shape == [batch, tk], "attention: keyMask \(keyMask.shape) != [\(batch), \(tk)]") }
        if let segments { precondition(segments.shape == [batch, tk], "attention: segments \(segments.shape) != [\(batch), \(tk)]") }
        let group = heads / kvHeads
        let scale = scale ?? 1 / Float(dim).squareRoot()
        let mask = keyMask?.contiguousData()

        let out = Tensor(uninitialized: [batch, heads, tq, dim])
        let probs = Tensor(uninitialized: [batch, heads, tq, tk])
        let pq = q.data, pk = k.data, pv = v.data, po = out.data, pp = probs.data
        let (qs, ks, vs) = (q.strides, k.strides, v.strides)
        let segs = segments?.values ?? []

        /// Whether query row t of batch b may attend key j.
        @inline(__always) func allowed(_ b: Int, _ t: Int, _ j: Int) -> Bool {
            let pos = tk - tq + t
            if causal && j > pos { return false }
            if let mask, mask.data[b * tk + j] == 0 { return false }
            if !segs.isEmpty && segs[b * tk + j] != segs[b * tk + pos] { return false }
            return true
        }

        ThreadPool.shared.parallelFor(batch * heads) { bh in
            let (b, h) = (bh / heads, bh % heads)
            let kh = h / group
            let qb = pq + b * qs[0] + h * qs[1], kb = pk + b * ks[0] + kh * ks[1], vb = pv + b * vs[0] + kh * vs[1]
            let p = pp + bh * tq * tk
            // scores (T, S) = q (T, D) · kᵀ (D, S)
            Gemm.sgemm(m: tq, n: tk, k: dim, a: qb, rowStrideA: qs[2], colStrideA: qs[3],
                       b: kb, rowStrideB: ks[3], colStrideB: ks[2], c: p, ldc: tk, accumulate: false, parallel: false)
            for t in 0..<tq {
                let row = p + t * tk
                for j in 0..<tk { row[j] = allowed(b, t, j) ? row[j] * scale : -.infinity }
            }
            tk_softmax_rows(Int64(tq), Int64(tk), p, p)
            // out (T, D) = probs (T, S) · v (S, D)
            Gemm.sgemm(m: tq, n: dim, k: tk, a: p, rowStrideA: tk, colStrideA: 1,
                       b: vb, rowStrideB: vs[2], colStrideB: vs[3], c: po + bh * tq * dim, ldc: dim,
                       accumulate: false, parallel: false)
        }

        return record(out, op: "attention", inputs: [q, k, v]) { [probs] g, _ in
            let go = g.contiguousData()
            let dq = Tensor(uninitialized: q.shape)
            let dk = Tensor.zeros(k.shape), dv = Tensor.zeros(v.shape)
            let pg = go.data, pdq = dq.data, pdk = dk.data, pdv = dv.data, pp = probs.data
            // One task per kv head: the query heads of a group add into the same dK, dV.
            ThreadPool.shared.parallelFor(batch * kvHeads) { bkh in
                let (b, kh) = (bkh / kvHeads, bkh % kvHeads)
                let kb = pk + b * ks[0] + kh * ks[1], vb = pv + b * vs[0] + kh * vs[1]
                let dkb = pdk + bkh * tk * dim, dvb = pdv + bkh * tk * dim
                let dp = UnsafeMutablePointer<Float>.allocate(capacity: tq * tk)
                defer { dp.deallocate() }
                for h in (kh * group)..<((kh + 1) * group) {
                    let bh = b * heads + h
                    let qb = pq + b * qs[0] + h * qs[1], p = pp + bh * tq * tk
                    let gb = pg + bh * tq * dim
                    // dP (T, S) = dO (T, D) · vᵀ (D, S)
                    Gemm.sgemm(m: tq, n: tk, k: dim, a: gb, rowStrideA: dim, colStrideA: 1,
                               b: vb, rowStrideB: vs[3], colStrideB: vs[2], c: dp, ldc: tk,
                               accumulate: false, parallel: false)
                    // dV (S, D) += Pᵀ (S, T) · dO (T, D)
                    Gemm.sgemm(m: tk, n: dim, k: tq, a: p, rowStrideA: 1, colStrideA: tk,
                               b: gb, rowStrideB: dim, colStrideB: 1, c: dvb, ldc: dim,
                               accumulate: true, parallel: false)
                    // dS = scale · P ⊙ (dP - Σ_j dP P), in place in dp
                    for t in 0..<tq {
                        let pr = p + t * tk, dr = dp + t * tk
                        var dot: Float = 0
                        for j in 0..<tk { dot += pr[j] * dr[j] }
                        for j in 0..<tk { dr[j] = scale * pr[j] * (dr[j] - dot) }
                    }
                    // dQ (T, D) = dS (T, S) · k (S, D)
                    Gemm.sgemm(m: tq, n: dim, k: tk, a: dp, rowStrideA: tk, colStrideA: 1,
                               b: kb, rowStrideB: ks[2], colStrideB: ks[3], c: pdq + bh * tq * dim, ldc: dim,
                               accumulate: false, parallel: false)
                    // dK (S, D) += dSᵀ (S, T) · q (T, D)
                    Gemm.sgemm(m: tk, n: dim, k: tq, a: dp, rowStrideA: 1, colStrideA: tk,
                               b: qb, rowStrideB: qs[2], colStrideB: qs[3], c: dkb, ldc: dim,
                               accumulate: true, parallel: false)
                }
            }
            return [dq, dk, dv]
        }
    }
}
