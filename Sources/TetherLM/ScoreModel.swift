import Tether
import TetherNN

/// A sequence scorer (reward or value model): the ``Transformer`` trunk and a linear
/// `score` head (labels, C) without bias, read at each row's last non-pad token, as HF's
/// `AutoModelForSequenceClassification` does (`score.weight`).
public final class ScoreModel: Module {
    /// The shape of the trunk.
    public let config: TransformerConfig
    /// The trunk.
    @Ignored public var transformer: Transformer
    /// The head: (labels, C), no bias.
    @Ignored public var score: Linear

    /// A freshly initialised scorer with `labels` outputs (1 for a reward model).
    public convenience init(config: TransformerConfig, labels: Int = 1, rng: inout RandomGenerator) {
        var weights = WeightSource(rng: rng)
        self.init(config: config, labels: labels, weights: &weights)
        rng = weights.rng!
    }

    /// A scorer with weights from `weights`, or the head's from `head` when given.
    init(config: TransformerConfig, labels: Int, weights: inout WeightSource, head: WeightSource? = nil) {
        self.config = config
        transformer = Transformer(config: config, weights: &weights)
        if var head {
            score = makeLinear(config.hiddenSize, labels, bias: false, std: config.initializerRange, weights: &head)
        } else {
            score = makeLinear(config.hiddenSize, labels, bias: false, std: config.initializerRange, weights: &weights)
        }
        super.init()
    }

    /// A freshly initialised scorer drawn from a generator seeded with `seed`.
    public convenience init(config: TransformerConfig, labels: Int = 1, seed: UInt64 = 0) {
        var rng = RandomGenerator(seed: seed)
        self.init(config: config, labels: labels, rng: &rng)
    }

    override public func namedChildren() -> [(String, Module)] {
        [(trunkName(config.family), transformer), ("score", score)]
    }

    override public func namedDirectParameters() -> [(String, Tensor)] { [] }

    /// Number of outputs per sequence.
    public var labels: Int { score.outFeatures }

    /// Per row, the index of the last token with mask 1 (T - 1 without a mask). (B)
    public static func lastTokenIndices(attentionMask: Tensor?, batch: Int, length: Int) -> [Int] {
        guard let attentionMask else { return Array(repeating: length - 1, count: batch) }
        let m = attentionMask.scalars()
        return (0..<batch).map { row in
            (0..<length).last { m[row * length + $0] != 0 } ?? 0
        }
    }

    /// Scores per token: ids (B, T) → (B, T, labels).
    public func tokenScores(_ ids: IndexTensor, attentionMask: Tensor? = nil, positions: IndexTensor? = nil,
                            segments: IndexTensor? = nil) -> Tensor {
        score(transformer(ids, attentionMask: attentionMask, positions: positions, segments: segments))
    }

    /// Scores read at the last non-pad token: ids (B, T) → (B, labels), with autograd.
    public func callAsFunction(_ ids: IndexTensor, attentionMask: Tensor? = nil,
                               positions: IndexTensor? = nil) -> Tensor {
        let (b, t) = (ids.shape[0], ids.shape[1])
        let hidden = transformer(ids, attentionMask: attentionMask, positions: positions)  // (B, T, C)
        let last = Self.lastTokenIndices(attentionMask: attentionMask, batch: b, length: t)
        let rows = (0..<b).map { hidden.slice(axis: 0, $0..<($0 + 1)).slice(axis: 1, last[$0]..<(last[$0] + 1)) }
        let picked = Tensor.concat(rows, axis: 0).reshape([b, hidden.shape[2]])  // (B, C)
        return score(picked)                                                     // (B, labels)
    }
}
