import Foundation
import Tether
import TetherLM

/// log σ(x), stable for any x: min(x, 0) − log(1 + e^(−|x|)). Composite, so its gradient comes from the primitives.
public func logSigmoid(_ x: Tensor) -> Tensor {
    Tensor.minimum(x, Tensor.zeros(x.shape)) - ((-x.abs()).exp() + 1).log()
}

/// The DPO family's loss variants (TRL's `loss_type`), each a function of the margin of log-ratios.
public enum DPOLossType: String, Codable, Sendable, CaseIterable {
    /// DPO (Rafailov et al. 2023): −log σ(β·h), with conservative label smoothing ε: −(1−ε)·log σ(βh) − ε·log σ(−βh).
    case sigmoid
    /// IPO (Azar et al. 2023): (h − 1/(2β))², on length-normalised log-probs as TRL computes it.
    case ipo
    /// SLiC-style hinge: max(0, 1 − β·h).
    case hinge
    /// Robust DPO (Chowdhury et al. 2024), unbiased under label noise ε: ((1−ε)·(−log σ(βh)) + ε·log σ(−βh)) / (1 − 2ε).
    case robust
    /// SimPO (Meng et al. 2024): reference-free, h = mean log p(chosen) − mean log p(rejected) − γ/β, then the sigmoid loss.
    case simpo

    /// Whether the loss compares against a reference model (SimPO does not).
    public var needsReference: Bool { self != .simpo }

    /// How sequence log-probs are formed: summed for DPO, hinge and robust; length-normalised for IPO (TRL) and SimPO.
    public var reduction: SequenceReduction {
        switch self {
        case .sigmoid, .hinge, .robust: return .sum
        case .ipo, .simpo: return .mean
        }
    }
}

/// Per-pair losses of a preference objective and the implicit rewards it logs.
public struct PreferenceLoss {
    /// (B) loss per pair, with autograd.
    public var losses: Tensor
    /// (B) implicit reward of the chosen completion (detached): β·(log π − log π_ref), or β·log π without reference.
    public var chosenRewards: Tensor
    /// (B) implicit reward of the rejected completion (detached).
    public var rejectedRewards: Tensor
}

/// The DPO-family loss over sequence log-probs, all (B): policy (with autograd) and reference (nil for SimPO).
///
/// h = (log π(c) − log π(r)) − (log π_ref(c) − log π_ref(r)) for the reference-based variants; see ``DPOLossType``.
/// Its gradient raises the chosen log-prob and lowers the rejected one.
public func dpoLoss(policyChosen: Tensor, policyRejected: Tensor, refChosen: Tensor?, refRejected: Tensor?,
                    beta: Float, type: DPOLossType, labelSmoothing: Float = 0, simpoGamma: Float = 0.5) -> PreferenceLoss {
    precondition(policyChosen.shape == policyRejected.shape && policyChosen.rank == 1,
                 "dpoLoss: policy log-probs \(policyChosen.shape) and \(policyRejected.shape) must both be (B)")
    precondition(beta > 0, "dpoLoss: beta must be positive, got \(beta)")
    precondition(labelSmoothing >= 0 && labelSmoothing < 0.5, "dpoLoss: label_smoothing must be in [0, 0.5), got \(labelSmoothing)")
    let eps = labelSmoothing
    if type == .simpo {
        let h = policyChosen - policyRejected - simpoGamma / beta                             // (B)
        let losses = -(1 - eps) * logSigmoid(beta * h) - eps * logSigmoid(-beta * h)
        return PreferenceLoss(losses: losses, chosenRewards: beta * policyChosen.detach(),
                              rejectedRewards: beta * policyRejected.detach())
    }
    guard let refChosen, let refRejected else { preconditionFailure("dpoLoss: \(type.rawValue) needs reference log-probs") }
    precondition(refChosen.shape == policyChosen.shape && refRejected.shape == policyChosen.shape,
                 "dpoLoss: reference \(refChosen.shape), \(refRejected.shape) must match the policy's \(policyChosen.shape)")
    let chosenRatio = policyChosen - refChosen.detach(), rejectedRatio = policyRejected - refRejected.detach()  // (B)
    let h = chosenRatio - rejectedRatio                                                                       // (B)
    let losses: Tensor
    switch type {
    case .sigmoid:
        losses = -(1 - eps) * logSigmoid(beta * h) - eps * logSigmoid(-beta * h)
    case .robust:
        losses = ((1 - eps) * -logSigmoid(beta * h) + eps * logSigmoid(-beta * h)) / (1 - 2 * eps)
    case .hinge:
        losses = (1 - beta * h).relu()
    case .ipo:
        losses = (h - 1 / (2 * beta)).pow(2)
    case .simpo:
        preconditionFailure("unreachable")
    }
    return PreferenceLoss(losses: losses, chosenRewards: beta * chosenRatio.detach(), rejectedRewards: beta * rejectedRatio.detach())
}

/// TRL's preference metric sums over a batch (the loop divides by the pairs): `rewards/chosen`, `rewards/rejected`,
/// `rewards/accuracies`, `rewards/margins`, `logps/chosen`, `logps/rejected`.
public func preferenceMetricSums(_ loss: PreferenceLoss, policyChosen: Tensor, policyRejected: Tensor) -> [String: Double] {
    let c = loss.chosenRewards.scalars(), r = loss.rejectedRewards.scalars()
    let lc = policyChosen.detach().scalars(), lr = policyRejected.detach().scalars()
    func sum(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) } }
    return ["rewards/chosen": sum(c), "rewards/rejected": sum(r),
            "rewards/accuracies": Double(zip(c, r).filter { $0 > $1 }.count),
            "rewards/margins": sum(zip(c, r).map { $0 - $1 }),
            "logps/chosen": sum(lc), "logps/rejected": sum(lr)]
}
