import Foundation

/// The shape of a decoder-only transformer, read from and written to a Hugging Face
/// `config.json` (`model_type` gpt2, llama, qwen2, mistral; SmolLM uses llama).
public struct TransformerConfig: Codable, Sendable, Equatable {
    /// The two layouts the model can take.
    public enum Family: String, Codable, Sendable {
        /// Learned positions, LayerNorm, GELU MLP, fused q/k/v (Conv1D layout on disk).
        case gpt2
        /// RoPE, RMSNorm, SwiGLU MLP, grouped-query attention (Llama, Qwen2, Mistral, SmolLM).
        case llama
    }

    /// The MLP nonlinearity.
    public enum Activation: String, Codable, Sendable {
        /// GELU, tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
        case geluTanh
        /// GELU, exact erf form (`gelu`).
        case gelu
        /// SiLU / swish (`silu`), gating a SwiGLU MLP.
        case silu
    }

    /// How rotary frequencies are rescaled for longer contexts.
    public enum RopeScaling: Codable, Sendable, Equatable {
        /// Positions divided by `factor` (all frequencies divided by it).
        case linear(factor: Double)
        /// Llama 3.x: low frequencies divided by `factor`, high ones kept, a smooth blend between.
        case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
    }

    /// HF `model_type` ("gpt2", "llama", "qwen2", "mistral").
    public var modelType: String
    /// The layout this `modelType` maps to.
    public var family: Family
    /// Number of token ids.
    public var vocabSize: Int
    /// Width of the residual stream, C.
    public var hiddenSize: Int
    /// Number of decoder blocks.
    public var layers: Int
    /// Query heads, H.
    public var heads: Int
    /// Key/value heads, Hkv (H for multi-head attention, fewer for grouped-query).
    public var kvHeads: Int
    /// Size of each head, D (usually C / H).
    public var headDim: Int
    /// Hidden width of the MLP.
    public var intermediateSize: Int
    /// Longest sequence (learned position table size for GPT-2).
    public var maxPositions: Int
    /// Epsilon of LayerNorm / RMSNorm.
    public var normEps: Float
    /// RoPE base (llama family).
    public var ropeTheta: Double
    /// RoPE frequency rescaling, if any.
    public var ropeScaling: RopeScaling?
    /// Whether the LM head reuses the token embedding matrix.
    public var tieWordEmbeddings: Bool
    /// Bias on the q, k, v projections (Qwen2: yes; GPT-2: yes; Llama: `attention_bias`).
    public var qkvBias: Bool
    /// Bias on the attention output projection (GPT-2: yes; Llama: `attention_bias`; Qwen2: no).
    public var outputBias: Bool
    /// Bias on the MLP projections (GPT-2: yes; Llama: `mlp_bias`).
    public var mlpBias: Bool
    /// The MLP nonlinearity.
    public var activation: Activation
    /// Standard deviation of freshly initialised weights.
    public var initializerRange: Float
    /// Beginning-of-sequence id, if the model has one.
    public var bosTokenId: Int?
    /// End-of-sequence ids (Llama 3 lists several).
    public var eosTokenIds: [Int]
    /// Padding id, if the model has one.
    public var padTokenId: Int?
    /// Sliding-window attention span (Mistral v0.1); sequences must not exceed it.
    public var slidingWindow: Int?

    /// A config with every field given; see ``gpt2(...)`` and ``llama(...)`` for typical ones.
    public init(modelType: String, family: Family, vocabSize: Int, hiddenSize: Int, layers: Int,
                heads: Int, kvHeads: Int, headDim: Int? = nil, intermediateSize: Int, maxPositions: Int,
                normEps: Float, ropeTheta: Double = 10000, ropeScaling: RopeScaling? = nil,
                tieWordEmbeddings: Bool, qkvBias: Bool, outputBias: Bool, mlpBias: Bool,
                activation: Activation, initializerRange: Float = 0.02, bosTokenId: Int? = nil,
                eosTokenIds: [Int] = [], padTokenId: Int? = nil, slidingWindow: Int? = nil) {
        self.modelType = modelType
        self.family = family
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim ?? hiddenSize / heads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.normEps = normEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.tieWordEmbeddings = tieWordEmbeddings
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.mlpBias = mlpBias
        self.activation = activation
        self.initializerRange = initializerRange
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.slidingWindow = slidingWindow
    }

    /// A GPT-2 config (tied embeddings, biases everywhere, MLP 4·C, GELU-tanh).
    public static func gpt2(vocabSize: Int, hiddenSize: Int, layers: Int, heads: Int,
                            maxPositions: Int, normEps: Float = 1e-5) -> TransformerConfig {
        TransformerConfig(modelType: "gpt2", family: .gpt2, vocabSize: vocabSize, hiddenSize: hiddenSize,
                          layers: layers, heads: heads, kvHeads: heads, intermediateSize: 4 * hiddenSize,
                          maxPositions: maxPositions, normEps: normEps, tieWordEmbeddings: true,
                          qkvBias: true, outputBias: true, mlpBias: true, activation: .geluTanh,
                          bosTokenId: vocabSize - 1, eosTokenIds: [vocabSize - 1])
    }

    /// A Llama-family config (`modelType` "llama" or "qwen2": Qwen2 has q/k/v bias).
    public static func llama(modelType: String = "llama", vocabSize: Int, hiddenSize: Int, layers: Int,
                             heads: Int, kvHeads: Int, intermediateSize: Int, maxPositions: Int,
                             normEps: Float = 1e-6, ropeTheta: Double = 10000, ropeScaling: RopeScaling? = nil,
                             tieWordEmbeddings: Bool = false) -> TransformerConfig {
        TransformerConfig(modelType: modelType, family: .llama, vocabSize: vocabSize, hiddenSize: hiddenSize,
                          layers: layers, heads: heads, kvHeads: kvHeads, intermediateSize: intermediateSize,
                          maxPositions: maxPositions, normEps: normEps, ropeTheta: ropeTheta,
                          ropeScaling: ropeScaling, tieWordEmbeddings: tieWordEmbeddings,
                          qkvBias: modelType == "qwen2", outputBias: false, mlpBias: false, activation: .silu)
    }
}
