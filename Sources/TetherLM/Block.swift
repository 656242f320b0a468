import Tether
import TetherNN

/// What every block of one forward call shares: masks, rotary tables and the cache.
struct BlockInputs {
    /// (B, S) 0/1 key mask, or nil when no key is padding.
    var keyMask: Tensor?
    /// (B, S) segment ids for packed sequences, or nil.
    var segments: IndexTensor?
    /// Rotary tables (B, 1, T, D), or nil for learned positions.
    var rope: (cos: Tensor, sin: Tensor)?
    /// The cache to read earlier keys from and append new ones to.
    var cache: KVCache?
}

/// One decoder block: x (B, T, C) → x (B, T, C).
protocol DecoderBlock: Module {
    /// Applies the block (pre-norm attention then pre-norm MLP, each with a residual).
    func callAsFunction(_ x: Tensor, layer: Int, inputs: BlockInputs) -> Tensor
}

/// Causal attention of projected q (B, T, H·D) over k, v (B, T, Hkv·D), with RoPE and the
/// cache applied: returns (B, T, H·D), ready for the output projection.
func causalAttention(q: Tensor, k: Tensor, v: Tensor, heads: Int, kvHeads: Int, headDim: Int,
                     layer: Int, inputs: BlockInputs) -> Tensor {
    let (b, t) = (q.shape[0], q.shape[1])
    var q4 = q.reshape([b, t, heads, headDim]).transpose(1, 2)      // (B, H, T, D)
    var k4 = k.reshape([b, t, kvHeads, headDim]).transpose(1, 2)    // (B, Hkv, T, D)
    var v4 = v.reshape([b, t, kvHeads, headDim]).transpose(1, 2)    // (B, Hkv, T, D)
    if let rope = inputs.rope {
        q4 = RotaryEmbedding.apply(q4, cos: rope.cos, sin: rope.sin)
        k4 = RotaryEmbedding.apply(k4, cos: rope.cos, sin: rope.sin)
    }
    if let cache = inputs.cache {
        (k4, v4) = cache.append(layer: layer, keys: k4, values: v4)  // (B, Hkv, S, D)
    }
    let out = Tensor.attention(q: q4, k: k4, v: v4, causal: true, keyMask: inputs.keyMask,
                               segments: inputs.segments)           // (B, H, T, D)
    return out.transpose(1, 2).reshape([b, t, heads * headDim])      // (B, T, H·D)
}

/// Applies an MLP nonlinearity.
func activate(_ x: Tensor, _ activation: TransformerConfig.Activation) -> Tensor {
    switch activation {
    case .geluTanh: return x.gelu(approximate: true)
    case .gelu: return x.gelu(approximate: false)
    case .silu: return x.silu()
    }
}

/// Where a new model's weights come from: normal(0, std) draws from a generator, or zeros
/// when no generator is given (a model whose weights are about to be loaded).
struct WeightSource {
    /// The generator, or nil for zeros.
    var rng: RandomGenerator?

    /// A tensor of `shape` drawn normal(0, std), or zeros.
    mutating func normal(_ shape: [Int], std: Float) -> Tensor {
        guard rng != nil else { return Tensor.zeros(shape) }
        return Tensor.normal(shape, mean: 0, std: std, rng: &rng!)
    }
}

/// A new dense layer (weights normal(0, std), zero bias).
func makeLinear(_ inF: Int, _ outF: Int, bias: Bool, std: Float, weights: inout WeightSource) -> Linear {
    Linear(weight: weights.normal([outF, inF], std: std), bias: bias ? Tensor.zeros([outF]) : nil)
}
