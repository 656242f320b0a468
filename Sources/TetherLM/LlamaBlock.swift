import Tether
import TetherNN

/// Llama-family attention: `q_proj`, `k_proj`, `v_proj` (grouped-query: Hkv ≤ H heads for
/// k and v), RoPE on q and k, and `o_proj`.
final class LlamaAttention: Module {
    @Key("q_proj") var qProj: Linear
    @Key("k_proj") var kProj: Linear
    @Key("v_proj") var vProj: Linear
    @Key("o_proj") var oProj: Linear
    let heads: Int, kvHeads: Int, headDim: Int

    init(_ c: TransformerConfig, weights: inout WeightSource) {
        (heads, kvHeads, headDim) = (c.heads, c.kvHeads, c.headDim)
        let std = c.initializerRange
        _qProj.wrappedValue = makeLinear(c.hiddenSize, c.heads * c.headDim, bias: c.qkvBias, std: std, weights: &weights)
        _kProj.wrappedValue = makeLinear(c.hiddenSize, c.kvHeads * c.headDim, bias: c.qkvBias, std: std, weights: &weights)
        _vProj.wrappedValue = makeLinear(c.hiddenSize, c.kvHeads * c.headDim, bias: c.qkvBias, std: std, weights: &weights)
        _oProj.wrappedValue = makeLinear(c.heads * c.headDim, c.hiddenSize, bias: c.outputBias, std: std, weights: &weights)
        super.init()
    }

    /// (B, T, C) → (B, T, C)
    func callAsFunction(_ x: Tensor, layer: Int, inputs: BlockInputs) -> Tensor {
        oProj(causalAttention(q: qProj(x), k: kProj(x), v: vProj(x), heads: heads, kvHeads: kvHeads,
                              headDim: headDim, layer: layer, inputs: inputs))
    }
}

/// SwiGLU MLP: `down_proj(silu(gate_proj(x)) * up_proj(x))`.
final class LlamaMLP: Module {
    @Key("gate_proj") var gateProj: Linear
    @Key("up_proj") var upProj: Linear
    @Key("down_proj") var downProj: Linear
    let activation: TransformerConfig.Activation

    init(_ c: TransformerConfig, weights: inout WeightSource) {
        activation = c.activation
        let std = c.initializerRange
        _gateProj.wrappedValue = makeLinear(c.hiddenSize, c.intermediateSize, bias: c.mlpBias, std: std, weights: &weights)
        _upProj.wrappedValue = makeLinear(c.hiddenSize, c.intermediateSize, bias: c.mlpBias, std: std, weights: &weights)
        _downProj.wrappedValue = makeLinear(c.intermediateSize, c.hiddenSize, bias: c.mlpBias, std: std, weights: &weights)
        super.init()
    }

    /// (B, T, C) → (B, T, C)
    func callAsFunction(_ x: Tensor) -> Tensor {
        downProj(activate(gateProj(x), activation) * upProj(x))  // (B, T, I) → (B, T, C)
    }
}

/// A Llama-family block: `input_layernorm`, `self_attn`, `post_attention_layernorm`, `mlp`.
final class LlamaBlock: Module, DecoderBlock {
    @Key("input_layernorm") var inputNorm: RMSNorm
    @Key("self_attn") var attention: LlamaAttention
    @Key("post_attention_layernorm") var postAttentionNorm: RMSNorm
    let mlp: LlamaMLP

    init(_ c: TransformerConfig, weights: inout WeightSource) {
        _inputNorm.wrappedValue = RMSNorm(dim: c.hiddenSize, eps: c.normEps)
        _attention.wrappedValue = LlamaAttention(c, weights: &weights)
        _postAttentionNorm.wrappedValue = RMSNorm(dim: c.hiddenSize, eps: c.normEps)
        mlp = LlamaMLP(c, weights: &weights)
        super.init()
    }

    func callAsFunction(_ x: Tensor, layer: Int, inputs: BlockInputs) -> Tensor {
        let h = x + attention(inputNorm(x), layer: layer, inputs: inputs)  // (B, T, C)
        return h + mlp(postAttentionNorm(h))
    }
}
