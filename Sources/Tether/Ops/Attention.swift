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
        let plan = AttentionPlan(batch: batch, heads: heads, kvHeads: kvHeads, tq: tq, tk: tk, dim: dim,
                                 causal: causal, keyMask: keyMask, segments: segments, scale: scale)
        let out = Tensor(uninitialized: [batch, heads, tq, dim])
        let probs = withExtendedLifetime((q, k, v, out)) {
            plan.forward(q: HeadOperand(q), k: HeadOperand(k), v: HeadOperand(v), out: HeadOperand(out))
        }
        return record(out, op: "attention", inputs: [q, k, v]) { g, _ in
            let dq = Tensor(uninitialized: q.shape), dk = Tensor.zeros(k.shape), dv = Tensor.zeros(v.shape)
            let gc = g.contiguousData()
            // Operands hold raw pointers: every tensor behind one must outlive the call.
            withExtendedLifetime((gc, q, k, v, dq, dk, dv)) {
                plan.backward(g: HeadOperand(gc), q: HeadOperand(q), k: HeadOperand(k), v: HeadOperand(v),
                              probs: probs, dq: HeadOperand(dq), dk: HeadOperand(dk), dv: HeadOperand(dv))
            }
            return [dq, dk, dv]
        }
    }

    /// Causal multi-head attention over a fused projection `qkv` (B, T, 3·H·D): queries,
    /// keys and values side by side in the last dimension, as GPT-2's `c_attn` makes them.
    /// Returns (B, T, H·D), heads side by side. The same numbers as splitting `qkv`, moving
    /// heads forward and calling ``attention(q:k:v:causal:keyMask:segments:scale:)``, but
    /// the op reads and writes the projection's layout directly, so neither pass copies q,
    /// k, v or the output between layouts and the backward writes one (B, T, 3·H·D) gradient.
    public static func attention(fused qkv: Tensor, heads: Int, keyMask: Tensor? = nil,
                                 segments: IndexTensor? = nil) -> Tensor {
        precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0,
                     "attention: fused qkv must be (B, T, 3·heads·D), got \(qkv.shape) for \(heads) heads")
        let (batch, t, width) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
        let dim = width / heads
        let plan = AttentionPlan(batch: batch, heads: heads, kvHeads: heads, tq: t, tk: t, dim: dim,
                                 causal: true, keyMask: keyMask, segments: segments, scale: nil)
        let x = qkv.contiguousData()
        /// Part `part` (0: q, 1: k, 2: v) of a (B, T, 3·H·D) buffer as (B, H, T, D).
        func part(_ base: UnsafeMutablePointer<Float>, _ part: Int) -> HeadOperand {
            HeadOperand(base: base + part * width, batch: t * 3 * width, head: dim, row: 3 * width)
        }
        /// A (B, T, H·D) buffer as (B, H, T, D).
        func sideBySide(_ base: UnsafeMutablePointer<Float>) -> HeadOperand {
            HeadOperand(base: base, batch: t * width, head: dim, row: width)
        }
        let out = Tensor(uninitialized: [batch, t, width])
        // Operands hold raw pointers: every tensor behind one must outlive the call.
        let probs = withExtendedLifetime((x, out)) {
            plan.forward(q: part(x.data, 0), k: part(x.data, 1), v: part(x.data, 2), out: sideBySide(out.data))
        }
        return record(out, op: "attention", inputs: [qkv]) { g, _ in
            let dx = Tensor.zeros(qkv.shape), gc = g.contiguousData()
            withExtendedLifetime((x, gc, dx)) {
                plan.backward(g: sideBySide(gc.data), q: part(x.data, 0), k: part(x.data, 1), v: part(x.data, 2),
                              probs: probs, dq: part(dx.data, 0), dk: part(dx.data, 1), dv: part(dx.data, 2))
            }
            return [dx]
        }
    }
}

/// A (B, H, T, D) operand where it lies: element (b, h, t, d) at
/// `base[b * batch + h * head + t * row + d * column]`.
struct HeadOperand: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let batch: Int, head: Int, row: Int, column: Int

    init(base: UnsafeMutablePointer<Float>, batch: Int, head: Int, row: Int, column: Int = 1) {
        (self.base, self.batch, self.head, self.row, self.column) = (base, batch, head, row, column)
    }

    /// A rank-4 tensor's elements as they are strided (no copy).
    init(_ t: Tensor) {
        let s = t.strides
        self.init(base: t.data, batch: s[0], head: s[1], row: s[2], column: s[3])
    }

    /// The (T, D) block of batch `b`, head `h`.
    @inline(__always) func at(_ b: Int, _ h: Int) -> UnsafeMutablePointer<Float> { base + b * batch + h * head }
}

/// One attention call's sizes and masks; `forward` and `backward` work on operands in any
/// layout (a gradient's d stride must be 1).
struct AttentionPlan: @unchecked Sendable {
    let batch: Int, heads: Int, kvHeads: Int, tq: Int, tk: Int, dim: Int
    let causal: Bool
    let mask: Tensor?
    let segments: [Int32]
    let scale: Float

