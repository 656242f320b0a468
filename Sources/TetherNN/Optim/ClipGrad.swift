import Tether

/// Elements per partial sum in gradient norms. Fixed (not derived from the thread count) so
/// the norm is the same bit for bit however many threads compute it.
let normChunk = 1 << 14

/// The global L2 norm of all gradients, as if they were one vector (parameters without a
/// gradient count as zero). Squares are summed in Double, in a fixed order.
public func gradNorm(_ parameters: [Tensor]) -> Float {
    var total = 0.0
    for p in parameters {
        guard let g = p.grad?.contiguousData() else { continue }
        total += sumOfSquares(g.data, count: g.count)
    }
    return Float(total.squareRoot())
}

/// Scales all gradients so their global L2 norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`: factor `maxNorm / (norm + 1e-6)` when below 1) and returns the norm
/// before clipping. A non-finite norm is returned with the gradients left as they are, so
/// the caller can skip the step.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradNorm: maxNorm \(maxNorm) must be positive")
    let norm = gradNorm(parameters)
    guard norm.isFinite else { return norm }
    let scale = Float(Double(maxNorm) / (Double(norm) + 1e-6))
    guard scale < 1 else { return norm }
    for p in parameters {
        guard let g = p.grad else { continue }
        if !g.isContiguous { p.grad = denseCopy(g) }
        let pg = p.grad!.data
        forEachChunk(g.count) { range in
            for j in range { pg[j] *= scale }
        }
    }
    return norm
}

/// Clips the gradients of a module's trainable parameters; see ``clipGradNorm(_:maxNorm:)``.
@discardableResult
public func clipGradNorm(_ module: Module, maxNorm: Float) -> Float {
    clipGradNorm(module.trainableParameters, maxNorm: maxNorm)
}

/// Σ x² over `count` floats, in Double: fixed chunks summed in parallel, then in order.
func sumOfSquares(_ x: UnsafeMutablePointer<Float>, count: Int) -> Double {
    let chunks = (count + normChunk - 1) / normChunk
    if chunks <= 1 { return sumOfSquares(x, 0..<count) }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { partial in
        let out = partial.baseAddress!
        ThreadPool.shared.parallelRanges(chunks, grain: 2) { range in
            for c in range {
                out[c] = sumOfSquares(x, (c * normChunk)..<min(count, (c + 1) * normChunk))
            }
        }
        var total = 0.0
        for c in 0..<chunks { total += out[c] }
        return total
    }
}

/// Σ x² over `range`, accumulated in Double with eight independent lanes.
private func sumOfSquares(_ x: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> Double {
    var acc = SIMD8<Double>()
    var j = range.lowerBound
    while j + 8 <= range.upperBound {
        var lanes = SIMD8<Double>()
        for k in 0..<8 { lanes[k] = Double(x[j + k]) }
        acc += lanes * lanes
        j += 8
    }
    var total = acc.sum()
    while j < range.upperBound {
        let d = Double(x[j])
        total += d * d
        j += 1
    }
    return total
}
