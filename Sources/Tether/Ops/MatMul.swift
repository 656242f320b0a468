/// Matrix products: `matmul` (2-D, broadcast-left and batched) and the fused `linear`.
/// Transposed operands are strided views, read in place by the GEMM's packing.
extension Tensor {
    /// Row and column strides of a 2-D view, or nil if this is not rank 2.
    private var matrixStrides: (row: Int, col: Int) { (strides[rank - 2], strides[rank - 1]) }

    /// out (M, N) = a (M, K) · b (K, N), both 2-D views of any strides.
    static func gemm2D(_ a: Tensor, _ b: Tensor, into out: Tensor, accumulate: Bool = false) {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        Gemm.sgemm(m: m, n: n, k: k,
                   a: a.data, rowStrideA: a.strides[0], colStrideA: a.strides[1],
                   b: b.data, rowStrideB: b.strides[0], colStrideB: b.strides[1],
                   c: out.data, ldc: n, accumulate: accumulate)
    }

    /// Matrix product. Shapes: (M, K)·(K, N) -> (M, N); (..., M, K)·(K, N) -> (..., M, N);
    /// (B..., M, K)·(B..., K, N) -> (B..., M, N) with equal batch dimensions.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2, "matmul needs rank >= 2, got \(shape) and \(other.shape)")
        let k = shape[rank - 1]
        precondition(other.shape[other.rank - 2] == k, "matmul: inner dimensions differ in \(shape) · \(other.shape)")
        let n = other.shape[other.rank - 1]
        if other.rank == 2 {
            // Fold leading dimensions of self into rows (a view when possible).
            let a2 = rank == 2 ? self : noGrad { self.reshape([-1, k]) }
            let out = Tensor(uninitialized: Array(shape.dropLast()) + [n])
            Tensor.gemm2D(a2, other, into: out.reshape([-1, n]))
            let a = self, b = other
            return Tensor.record(out, op: "matmul", inputs: [a, b]) { g, _ in
                let ga = a.requiresGrad ? g.matmul(b.transpose()) : nil
                let gb = b.requiresGrad ? a.reshape([-1, k]).transpose().matmul(g.reshape([-1, n])) : nil
                return [ga, gb]
            }
        }
        precondition(Array(shape.dropLast(2)) == Array(other.shape.dropLast(2)),
                     "matmul: batch dimensions differ in \(shape) · \(other.shape)")
        let m = shape[rank - 2]
        let batchShape = Array(shape.dropLast(2))
        let out = Tensor(uninitialized: batchShape + [m, n])
        let pa = data, pb = other.data, po = out.data
        let (ra, ca) = matrixStrides, (rb, cb) = other.matrixStrides
        let offsets = Strided.offsets(shape: batchShape, strides: [strides, other.strides])
        let small = m * n * k < 1 << 18
        let run = { (i: Int) in
            Gemm.sgemm(m: m, n: n, k: k, a: pa + offsets[i].0, rowStrideA: ra, colStrideA: ca,
                       b: pb + offsets[i].1, rowStrideB: rb, colStrideB: cb,
                       c: po + i * m * n, ldc: n, accumulate: false, parallel: !small)
        }
        if small { ThreadPool.shared.parallelFor(offsets.count, run) } else { offsets.indices.forEach(run) }
        let a = self, b = other
        return Tensor.record(out, op: "bmm", inputs: [a, b]) { g, _ in
            [a.requiresGrad ? g.matmul(b.transpose()) : nil,
             b.requiresGrad ? a.transpose().matmul(g) : nil]
        }
    }

    /// x (..., in) · weightᵀ + bias, with weight (out, in) and bias (out): a dense layer.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let inF = weight.shape[1], outF = weight.shape[0]
        precondition(weight.rank == 2 && x.shape.last == inF,
                     "linear: input \(x.shape) does not match weight \(weight.shape)")
        if let bias { precondition(bias.shape == [outF], "linear: bias \(bias.shape) != [\(outF)]") }
        let x2 = noGrad { x.reshape([-1, inF]) }
        let rows = x2.shape[0]
        let out = Tensor(uninitialized: Array(x.shape.dropLast()) + [outF])
        if let bias {
            let pb = bias.contiguousData().data, po = out.data
            for r in 0..<rows { (po + r * outF).update(from: pb, count: outF) }
        }
        let wt = weight.transpose()                                   // (in, out), a view
        if let cache = WeightPackCache.current, rows > 0, inF > 0, outF > 0,
           !Gemm.usesDotPath(m: rows, k: inF, colStrideA: x2.strides[1], rowStrideB: wt.strides[0]) {
            // Decoding inside a cache scope: the weight is packed once, not every step.
            Gemm.sgemm(m: rows, a: x2.data, rowStrideA: x2.strides[0], colStrideA: x2.strides[1],
                       packedB: cache.packed(wt), c: out.data, ldc: outF, accumulate: bias != nil)
        } else {
            gemm2D(x2, wt, into: out.reshape([rows, outF]), accumulate: bias != nil)
        }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return record(out, op: "linear", inputs: inputs) { g, _ in
            let g2 = g.reshape([rows, outF])
            var grads: [Tensor?] = [
                x.requiresGrad ? g.matmul(weight) : nil,              // (..., out)·(out, in)
                weight.requiresGrad ? g2.transpose().matmul(x2) : nil, // (out, rows)·(rows, in)
            ]
            if bias != nil { grads.append(g2.sum(axis: 0)) }
            return grads
        }
    }
}
