import Tether
import TetherNN

/// The name Hugging Face gives the trunk inside a model with a head.
func trunkName(_ family: TransformerConfig.Family) -> String {
    family == .gpt2 ? "transformer" : "model"
}

/// A causal language model: the ``Transformer`` trunk and an LM head (`lm_head`, or the
/// token embedding itself when tied). Parameter names are HF's (`transformer.h.0...` for
/// GPT-2, `model.layers.0...` for the Llama family).
public final class CausalLM: Module {
    /// The shape of the model.
    public let config: TransformerConfig
    /// The trunk.
    @Ignored public var transformer: Transformer
    /// The untied LM head (V, C), or nil when the token embedding is reused.
    @Ignored public var lmHead: Linear?
    /// The configuration of the attached LoRA adapters, if any (see ``applyLoRA(_:seed:)``).
    public internal(set) var adapterConfig: LoRAConfig?

    /// A freshly initialised model.
    public convenience init(config: TransformerConfig, rng: inout RandomGenerator) {
        var weights = WeightSource(rng: rng)
        self.init(config: config, weights: &weights)
        rng = weights.rng!
    }

    /// A model with weights from `weights` (zeros when it has no generator).
    init(config: TransformerConfig, weights: inout WeightSource) {
        self.config = config
        transformer = Transformer(config: config, weights: &weights)
        lmHead = config.tieWordEmbeddings ? nil
            : makeLinear(config.hiddenSize, config.vocabSize, bias: false, std: config.initializerRange, weights: &weights)
        super.init()
    }

    /// A freshly initialised model drawn from a generator seeded with `seed`.
    public convenience init(config: TransformerConfig, seed: UInt64 = 0) {
        var rng = RandomGenerator(seed: seed)
        self.init(config: config, rng: &rng)
    }

    override public func namedChildren() -> [(String, Module)] {
        [(trunkName(config.family), transformer)] + (lmHead.map { [("lm_head", $0 as Module)] } ?? [])
    }

    override public func namedDirectParameters() -> [(String, Tensor)] { [] }

    /// The output projection (V, C).
    public var outputWeight: Tensor { lmHead?.weight ?? transformer.tokenEmbedding.weight }

    /// Hidden states (B, T, C); see ``Transformer/callAsFunction(_:attentionMask:positions:segments:cache:)``.
    public func hidden(_ ids: IndexTensor, attentionMask: Tensor? = nil, positions: IndexTensor? = nil,
                       segments: IndexTensor? = nil, cache: KVCache? = nil) -> Tensor {
        transformer(ids, attentionMask: attentionMask, positions: positions, segments: segments, cache: cache)
    }

    /// hidden (…, C) → logits (…, V)
    public func logits(hidden: Tensor) -> Tensor {
        Tensor.linear(hidden, weight: outputWeight, bias: nil)
    }

    /// ids (B, T) → logits (B, T, V); arguments as for ``hidden(_:attentionMask:positions:segments:cache:)``.
    public func callAsFunction(_ ids: IndexTensor, attentionMask: Tensor? = nil, positions: IndexTensor? = nil,
                               segments: IndexTensor? = nil, cache: KVCache? = nil) -> Tensor {
        logits(hidden: hidden(ids, attentionMask: attentionMask, positions: positions, segments: segments, cache: cache))
    }

    /// An empty KV cache sized for this model.
    public func makeCache() -> KVCache { KVCache(layers: config.layers) }

    /// log p(tokens[b, t]) under the logits at hidden[b, t]: hidden (B, T, C), tokens (B, T)
    /// → (B, T), with autograd.
    ///
    /// The vocabulary projection is fused with the log-prob and done `chunkRows` rows of
    /// B·T at a time, so the full (B, T, V) logits are never materialised, in training
    /// (the backward recomputes each chunk) or in inference.
    public func tokenLogProbs(hidden: Tensor, tokens: IndexTensor, chunkRows: Int = 512) -> Tensor {
        precondition(hidden.rank == 3 && tokens.shape == Array(hidden.shape.prefix(2)),
                     "tokenLogProbs: hidden \(hidden.shape) and tokens \(tokens.shape) must be (B, T, C) and (B, T)")
        precondition(chunkRows > 0, "tokenLogProbs: chunkRows must be positive")
        let (b, t, c) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        let flat = hidden.reshape([b * t, c])                            // (N, C)
        let all = Tensor.linearTokenLogProbs(hidden: flat, weight: outputWeight,
                                             tokens: IndexTensor(tokens.values, shape: [b * t]), chunkRows: chunkRows)
        return all.reshape([b, t])                                       // (B, T)
    }
}
