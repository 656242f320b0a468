import Tether
import TetherNN

/// A decoder-only transformer trunk: token ids (B, T) → final-norm hidden states (B, T, C).
///
/// Configured as GPT-2 (children `wte`, `wpe`, `h.N`, `ln_f`) or as the Llama family
/// (`embed_tokens`, `layers.N`, `norm`); parameter names are Hugging Face's, so a state
/// dict key is the checkpoint key without the `transformer.` / `model.` prefix.
public final class Transformer: Module {
    /// The shape of the model.
    public let config: TransformerConfig
    /// Token embedding (V, C); also the LM head when embeddings are tied.
    @Ignored public var tokenEmbedding: Embedding
    /// Learned position embedding (maxPositions, C): GPT-2 only.
    @Ignored public var positionEmbedding: Embedding?
    /// The decoder blocks.
    @Ignored var blocks: [any DecoderBlock]
    /// The same blocks as a container named "0", "1", ... for the module tree.
    @Ignored var layerList: ModuleList
    /// Final LayerNorm (GPT-2) or RMSNorm (Llama family).
    @Ignored public var finalNorm: any UnaryLayer
    /// Rotary tables maker (Llama family only).
    @Ignored var rotary: RotaryEmbedding?

    /// A freshly initialised model (weights normal(0, `initializerRange`), norms at one).
    public convenience init(config: TransformerConfig, rng: inout RandomGenerator) {
        var weights = WeightSource(rng: rng)
        self.init(config: config, weights: &weights)
        rng = weights.rng!
    }

    /// A model with weights from `weights` (zeros when it has no generator).
    init(config c: TransformerConfig, weights: inout WeightSource) {
        config = c
        var made: [any DecoderBlock] = []
        tokenEmbedding = Embedding(weight: weights.normal([c.vocabSize, c.hiddenSize], std: c.initializerRange))
        switch c.family {
        case .gpt2:
            positionEmbedding = Embedding(weight: weights.normal([c.maxPositions, c.hiddenSize], std: 0.01))
            for _ in 0..<c.layers { made.append(GPT2Block(c, weights: &weights)) }
            finalNorm = LayerNorm(dim: c.hiddenSize, eps: c.normEps)
            rotary = nil
        case .llama:
            positionEmbedding = nil
            for _ in 0..<c.layers { made.append(LlamaBlock(c, weights: &weights)) }
            finalNorm = RMSNorm(dim: c.hiddenSize, eps: c.normEps)
            rotary = RotaryEmbedding(headDim: c.headDim, theta: c.ropeTheta, scaling: c.ropeScaling)
        }
        blocks = made
        layerList = ModuleList(made.map { $0 as Module })
        super.init()
    }

    override public func namedChildren() -> [(String, Module)] {
        switch config.family {
        case .gpt2:
            return [("wte", tokenEmbedding), ("wpe", positionEmbedding!), ("h", layerList), ("ln_f", finalNorm)]
        case .llama:
            return [("embed_tokens", tokenEmbedding), ("layers", layerList), ("norm", finalNorm)]
        }
    }

    override public func namedDirectParameters() -> [(String, Tensor)] { [] }

