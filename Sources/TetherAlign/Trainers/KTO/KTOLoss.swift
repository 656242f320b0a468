import Foundation
import Tether

/// KTO's reference point (Ethayarajh et al. 2024, TRL's `kl`): the batch mean of log π − log π_ref over mismatched
/// (prompt, completion) pairs, clamped at 0 and detached. policyKL, refKL: (B).
public func ktoReferencePoint(policyKL: Tensor, refKL: Tensor) -> Float {
    precondition(policyKL.shape == refKL.shape && policyKL.rank == 1, "ktoReferencePoint: \(policyKL.shape) vs \(refKL.shape)")
    guard policyKL.count > 0 else { return 0 }
    let d = zip(policyKL.detach().scalars(), refKL.detach().scalars()).reduce(0.0) { $0 + Double($1.0 - $1.1) }
    return Float(max(0, d / Double(policyKL.count)))
}

/// KTO's per-example losses: with r = log π(y|x) − log π_ref(y|x) (B) and reference point z₀,
/// desirable: w_d·(1 − σ(β(r − z₀))), undesirable: w_u·(1 − σ(β(z₀ − r))). Rewards β·r (detached).
public func ktoLoss(policy: Tensor, reference: Tensor, desirable: [Bool], referencePoint z0: Float, beta: Float,
                    desirableWeight: Float = 1, undesirableWeight: Float = 1) -> (losses: Tensor, rewards: Tensor) {
    precondition(policy.rank == 1 && policy.shape == reference.shape && desirable.count == policy.count,
                 "ktoLoss: policy \(policy.shape), reference \(reference.shape), \(desirable.count) labels must agree")
    precondition(beta > 0, "ktoLoss: beta must be positive, got \(beta)")
    let ratio = policy - reference.detach()                                           // (B)
    let sign = Tensor(desirable.map { $0 ? 1 : -1 }, shape: [policy.count])         // +1 desirable, −1 undesirable
    let weight = Tensor(desirable.map { $0 ? desirableWeight : undesirableWeight }, shape: [policy.count])
    // desirable: β(r − z₀); undesirable: β(z₀ − r) = −β(r − z₀).
    let losses = weight * (1 - (beta * sign * (ratio - z0)).sigmoid())
    return (losses, beta * ratio.detach())
}
