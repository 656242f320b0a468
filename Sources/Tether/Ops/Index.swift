/// Ops driven by indices or masks: embedding lookup (scatter-add gradient), where, maskedFill.
extension Tensor {
    /// Rows of `weight` (V, D) picked by `ids` (S): shape S + [D].
    public static func embedding(_ weight: Tensor, _ ids: IndexTensor) -> Tensor {
        precondition(weight.rank == 2, "embedding weight must be (V, D), got \(weight.shape)")
        let (vocab, dim) = (weight.shape[0], weight.shape[1])
        let w = weight.contiguousData()
        let out = Tensor(uninitialized: ids.shape + [dim])
        let pw = w.data, po = out.data
        ids.values.withUnsafeBufferPointer { idx in
            for (i, t) in idx.enumerated() {
                precondition(t >= 0 && Int(t) < vocab, "embedding: id \(t) at position \(i) out of range 0..<\(vocab)")
                (po + i * dim).update(from: pw + Int(t) * dim, count: dim)
            }
        }
        return record(out, op: "embedding", inputs: [weight]) { g, _ in
            // Scatter-add: a token that appears twice gets both rows of gradient.
            let gc = g.contiguousData()
            let dw = Tensor.zeros([vocab, dim])
            let pg = gc.data, pd = dw.data
            for (i, t) in ids.values.enumerated() {
                let src = pg + i * dim, dst = pd + Int(t) * dim
                for j in 0..<dim { dst[j] += src[j] }
            }
            return [dw]
        }
    }

    /// Element-wise `condition ? a : b` with broadcasting; `condition` is a 0/1 mask.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Shape.broadcast(Shape.broadcast(condition.shape, a.shape), b.shape)
        let out = Tensor(uninitialized: shape)
        let pc = condition.data, pa = a.data, pb = b.data, po = out.data
        let strides = [condition.broadcastStrides(to: shape), a.broadcastStrides(to: shape),
                       b.broadcastStrides(to: shape), out.strides]
        Strided.forEachRow(shape: shape, strides: strides) { off, n, st in
            for j in 0..<n {
                po[off[3] + j] = pc[off[0] + j * st[0]] != 0 ? pa[off[1] + j * st[1]] : pb[off[2] + j * st[2]]
            }
        }
        return record(out, op: "where", inputs: [a, b]) { g, _ in
            let keep = condition.compare(.notEqual, 0)
            return [(g * keep).sum(toShape: a.shape), (g * (1 - keep)).sum(toShape: b.shape)]
        }
    }

    /// This tensor with `value` wherever `mask` (0/1, broadcastable) is 1.
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        Tensor.where(mask, Tensor(scalar: value), self)
    }
}