    /// Hidden states (B, T, C) after the final norm.
    ///
    /// - `attentionMask`: (B, T) 0/1, 0 at padding (left or right). Padding is never
    ///   attended, and real tokens are numbered from 0 in each row, so a left-padded row
    ///   gets the positions it would have alone (as HF derives `position_ids` from the mask).
    /// - `positions`: (B, T) explicit position ids (override the above).
    /// - `segments`: (B, T) ids of packed sequences: a token sees only its own segment, and
    ///   positions restart at each segment unless given. Not combinable with a cache.
    /// - `cache`: earlier tokens' keys and values; this call's T tokens are appended to it.
    ///   A forward over T tokens with a cache equals the matching rows of a forward over
    ///   the whole sequence.
    public func callAsFunction(_ ids: IndexTensor, attentionMask: Tensor? = nil, positions: IndexTensor? = nil,
                               segments: IndexTensor? = nil, cache: KVCache? = nil) -> Tensor {
        precondition(ids.shape.count == 2, "Transformer: ids must be (B, T), got \(ids.shape)")
        let (b, t) = (ids.shape[0], ids.shape[1])
        precondition(b > 0 && t > 0, "Transformer: ids \(ids.shape) must not be empty")
        if let attentionMask { precondition(attentionMask.shape == [b, t], "Transformer: attentionMask \(attentionMask.shape) != ids \(ids.shape)") }
        if let positions { precondition(positions.shape == [b, t], "Transformer: positions \(positions.shape) != ids \(ids.shape)") }
        if let segments {
            precondition(segments.shape == [b, t], "Transformer: segments \(segments.shape) != ids \(ids.shape)")
            precondition(cache == nil, "Transformer: segments (packing) cannot be combined with a KV cache")
        }
        let past = cache?.length ?? 0
        if let cache, past > 0 {
            precondition(cache.mask!.shape[0] == b, "Transformer: batch \(b) differs from the cache's \(cache.mask!.shape[0])")
        }
        if let window = config.slidingWindow {
            precondition(past + t <= window, "Transformer: \(past + t) tokens exceed the sliding window \(window)")
        }

        // Mask of this call's tokens, and of all S = past + T keys.
        let newMask = attentionMask?.scalars() ?? [Float](repeating: 1, count: b * t)
        let padded = (cache?.hasPadding ?? false) || newMask.contains(0)
        var fullMask: Tensor?
        if cache != nil || padded {
            let mine = Tensor(newMask, shape: [b, t])
            fullMask = past > 0 ? Tensor.concat([cache!.mask!, mine], axis: 1) : mine  // (B, S)
        }

        // Positions: given, restarted per segment, or counted over real tokens.
        let starts = cache.map { $0.nextPositions.isEmpty ? [Int32](repeating: 0, count: b) : $0.nextPositions }
            ?? [Int32](repeating: 0, count: b)
        let pos: IndexTensor                                             // (B, T)
        if let positions {
            pos = positions
        } else if let segments {
            pos = Self.segmentPositions(segments)
        } else {
            pos = Self.maskPositions(mask: newMask, batch: b, starts: starts)
        }

        var x = tokenEmbedding(ids)                                      // (B, T, C)
        if let positionEmbedding {
            let limit = Int32(positionEmbedding.count)
            precondition(pos.values.allSatisfy { $0 >= 0 && $0 < limit },
                         "Transformer: a position exceeds the \(limit) learned positions")
            x = x + positionEmbedding(pos)
        }
        let inputs = BlockInputs(keyMask: padded ? fullMask : nil, segments: segments,
                                 rope: rotary?.tables(positions: pos), cache: cache)
        for (layer, block) in blocks.enumerated() {
            x = block(x, layer: layer, inputs: inputs)
        }
        if let cache {
            cache.mask = fullMask
            cache.hasPadding = padded
            // Each row continues after its last real token (or after the last given position).
            cache.nextPositions = (0..<b).map { row in
                if positions != nil { return pos.values[row * t + t - 1] + 1 }
                let real = (0..<t).reduce(Int32(0)) { $0 + (newMask[row * t + $1] != 0 ? 1 : 0) }
                return starts[row] + real
            }
        }
        return finalNorm(x)                                              // (B, T, C)
    }

    /// Positions of real tokens counted on from `starts` (B) in each row, as HF's
    /// `cumsum(mask) - 1`; a padding token gets its predecessor's position (0 at the start).
    static func maskPositions(mask: [Float], batch b: Int, starts: [Int32]) -> IndexTensor {
        let t = mask.count / b
        var values = [Int32](repeating: 0, count: b * t)
        for row in 0..<b {
            var next = starts[row]
            for j in 0..<t {
                if mask[row * t + j] != 0 {
                    values[row * t + j] = next
                    next += 1
                } else {
                    values[row * t + j] = Swift.max(next - 1, 0)
                }
            }
        }
        return IndexTensor(values, shape: [b, t])
    }

    /// Positions counted from 0 at the start of each segment: (B, T).
    static func segmentPositions(_ segments: IndexTensor) -> IndexTensor {
        let (b, t) = (segments.shape[0], segments.shape[1])
        var values = [Int32](repeating: 0, count: b * t)
        for row in 0..<b {
            var next: Int32 = 0
            for j in 0..<t {
                if j > 0 && segments.values[row * t + j] != segments.values[row * t + j - 1] { next = 0 }
                values[row * t + j] = next
                next += 1
            }
        }
        return IndexTensor(values, shape: [b, t])
    }
}