    init(batch: Int, heads: Int, kvHeads: Int, tq: Int, tk: Int, dim: Int, causal: Bool,
         keyMask: Tensor?, segments: IndexTensor?, scale: Float?) {
        if let keyMask { precondition(keyMask.shape == [batch, tk], "attention: keyMask \(keyMask.shape) != [\(batch), \(tk)]") }
        if let segments { precondition(segments.shape == [batch, tk], "attention: segments \(segments.shape) != [\(batch), \(tk)]") }
        (self.batch, self.heads, self.kvHeads, self.tq, self.tk, self.dim) = (batch, heads, kvHeads, tq, tk, dim)
        self.causal = causal
        mask = keyMask?.contiguousData()
        self.segments = segments?.values ?? []
        self.scale = scale ?? 1 / Float(dim).squareRoot()
    }

    /// Whether query row t of batch b may attend key j.
    @inline(__always) func allowed(_ b: Int, _ t: Int, _ j: Int) -> Bool {
        let pos = tk - tq + t
        if causal && j > pos { return false }
        if let mask, mask.data[b * tk + j] == 0 { return false }
        if !segments.isEmpty && segments[b * tk + j] != segments[b * tk + pos] { return false }
        return true
    }

    /// out = softmax(q kᵀ · scale, masked) · v, head by head; returns the probabilities (B, H, T, S).
    func forward(q: HeadOperand, k: HeadOperand, v: HeadOperand, out: HeadOperand) -> Tensor {
        let probs = Tensor(uninitialized: [batch, heads, tq, tk])
        let pp = probs.data, group = heads / kvHeads
        ThreadPool.shared.parallelFor(batch * heads) { bh in
            let (b, h) = (bh / heads, bh % heads)
            let p = pp + bh * tq * tk
            // scores (T, S) = q (T, D) · kᵀ (D, S)
            Gemm.sgemm(m: tq, n: tk, k: dim, a: q.at(b, h), rowStrideA: q.row, colStrideA: q.column,
                       b: k.at(b, h / group), rowStrideB: k.column, colStrideB: k.row, c: p, ldc: tk,
                       accumulate: false, parallel: false)
            for t in 0..<tq {
                let row = p + t * tk
                for j in 0..<tk { row[j] = allowed(b, t, j) ? row[j] * scale : -.infinity }
            }
            tk_softmax_rows(Int64(tq), Int64(tk), p, p)
            // out (T, D) = probs (T, S) · v (S, D)
            Gemm.sgemm(m: tq, n: dim, k: tk, a: p, rowStrideA: tk, colStrideA: 1,
                       b: v.at(b, h / group), rowStrideB: v.row, colStrideB: v.column, c: out.at(b, h),
                       ldc: out.row, accumulate: false, parallel: false)
        }
        return probs
    }

    /// dq (written), dk and dv (added to) from the output's gradient g.
    func backward(g: HeadOperand, q: HeadOperand, k: HeadOperand, v: HeadOperand, probs: Tensor,
                  dq: HeadOperand, dk: HeadOperand, dv: HeadOperand) {
        precondition([g, dq, dk, dv].allSatisfy { $0.column == 1 }, "attention backward: gradients need d stride 1")
        let pp = probs.data, group = heads / kvHeads
        // One task per kv head: the query heads of a group add into the same dK, dV.
        ThreadPool.shared.parallelFor(batch * kvHeads) { bkh in
            let (b, kh) = (bkh / kvHeads, bkh % kvHeads)
            let kb = k.at(b, kh), vb = v.at(b, kh), dkb = dk.at(b, kh), dvb = dv.at(b, kh)
            let dp = UnsafeMutablePointer<Float>.allocate(capacity: tq * tk)
            defer { dp.deallocate() }
            for h in (kh * group)..<((kh + 1) * group) {
                let p = pp + (b * heads + h) * tq * tk
                let gb = g.at(b, h), qb = q.at(b, h)
                // dP (T, S) = dO (T, D) · vᵀ (D, S)
                Gemm.sgemm(m: tq, n: tk, k: dim, a: gb, rowStrideA: g.row, colStrideA: 1,
                           b: vb, rowStrideB: v.column, colStrideB: v.row, c: dp, ldc: tk,
                           accumulate: false, parallel: false)
                // dV (S, D) += Pᵀ (S, T) · dO (T, D)
                Gemm.sgemm(m: tk, n: dim, k: tq, a: p, rowStrideA: 1, colStrideA: tk,
                           b: gb, rowStrideB: g.row, colStrideB: 1, c: dvb, ldc: dv.row,
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
                           b: kb, rowStrideB: k.row, colStrideB: k.column, c: dq.at(b, h), ldc: dq.row,
                           accumulate: false, parallel: false)
                // dK (S, D) += dSᵀ (S, T) · q (T, D)
                Gemm.sgemm(m: tk, n: dim, k: tq, a: dp, rowStrideA: 1, colStrideA: tk,
                           b: qb, rowStrideB: q.row, colStrideB: q.column, c: dkb, ldc: dk.row,
                           accumulate: true, parallel: false)
            }
        }
    }
}
