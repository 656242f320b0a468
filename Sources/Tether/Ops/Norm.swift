import CTetherKernels

/// LayerNorm and RMSNorm over the last axis, fused: one pass forward, one pass backward.
public enum NormKind: Sendable {
    /// (x - mean) / sqrt(var + eps) · w + b
    case layer
    /// x / sqrt(mean(x²) + eps) · w
    case rms
}

extension Tensor {
    /// LayerNorm over the last axis with optional affine weight and bias (shape [C]).
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        normalize(.layer, weight: weight, bias: bias, eps: eps)
    }

    /// RMSNorm over the last axis with optional weight (shape [C]).
    public func rmsNorm(weight: Tensor?, eps: Float = 1e-6) -> Tensor {
        normalize(.rms, weight: weight, bias: nil, eps: eps)
    }

    func normalize(_ kind: NormKind, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        let c = shape.last!
        for p in [weight, bias].compactMap({ $0 }) {
            precondition(p.shape == [c], "\(kind) norm: parameter \(p.shape) does not match last dim of \(shape)")
        }
        let x = contiguousData()
        let rows = count / Swift.max(c, 1)
        let out = Tensor(uninitialized: shape)
        let mean = Tensor(uninitialized: [rows]), rstd = Tensor(uninitialized: [rows])
        let w = weight?.contiguousData(), b = bias?.contiguousData()
        let px = x.data, po = out.data, pm = mean.data, pr = rstd.data
        let pw = w?.data, pb = b?.data
        ThreadPool.shared.parallelRanges(rows, grain: Swift.max(1, parallelElementwiseGrain / Swift.max(c, 1))) { range in
            // (rows, C) -> (rows, C), plus mean and rstd per row for the backward.
            let r = range.lowerBound
            tk_norm_rows(Int64(range.count), Int64(c), px + r * c, pw, pb, eps, kind == .rms ? 1 : 0,
                         po + r * c, pm + r, pr + r)
        }
        let inputs = [self] + [weight, bias].compactMap { $0 }
        return Tensor.record(out, op: "\(kind)Norm", inputs: inputs) { [x, mean, rstd, w] g, _ in
            let gc = g.contiguousData()
            let dx = Tensor(uninitialized: x.shape)
            let pg = gc.data, pdx = dx.data, px = x.data, pm = mean.data, pr = rstd.data, pw = w?.data
            // Per-row partial sums for dw and db would race across threads: keep one
            // accumulator per chunk and add them up after.
            let chunks = Swift.min(rows, ThreadPool.shared.threadCount * 4)
            let dwParts = Tensor.zeros([chunks, c]), dbParts = Tensor.zeros([chunks, c])
            let pdw = dwParts.data, pdb = dbParts.data
            ThreadPool.shared.parallelFor(chunks) { chunk in
                let dwr = pdw + chunk * c, dbr = pdb + chunk * c
                for r in (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks) {
                    let xr = px + r * c, gr = pg + r * c, dxr = pdx + r * c
                    let mu = pm[r], rs = pr[r]
                    // x̂ = (x - μ) rs;  dx̂ = g w;  dx = rs (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂))
                    var sumD: Float = 0, sumDX: Float = 0
                    for j in 0..<c {
                        let xh = (xr[j] - mu) * rs
                        let dxh = gr[j] * (pw?[j] ?? 1)
                        sumD += dxh
                        sumDX += dxh * xh
                        dwr[j] += gr[j] * xh
                        dbr[j] += gr[j]
                    }
                    let meanD = kind == .layer ? sumD / Float(c) : 0
                    let meanDX = sumDX / Float(c)
                    for j in 0..<c {
                        let xh = (xr[j] - mu) * rs
                        let dxh = gr[j] * (pw?[j] ?? 1)
                        dxr[j] = rs * (dxh - meanD - xh * meanDX)
                    }
                }
            }
            var grads: [Tensor?] = [dx]
            if weight != nil { grads.append(dwParts.sum(axis: 0)) }
            if bias != nil { grads.append(dbParts.sum(axis: 0)) }
            return grads
        }
    }
}
