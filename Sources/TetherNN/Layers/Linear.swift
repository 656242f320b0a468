import Tether

/// A dense layer `y = x · Wᵀ + b` with PyTorch / Hugging Face layout:
/// x (…, in), weight (out, in), bias (out) → y (…, out).
public final class Linear: Module, UnaryLayer {
    /// (out, in)
    public let weight: Tensor
    /// (out), or nil for a layer without bias.
    public let bias: Tensor?
    /// A low-rank adapter whose term is added to the output (see ``attachLoRA(rank:alpha:dropout:useRSLoRA:rng:)``).
    /// Its children appear as this layer's `lora_A`, `lora_B` and `lora_dropout`, as in PEFT.
    @Ignored public internal(set) var lora: LoRA?

    /// A layer over the given tensors (weight (out, in), bias (out)); they become trainable.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Linear: weight must be (out, in), got \(weight.shape)")
        if let bias {
            precondition(bias.shape == [weight.shape[0]],
                         "Linear: bias \(bias.shape) does not match weight \(weight.shape)")
        }
        self.weight = weight
        self.bias = bias
        weight.requiresGrad = true
        bias?.requiresGrad = true
        super.init()
    }

    /// Number of input features.
    public var inFeatures: Int { weight.shape[1] }
    /// Number of output features.
    public var outFeatures: Int { weight.shape[0] }

    override public func namedChildren() -> [(String, Module)] {
        lora?.namedChildren() ?? []
    }

    override public func namedDirectParameters() -> [(String, Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// (…, in) → (…, out)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        adapted(x, base: Tensor.linear(x, weight: weight, bias: bias))
    }
}

extension Linear {
    /// How a new layer's weights are drawn.
    public enum Initialization: Sendable, Equatable {
        /// PyTorch's default: weight and bias uniform in ±1/√in (Kaiming-uniform with a = √5).
        case pytorch
        /// Weight normal(0, std), bias zero: GPT-2 uses std 0.02.
        case normal(std: Float)
    }

    /// A new layer mapping `inFeatures` to `outFeatures`, weights drawn from `rng`.
    public convenience init(in inFeatures: Int, out outFeatures: Int, bias: Bool = true,
                            initialization: Initialization = .pytorch, rng: inout RandomGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: sizes must be positive, got \(inFeatures)→\(outFeatures)")
        switch initialization {
        case .pytorch:
            let bound = 1 / Float(inFeatures).squareRoot()
            let w = Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, rng: &rng)
            let b = bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, rng: &rng) : nil
            self.init(weight: w, bias: b)
        case .normal(let std):
            let w = Tensor.normal([outFeatures, inFeatures], mean: 0, std: std, rng: &rng)
            self.init(weight: w, bias: bias ? Tensor.zeros([outFeatures]) : nil)
        }
    }
}
