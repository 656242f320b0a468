import Tether
import TetherNN

/// A sequence scorer (reward or value model): the ``Transformer`` trunk and a linear
/// `score` head (labels, C) without bias, read at each row's last non-pad token, as HF's
/// `AutoModelForSequenceClassification` does (`score.weight`).
///
/// With a `verifier` (2·labels, C), the score also sums, over every written token x_t, a
/// learned weight a of the state that predicts it times the LM head's log-prob of it, plus a
/// learned score b of that state: r = score(h_last) + Σ_t [a(h_{t−1})·log p(x_t | h_{t−1}) +
/// b(h_{t−1})], (a, b) = verifier(h). A trunk that can compute an answer then hands the head
/// a check of the written one (a wrong digit has a log-prob far below a right one), which a
/// scalar read at the last token alone cannot carry there; b counts what that read must
/// otherwise carry too, such as length. Tokens shared by two sequences (a pair's prompt)
/// add the same amount to both.
public final class ScoreModel: Module {
    /// The shape of the trunk.
    public let config: TransformerConfig
    /// The trunk.
    @Ignored public var transformer: Transformer
    /// The head: (labels, C), no bias.
    @Ignored public var score: Linear
    /// Per token, the weight of the LM log-prob and a score of its own: (2·labels, C), no bias; nil without a verifier.
    @Ignored public var verifier: Linear?
    /// The untied LM head (V, C) the verifier reads (nil: none, or the token embedding when tied).
    @Ignored public var lmHead: Linear?

    /// A freshly initialised scorer with `labels` outputs (1 for a reward model).
    public convenience init(config: TransformerConfig, labels: Int = 1, verifier: Bool = false, rng: inout RandomGenerator) {
        var weights = WeightSource(rng: rng)
        self.init(config: config, labels: labels, verifier: verifier, weights: &weights)
        rng = weights.rng!
    }

    /// A scorer with weights from `weights`, or the head's from `head` when given; a verifier starts at zero (the
    /// plain scorer).
    init(config: TransformerConfig, labels: Int, verifier: Bool = false, weights: inout WeightSource, head: WeightSource? = nil) {
        self.config = config
        transformer = Transformer(config: config, weights: &weights)
        if var head {
            score = makeLinear(config.hiddenSize, labels, bias: false, std: config.initializerRange, weights: &head)
        } else {
            score = makeLinear(config.hiddenSize, labels, bias: false, std: config.initializerRange, weights: &weights)
        }
        if verifier {
            self.verifier = Linear(weight: Tensor.zeros([2 * labels, config.hiddenSize]), bias: nil)
            lmHead = config.tieWordEmbeddings ? nil
                : makeLinear(config.hiddenSize, config.vocabSize, bias: false, std: config.initializerRange, weights: &weights)
        }
        super.init()
    }

    /// A freshly initialised scorer drawn from a generator seeded with `seed`.
    public convenience init(config: TransformerConfig, labels: Int = 1, verifier: Bool = false, seed: UInt64 = 0) {
        var rng = RandomGenerator(seed: seed)
        self.init(config: config, labels: labels, verifier: verifier, rng: &rng)
    }

    override public func namedChildren() -> [(String, Module)] {
        [(trunkName(config.family), transformer), ("score", score)]
            + (verifier.map { [("verifier", $0 as Module)] } ?? []) + (lmHead.map { [("lm_head", $0 as Module)] } ?? [])
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
        guard let verifier, t > 1 else { return score(picked) }                  // (B, labels)
        return score(picked) + verified(hidden: hidden, ids: ids, attentionMask: attentionMask, verifier: verifier)
    }

    /// Σ_t [a(h_{t−1})·log p(x_t | h_{t−1}) + b(h_{t−1})] over the real tokens x_t, t ≥ 1, with (a, b) = verifier(h):
    /// hidden (B, T, C) → (B, labels).
    func verified(hidden: Tensor, ids: IndexTensor, attentionMask: Tensor?, verifier: Linear) -> Tensor {
        let (b, t, c) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        let states = hidden.slice(axis: 1, 0..<(t - 1))                          // (B, T-1, C)
        let next = ids.values.indices.filter { $0 % t != 0 }.map { ids.values[$0] }  // x_1 ... x_{T-1} per row
        let outputWeight = lmHead?.weight ?? transformer.tokenEmbedding.weight   // (V, C)
        let logp = Tensor.linearTokenLogProbs(hidden: states.reshape([b * (t - 1), c]), weight: outputWeight,
                                              tokens: IndexTensor(next, shape: [b * (t - 1)]), chunkRows: 512)
            .reshape([b, t - 1, 1])                                              // (B, T-1, 1)
        let ab = verifier(states)                                                // (B, T-1, 2·labels)
        var perToken = ab.slice(axis: 2, 0..<labels) * logp + ab.slice(axis: 2, labels..<(2 * labels))  // (B, T-1, labels)
        if let attentionMask { perToken = perToken * attentionMask.slice(axis: 1, 1..<t).reshape([b, t - 1, 1]) }
        return perToken.sum(axis: 1)                                             // (B, labels)
    }
}
