import Tether

/// Layer normalization over the last axis with a learned gain and (optional) bias.
public final class LayerNorm: Module, UnaryLayer {
    /// Gain (dim), initialised to ones.
    public let weight: Tensor
    /// Shift (dim), initialised to zeros; nil when built with `bias: false`.
    public let bias: Tensor?
    /// Added to the variance before the square root.
    public let eps: Float

    /// A LayerNorm over vectors of size `dim`.
    public init(dim: Int, eps: Float = 1e-5, bias: Bool = true) {
        weight = Tensor.ones([dim], requiresGrad: true)
        self.bias = bias ? Tensor.zeros([dim], requiresGrad: true) : nil
        self.eps = eps
        super.init()
    }

    /// (…, dim) → (…, dim)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.layerNorm(weight: weight, bias: bias, eps: eps)
    }
}

/// Root-mean-square normalization over the last axis with a learned gain (Llama, Qwen).
public final class RMSNorm: Module, UnaryLayer {
    /// Gain (dim), initialised to ones.
    public let weight: Tensor
    /// Added to the mean square before the square root.
    public let eps: Float

    /// An RMSNorm over vectors of size `dim`.
    public init(dim: Int, eps: Float = 1e-6) {
        weight = Tensor.ones([dim], requiresGrad: true)
        self.eps = eps
        super.init()
    }

    /// (…, dim) → (…, dim)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.rmsNorm(weight: weight, eps: eps)
    }
}
