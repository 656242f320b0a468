import Tether

/// A lookup table of `count` vectors of size `dim`: ids (S) → vectors S + [dim].
public final class Embedding: Module {
    /// (count, dim)
    public let weight: Tensor

    /// A table holding `weight` (count, dim); it becomes trainable.
    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding: weight must be (count, dim), got \(weight.shape)")
        self.weight = weight
        weight.requiresGrad = true
        super.init()
    }

    /// Number of rows (vocabulary size).
    public var count: Int { weight.shape[0] }
    /// Size of each vector.
    public var dim: Int { weight.shape[1] }

    /// ids (S) → (S…, dim)
    public func callAsFunction(_ ids: IndexTensor) -> Tensor {
        Tensor.embedding(weight, ids)
    }
}

extension Embedding {
    /// A new table of `count` vectors of size `dim`, drawn normal(0, std) from `rng`
    /// (PyTorch's default std is 1; GPT-2 uses 0.02).
    public convenience init(count: Int, dim: Int, std: Float = 1, rng: inout RandomGenerator) {
        precondition(count > 0 && dim > 0, "Embedding: sizes must be positive, got \(count)×\(dim)")
        self.init(weight: Tensor.normal([count, dim], mean: 0, std: std, rng: &rng))
    }
}
