import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM

/// Every preference loss against values worked out by hand from its paper's formula, and its gradient direction.
@Suite struct PreferenceLossTests {
    static func close(_ a: [Float], _ b: [Double], tol: Double = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) < tol * max(1, abs($1)) }
    }

    /// Policy (with gradients) and reference log-probs of two pairs: h = 1.0 and h = −0.5.
    static func pairs() -> (Tensor, Tensor, Tensor, Tensor) {
        (Tensor([-1, -2], shape: [2], requiresGrad: true), Tensor([-3, -1], shape: [2], requiresGrad: true),
         Tensor([-1.5, -2], shape: [2]), Tensor([-2.5, -1.5], shape: [2]))
    }

    @Test(arguments: [
        (DPOLossType.sigmoid, Float(0), [0.6443966600735709, 0.7184596480132863]),       // −log σ(βh)
        (.sigmoid, 0.1, [0.6543966600735709, 0.7134596480132863]),                      // −(1−ε)log σ(βh) − ε log σ(−βh)
        (.robust, 0.1, [0.6318966600735709, 0.7247096480132862]),                       // ((1−ε)(−log σ(βh)) + ε log σ(−βh))/(1−2ε)
        (.hinge, 0, [0.9, 1.05]),                                                       // max(0, 1 − βh)
        (.ipo, 0, [16.0, 30.25]),                                                       // (h − 1/(2β))²
    ])
    func dpoVariantsMatchTheirFormulas(type: DPOLossType, smoothing: Float, expected: [Double]) {
        let (pc, pr, rc, rr) = Self.pairs()
        let out = dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, beta: 0.1, type: type,
                          labelSmoothing: smoothing)
        #expect(Self.close(out.losses.scalars(), expected), "\(type): \(out.losses.scalars()) vs \(expected)")
        // Rewards are β·(log π − log π_ref).
        #expect(Self.close(out.chosenRewards.scalars(), [0.05, 0]) && Self.close(out.rejectedRewards.scalars(), [-0.05, 0.05]))
        // Descending the loss raises the chosen log-prob and lowers the rejected one.
        out.losses.sum().backward()
        #expect(pc.grad!.scalars().allSatisfy { $0 < 0 } && pr.grad!.scalars().allSatisfy { $0 > 0 }, "\(type)")
    }

    @Test func dpoSigmoidGradientIsBetaTimesSigmoidOfMinusBetaH() {
        let (pc, pr, rc, rr) = Self.pairs()
        dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: rc, refRejected: rr, beta: 0.1, type: .sigmoid).losses.sum().backward()
        // ∂/∂ log π(c) = −β σ(−βh); ∂/∂ log π(r) = +β σ(−βh).
        #expect(Self.close(pc.grad!.scalars(), [-0.047502081252106004, -0.051249739648421035]))
        #expect(Self.close(pr.grad!.scalars(), [0.047502081252106004, 0.051249739648421035]))
    }

    @Test func simpoIsReferenceFreeWithTargetMargin() {
        let pc = Tensor([-0.5, -1.2], shape: [2], requiresGrad: true), pr = Tensor([-0.9, -0.7], shape: [2], requiresGrad: true)
        let out = dpoLoss(policyChosen: pc, policyRejected: pr, refChosen: nil, refRejected: nil, beta: 2, type: .simpo,
                          simpoGamma: 0.5)
        // −log σ(β(mean log p_c − mean log p_r) − γ).
        #expect(Self.close(out.losses.scalars(), [0.5543552444685271, 1.7014132779827524]))
        #expect(Self.close(out.chosenRewards.scalars(), [-1.0, -2.4]))
        out.losses.sum().backward()
        #expect(pc.grad!.scalars().allSatisfy { $0 < 0 } && pr.grad!.scalars().allSatisfy { $0 > 0 })
        #expect(!DPOLossType.simpo.needsReference && DPOLossType.simpo.reduction == .mean && DPOLossType.sigmoid.reduction == .sum)
    }

    @Test func ktoUsesTheBatchKLAsReferencePointAndWeightsEachSide() {
        // z₀ = max(0, mean(log π − log π_ref) over mismatched pairs) = (0.2 + 0.1 + 0.3)/3 = 0.2.
        let z0 = ktoReferencePoint(policyKL: Tensor([-4, -5, -3], shape: [3]), refKL: Tensor([-4.2, -5.1, -3.3], shape: [3]))
        #expect(abs(z0 - 0.2) < 1e-6)
        #expect(ktoReferencePoint(policyKL: Tensor([-4], shape: [1]), refKL: Tensor([-3], shape: [1])) == 0)  // clamped at 0
        let policy = Tensor([-2, -3, -1], shape: [3], requiresGrad: true)
        let out = ktoLoss(policy: policy, reference: Tensor([-2.5, -2, -1], shape: [3]), desirable: [true, false, true],
                          referencePoint: z0, beta: 0.1, desirableWeight: 1, undesirableWeight: 1.5)
        // desirable: 1 − σ(β(r − z₀)); undesirable: w_u(1 − σ(β(z₀ − r))).
        #expect(Self.close(out.losses.scalars(), [0.4925005624493797, 0.7050539223531425, 0.5049998333399996]))
        #expect(Self.close(out.rewards.scalars(), [0.05, -0.1, 0]))
        out.losses.sum().backward()
        let g = policy.grad!.scalars()
        #expect(g[0] < 0 && g[2] < 0 && g[1] > 0, "desirable up, undesirable down: \(g)")
    }

    @Test func orpoAddsTheLogOddsRatioToTheNLL() {
        let c = Tensor([-0.3, -1.0], shape: [2], requiresGrad: true), r = Tensor([-0.8, -0.6], shape: [2], requiresGrad: true)
        let out = orpoLoss(chosen: c, rejected: r, lambda: 0.1)
        // log odds = (c − r) − (log(1 − e^c) − log(1 − e^r)); loss = −c − λ log σ(log odds).
        #expect(Self.close(out.logOdds.scalars(), [1.2536079336258714, -0.7371952229592376]))
        #expect(Self.close(out.logOddsRatio.scalars(), [-0.2511267199430222, -1.1281921648325537]))
        #expect(Self.close(out.losses.scalars(), [0.3251126719943022, 1.1128192164832553]))
        #expect(Self.close(out.nll.scalars(), [0.3, 1.0]))
        out.losses.sum().backward()
        #expect(c.grad!.scalars().allSatisfy { $0 < 0 } && r.grad!.scalars().allSatisfy { $0 > 0 })
    }

    @Test func bradleyTerryWithMarginAndCentering() {
        let rc = Tensor([1, -0.5], shape: [2], requiresGrad: true), rr = Tensor([0.2, 0.5], shape: [2], requiresGrad: true)
        #expect(Self.close(bradleyTerryLoss(chosen: rc, rejected: rr).scalars(), [0.3711006659477777, 1.3132616875182228]))
        #expect(Self.close(bradleyTerryLoss(chosen: rc, rejected: rr, margin: Tensor([0.5, 0], shape: [2])).scalars(),
                           [0.5543552444685271, 1.3132616875182228]))
        let centered = bradleyTerryLoss(chosen: rc, rejected: rr, centerRewardsCoefficient: 0.01)
        #expect(Self.close(centered.scalars(), [0.3855006659477777, 1.3132616875182228]))
        bradleyTerryLoss(chosen: rc, rejected: rr).sum().backward()
        #expect(rc.grad!.scalars().allSatisfy { $0 < 0 } && rr.grad!.scalars().allSatisfy { $0 > 0 })
        let m = rewardMetricSums(chosen: [1, -0.5], rejected: [0.2, 0.5])
        #expect(m["accuracy"] == 1 && abs(m["margin"]! - (0.8 - 1.0)) < 1e-6 && abs(m["mean_reward"]! - 0.6) < 1e-6)
        #expect(m["min_reward"] == -1 && m["max_reward"] == 2)   // the batch's extreme × its 2 pairs
    }

    @Test func logSigmoidIsStableAtTheExtremes() {
        let x = Tensor([-200, -1, 0, 1, 200], shape: [5])
        let y = logSigmoid(x).scalars()
        #expect(Self.close(y, [-200, -1.3132616875182228, -0.6931471805599453, -0.31326168751822286, 0]))
    }

    @Test func ensembleAggregations() {
        let scores: [[Float]] = [[1, 0], [3, 0], [2, 3]]    // 3 members, 2 rows
        #expect(EnsembleAggregation.mean.aggregate(scores) == [2, 1])
        #expect(EnsembleAggregation.min.aggregate(scores) == [1, 0])
        // Row 0: mean 2, population std √(2/3); row 1: mean 1, std √2.
        #expect(Self.close(EnsembleAggregation.meanMinusStd(lambda: 0.5).aggregate(scores),
                           [2 - 0.5 * (2.0 / 3).squareRoot(), 1 - 0.5 * 2.0.squareRoot()]))
        #expect(EnsembleAggregation(name: "mean-std", lambda: 2) == .meanMinusStd(lambda: 2))
        #expect(EnsembleAggregation(name: "median") == nil)
    }

    @Test func sequenceLogProbsAgreeWithTheEvaluator() throws {
        let model = tinyGPT2(seed: 4)
        let pairs: [(prompt: [Int32], completion: [Int32])] = [([1, 2, 3], [4, 5]), ([6], [7, 8, 9, 10]), ([2, 2], [3])]
        let perToken = try logProbs(model: model, pairs: pairs)
        let batch = CompletionBatch(pairs: pairs, padId: 0)
        let sums = noGrad { model.sequenceLogProbs(batch, reduction: .sum).scalars() }
        let means = noGrad { model.sequenceLogProbs(batch, reduction: .mean).scalars() }
        for (i, lp) in perToken.enumerated() {
            let s = lp.reduce(0, +)
            #expect(abs(sums[i] - s) < 1e-5 && abs(means[i] - s / Float(lp.count)) < 1e-5)
        }
        // Each row scores as if alone.
        let alone = noGrad { model.sequenceLogProbs(CompletionBatch(pairs: [pairs[1]])).scalars() }
        #expect(abs(alone[0] - sums[1]) < 1e-5)
    }
}
