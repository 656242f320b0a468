import CTetherKernels

/// Softmax, log-softmax and log-sum-exp along an axis, with max-subtraction for stability.
extension Tensor {
    /// Applies a last-axis op `f` along `axis` by permuting that axis last (and back).
    func alongLastAxis(_ axis: Int, keepsAxis: Bool, _ f: (Tensor) -> Tensor) -> Tensor {
        let a = Shape.axis(axis, rank: rank)
        if a == rank - 1 { return f(self) }
        var order = Array(0..<rank)
        order.remove(at: a)
        order.append(a)
        let result = f(permute(order))
        guard keepsAxis else { return result }
        var inverse = order
        for (i, o) in order.enumerated() { inverse[o] = i }
        return result.permute(inverse)
    }

    /// Runs a C row kernel over the last axis of `x` (made contiguous) into `out`.
    static func rowKernel(_ x: Tensor, outCount: (Int) -> Int, into out: Tensor,
                          _ kernel: (Int64, Int64, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let xc = x.contiguousData()
        let cols = Swift.max(x.shape.last ?? 1, 1)
        let rows = x.count / cols
        let px = xc.data, po = out.data
        let perRow = outCount(cols)
        ThreadPool.shared.parallelRanges(rows, grain: Swift.max(1, parallelElementwiseGrain / cols)) { r in
            kernel(Int64(r.count), Int64(cols), px + r.lowerBound * cols, po + r.lowerBound * perRow)
        }
    }

    /// softmax(x) along `axis`: exp(x - max) / sum.
    public func softmax(axis: Int = -1) -> Tensor {
        alongLastAxis(axis, keepsAxis: true) { x in
            let y = Tensor(uninitialized: x.shape)
            Tensor.rowKernel(x, outCount: { $0 }, into: y, tk_softmax_rows)
            return Tensor.record(y, op: "softmax", inputs: [x]) { g, y in
                [y * (g - (g * y).sum(axis: -1, keepDim: true))]  // y ⊙ (g - Σ g⊙y)
            }
        }
    }

    /// log softmax(x) along `axis`: x - logsumexp(x).
    public func logSoftmax(axis: Int = -1) -> Tensor {
        alongLastAxis(axis, keepsAxis: true) { x in
            // (x - max) - log Σ exp(x - max): subtracting the max first keeps the result
            // exact for large logits, where x - logsumexp(x) would lose float bits.
            let y = Tensor(uninitialized: x.shape)
            Tensor.rowKernel(x, outCount: { $0 }, into: y) { rows, cols, px, py in
                for r in 0..<Int(rows) {
                    let xr = px + r * Int(cols), yr = py + r * Int(cols)
                    var m = -Float.infinity
                    for j in 0..<Int(cols) { m = Swift.max(m, xr[j]) }
                    if m == -.infinity { m = 0 }
                    for j in 0..<Int(cols) { yr[j] = xr[j] - m }
                    var lse: Float = 0
                    tk_logsumexp_rows(1, cols, yr, &lse)
                    for j in 0..<Int(cols) { yr[j] -= lse }
                }
            }
            return Tensor.record(y, op: "logSoftmax", inputs: [x]) { g, y in
                [g - y.exp() * g.sum(axis: -1, keepDim: true)]  // g - softmax · Σ g
            }
        }
    }

    /// log Σ exp(x) along `axis`.
    public func logSumExp(axis: Int = -1, keepDim: Bool = false) -> Tensor {
        let result = alongLastAxis(axis, keepsAxis: false) { x in
            let lse = Tensor(uninitialized: Array(x.shape.dropLast()))
            Tensor.rowKernel(x, outCount: { _ in 1 }, into: lse, tk_logsumexp_rows)
            return Tensor.record(lse, op: "logSumExp", inputs: [x]) { g, lse in
                [g.unsqueeze(-1) * (x - lse.unsqueeze(-1)).exp()]  // g · softmax(x)
            }
        }
        return keepDim ? result.unsqueeze(Shape.axis(axis, rank: rank)) : result
    }
}
