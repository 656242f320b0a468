import Tether

/// A low-rank adapter on a ``Linear``: adds `scale · B(A(dropout(x)))` to the layer's output.
///
/// A is (r, in), drawn Kaiming-uniform (±1/√in, as PEFT does); B is (out, r), zero, so a
/// fresh adapter changes nothing. `scale` is `alpha / r`, or `alpha / √r` with rsLoRA.
/// Parameter names are PEFT's: the adapted layer gains children `lora_A` and `lora_B`
/// (`….c_attn.lora_A.weight`), and `lora_dropout`, which has no parameters.
public final class LoRA: Module {
    /// (r, in), no bias.
    @Key("lora_A") public var a: Linear
    /// (out, r), no bias.
    @Key("lora_B") public var b: Linear
    /// Dropout on the adapter's input (identity when p is 0 or in evaluation mode).
    @Key("lora_dropout") public var dropout: Dropout
    /// The rank r.
    public let rank: Int
    /// The numerator of the scale.
    public let alpha: Float
    /// The factor applied to B·A: alpha / r, or alpha / √r with rsLoRA.
    public let scale: Float
    /// Whether the adapter adds its term (see ``Module/withAdaptersDisabled(_:)``).
    public internal(set) var isEnabled = true
    /// Whether `scale · B·A` is folded into the base weight (the adapter then adds nothing).
    public internal(set) var isMerged = false

    /// An adapter for a layer of `inFeatures` → `outFeatures`; A drawn from `rng`, B zero.
    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, dropout p: Float = 0,
                useRSLoRA: Bool = false, rng: inout RandomGenerator) {
        precondition(rank > 0, "LoRA: rank must be positive, got \(rank)")
        let bound = 1 / Float(inFeatures).squareRoot()
        let aWeight = Tensor.uniform([rank, inFeatures], low: -bound, high: bound, rng: &rng)
        _a.wrappedValue = Linear(weight: aWeight, bias: nil)
        _b.wrappedValue = Linear(weight: Tensor.zeros([outFeatures, rank]), bias: nil)
        _dropout.wrappedValue = Dropout(p: p, rng: RandomGenerator(seed: rng.next()))
        self.rank = rank
        self.alpha = alpha
        scale = useRSLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank)
        super.init()
    }

    /// The adapter's term for input x: (…, in) → (…, out).
    public func delta(_ x: Tensor) -> Tensor {
        b(a(dropout(x))) * scale
    }

    /// Whether a parameter path names an adapter factor (`….lora_A.weight`, `….lora_B.weight`).
    public static func isAdapterParameter(_ path: String) -> Bool {
        let parts = path.split(separator: ".")
        return parts.count >= 2 && (parts[parts.count - 2] == "lora_A" || parts[parts.count - 2] == "lora_B")
    }

    /// `scale · B·A` as an (out, in) tensor without autograd.
    public func deltaWeight() -> Tensor {
        noGrad { (b.weight.matmul(a.weight) * scale).contiguousData() }
    }
}

extension Linear {
    /// `y = x · Wᵀ + b`, plus the adapter's term when one is attached, enabled and not merged.
    func adapted(_ x: Tensor, base: Tensor) -> Tensor {
        guard let lora, lora.isEnabled, !lora.isMerged else { return base }
        return base + lora.delta(x)
    }

    /// Attaches a fresh adapter (replacing any) and returns it; the base weights are untouched.
    @discardableResult
    public func attachLoRA(rank: Int, alpha: Float, dropout p: Float = 0, useRSLoRA: Bool = false,
                           rng: inout RandomGenerator) -> LoRA {
        precondition(lora == nil || !lora!.isMerged, "Linear: unmerge the current adapter before replacing it")
        let adapter = LoRA(inFeatures: inFeatures, outFeatures: outFeatures, rank: rank, alpha: alpha,
                           dropout: p, useRSLoRA: useRSLoRA, rng: &rng)
        adapter.train(isTraining)
        lora = adapter
        return adapter
    }

    /// Folds the adapter into the weight: W += scale · B·A. Does nothing if already merged.
    public func mergeLoRA() {
        guard let lora, !lora.isMerged else { return }
        addInPlace(lora.deltaWeight(), sign: 1)
        lora.isMerged = true
    }

    /// Takes a merged adapter back out of the weight: W -= scale · B·A.
    public func unmergeLoRA() {
        guard let lora, lora.isMerged else { return }
        addInPlace(lora.deltaWeight(), sign: -1)
        lora.isMerged = false
    }

    /// Removes the adapter; with `merge`, folds it into the weight first.
    public func detachLoRA(merge: Bool = false) {
        guard let lora else { return }
        if merge { mergeLoRA() } else if lora.isMerged { unmergeLoRA() }
        self.lora = nil
    }

    private func addInPlace(_ delta: Tensor, sign: Float) {
        precondition(weight.isContiguous && delta.shape == weight.shape,
                     "Linear: cannot merge a \(delta.shape) delta into weight \(weight.shape)")
        weight.storage.markModified()
        let w = weight.data
        let d = delta.data
        for i in 0..<weight.count { w[i] += sign * d[i] }
    }
}

extension Module {
    /// Every (path, layer) pair in the tree whose ``Linear`` carries an adapter.
    public func loraLayers() -> [(String, Linear)] {
        namedModules().compactMap { name, module in
            guard let linear = module as? Linear, linear.lora != nil else { return nil }
            return (name, linear)
        }
    }

    /// Runs `body` with every adapter in the tree switched off, so the model computes
    /// exactly its base function (the frozen base doubles as a reference model). Adapters
    /// must not be merged. Not safe to overlap with other calls on the same model.
    public func withAdaptersDisabled<T>(_ body: () throws -> T) rethrows -> T {
        let adapters = loraLayers().map { $0.1.lora! }
        precondition(adapters.allSatisfy { !$0.isMerged },
                     "withAdaptersDisabled: unmerge the adapters first (merged weights include them)")
        let previous = adapters.map(\.isEnabled)
        for adapter in adapters { adapter.isEnabled = false }
        defer { for (adapter, state) in zip(adapters, previous) { adapter.isEnabled = state } }
        return try body()
    }

    /// Folds every adapter in the tree into its base weight (faster inference).
    public func mergeAdapters() {
        for (_, linear) in loraLayers() { linear.mergeLoRA() }
    }

    /// Takes every merged adapter in the tree back out of its base weight.
    public func unmergeAdapters() {
        for (_, linear) in loraLayers() { linear.unmergeLoRA() }
    }
}
