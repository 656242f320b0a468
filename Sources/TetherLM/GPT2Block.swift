import Foundation
import Tether
import TetherNN

/// GPT-2 attention: fused q/k/v projection `c_attn` and output projection `c_proj`.
final class GPT2Attention: Module {
    @Key("c_attn") var cAttn: Linear
    @Key("c_proj") var cProj: Linear
    let heads: Int

    init(_ c: TransformerConfig, weights: inout WeightSource) {
        heads = c.heads
        let width = c.heads * c.headDim
        _cAttn.wrappedValue = makeLinear(c.hiddenSize, 3 * width, bias: true, std: c.initializerRange, weights: &weights)
        // GPT-2 scales residual projections by 1/√(2·layers) at init.
        let residualStd = c.initializerRange / Float(2 * c.layers).squareRoot()
        _cProj.wrappedValue = makeLinear(width, c.hiddenSize, bias: true, std: residualStd, weights: &weights)
        super.init()
    }

    /// (B, T, C) → (B, T, C)
    func callAsFunction(_ x: Tensor, layer: Int, inputs: BlockInputs) -> Tensor {
        let width = cAttn.outFeatures / 3
        let projected = cAttn(x)                                     // (B, T, 3C)
        guard inputs.cache != nil else {
            // Training and scoring: attention straight from the fused projection's layout.
            return cProj(Tensor.attention(fused: projected, heads: heads, keyMask: inputs.keyMask,
                                          segments: inputs.segments))
        }
        let qkv = projected.split([width, width, width], axis: 2)    // 3 × (B, T, C)
        return cProj(causalAttention(q: qkv[0], k: qkv[1], v: qkv[2], heads: heads, kvHeads: heads,
                                     headDim: width / heads, layer: layer, inputs: inputs))
    }
}

/// GPT-2 MLP: `c_fc` to 4·C, GELU, `c_proj` back.
final class GPT2MLP: Module {
    @Key("c_fc") var cFc: Linear
    @Key("c_proj") var cProj: Linear
    let activation: TransformerConfig.Activation

    init(_ c: TransformerConfig, weights: inout WeightSource) {
        activation = c.activation
        _cFc.wrappedValue = makeLinear(c.hiddenSize, c.intermediateSize, bias: c.mlpBias, std: c.initializerRange, weights: &weights)
        let residualStd = c.initializerRange / Float(2 * c.layers).squareRoot()
        _cProj.wrappedValue = makeLinear(c.intermediateSize, c.hiddenSize, bias: c.mlpBias, std: residualStd, weights: &weights)
        super.init()
    }

    /// (B, T, C) → (B, T, C)
    func callAsFunction(_ x: Tensor) -> Tensor {
        cProj(activate(cFc(x), activation))
    }
}

/// A GPT-2 block: `ln_1`, `attn`, `ln_2`, `mlp`, pre-norm with residuals.
final class GPT2Block: Module, DecoderBlock {
    @Key("ln_1") var ln1: LayerNorm
    let attn: GPT2Attention
    @Key("ln_2") var ln2: LayerNorm
    let mlp: GPT2MLP

    init(_ c: TransformerConfig, weights: inout WeightSource) {
        _ln1.wrappedValue = LayerNorm(dim: c.hiddenSize, eps: c.normEps)
        attn = GPT2Attention(c, weights: &weights)
        _ln2.wrappedValue = LayerNorm(dim: c.hiddenSize, eps: c.normEps)
        mlp = GPT2MLP(c, weights: &weights)
        super.init()
    }

    func callAsFunction(_ x: Tensor, layer: Int, inputs: BlockInputs) -> Tensor {
        let h = x + attn(ln1(x), layer: layer, inputs: inputs)  // (B, T, C)
        return h + mlp(ln2(h))
    }
}
