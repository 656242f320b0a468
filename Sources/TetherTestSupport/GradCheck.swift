import Tether

/// The outcome of comparing autograd gradients with finite differences.
public struct GradCheckResult: CustomStringConvertible {
    /// Largest |analytic - numeric| / (atol + rtol·|numeric|) over all elements; ≤ 1 passes.
    public var worstRatio: Double
    /// Where the worst element was, with both values.
    public var worst: String
    public var passed: Bool { worstRatio <= 1 }
    public var description: String { "worst ratio \(worstRatio) at \(worst)" }
}

/// Checks the gradients of `f` at `inputs` against central finite differences.
///
/// The scalar checked is L = Σ f(inputs) ⊙ R for a fixed random R, summed in Float64, so
/// every output element's gradient path is exercised. Inputs must be leaves with
/// `requiresGrad`; they may be strided views (each element is perturbed in place).
public func gradCheck(_ inputs: [Tensor], eps: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
                      seed: UInt64 = 7, _ f: ([Tensor]) -> Tensor) -> GradCheckResult {
    for t in inputs { t.grad = nil }
    let out = f(inputs)
    var state = seed
    let weights = (0..<out.count).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(state >> 40) - (1 << 23)) / Float(1 << 23)  // uniform in [-1, 1)
    }
    let r = Tensor(weights, shape: out.shape)
    out.backward(r)

    func loss() -> Double {
        let y = noGrad { f(inputs) }.scalars()
        var s = 0.0
        for (a, b) in zip(y, weights) { s += Double(a) * Double(b) }
        return s
    }

    var result = GradCheckResult(worstRatio: 0, worst: "none")
    for (k, t) in inputs.enumerated() {
        let analytic = t.grad?.scalars() ?? [Float](repeating: 0, count: t.count)
        let dense = Tensor.zeros(t.shape).strides
        for i in 0..<t.count {
            // Storage offset of logical element i.
            var rest = i, at = t.offset
            for d in 0..<t.rank {
                at += (rest / dense[d]) * t.strides[d]
                rest %= dense[d]
            }
            let saved = t.storage.base[at]
            t.storage.base[at] = saved + eps
            let up = loss()
            t.storage.base[at] = saved - eps
            let down = loss()
            t.storage.base[at] = saved
            let numeric = (up - down) / (2 * Double(eps))
            let a = Double(analytic[i])
            let ratio = Swift.abs(a - numeric) / (atol + rtol * Swift.abs(numeric))
            if ratio > result.worstRatio || ratio.isNaN {
                result = GradCheckResult(worstRatio: ratio.isNaN ? .infinity : ratio,
                                         worst: "input \(k) element \(i): analytic \(a), numeric \(numeric)")
            }
        }
    }
    return result
}

/// A deterministic tensor of values in [low, high) for tests (no RNG dependency).
public func testTensor(_ shape: [Int], seed: UInt64 = 1, low: Float = -1, high: Float = 1,
                       requiresGrad: Bool = true) -> Tensor {
    var state = seed &* 0x9E3779B97F4A7C15 | 1
    let values = (0..<Shape.count(shape)).map { _ -> Float in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return low + (high - low) * Float(state >> 40) / Float(1 << 24)
    }
    return Tensor(values, shape: shape, requiresGrad: requiresGrad)
}
