import Foundation

/// Random tensor factories. Each draws its values in row-major order from `rng` and
/// advances it, with results identical for any thread count.
extension Tensor {
    /// A tensor of `shape` with values uniform in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               rng: inout RandomGenerator, requiresGrad: Bool = false,
                               pool: ThreadPool = .shared) -> Tensor {
        let t = Tensor(uninitialized: shape)
        rng.fill(uniform: UnsafeMutableBufferPointer(start: t.data, count: t.count),
                 low: low, high: high, pool: pool)
        t.requiresGrad = requiresGrad
        return t
    }

    /// A tensor of `shape` with values normal with `mean` and standard deviation `std`.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              rng: inout RandomGenerator, requiresGrad: Bool = false,
                              pool: ThreadPool = .shared) -> Tensor {
        let t = Tensor(uninitialized: shape)
        rng.fill(normal: UnsafeMutableBufferPointer(start: t.data, count: t.count),
                 mean: mean, std: std, pool: pool)
        t.requiresGrad = requiresGrad
        return t
    }

    /// A 0/1 tensor of `shape` whose elements are 1 with probability `p` (a dropout keep mask).
    public static func bernoulliMask(_ shape: [Int], keep p: Float, rng: inout RandomGenerator,
                                     pool: ThreadPool = .shared) -> Tensor {
        let t = Tensor(uninitialized: shape)
        rng.fill(bernoulli: UnsafeMutableBufferPointer(start: t.data, count: t.count), keep: p, pool: pool)
        return t
    }
}

extension Tensor {
    /// Inverted dropout: zeroes each element with probability `p` and scales the rest by
    /// 1/(1 - p), so the expectation is unchanged. Composite: its gradient is g ⊙ mask/(1 - p).
    public func dropout(p: Float, rng: inout RandomGenerator) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout: p \(p) must be in [0, 1)")
        if p == 0 { return self }
        let mask = Tensor.bernoulliMask(shape, keep: 1 - p, rng: &rng)
        return self * Tensor.binaryForward(mask, Tensor(scalar: 1 / (1 - p)), .mul)
    }
}
