import Foundation
import Tether

/// ORPO's per-pair losses and statistics.
public struct ORPOLoss {
    /// (B) NLL of the chosen completion − λ·log σ(log odds ratio), with autograd.
    public var losses: Tensor
    /// (B) −mean log p(chosen): the SFT term (detached).
    public var nll: Tensor
    /// (B) log σ(log odds(chosen) − log odds(rejected)) (detached; TRL's `log_odds_ratio`).
    public var logOddsRatio: Tensor
    /// (B) log odds(chosen) − log odds(rejected) (detached; TRL's `log_odds_chosen`).
    public var logOdds: Tensor
    /// (B) λ·mean log p(chosen) (detached; TRL's `rewards/chosen`).
    public var chosenRewards: Tensor
    /// (B) λ·mean log p(rejected) (detached).
    public var rejectedRewards: Tensor
}

/// ORPO (Hong et al. 2024), no reference model: from length-normalised log-probs (B) of chosen and rejected,
/// odds(y) = p/(1−p) with log p the mean token log-prob; loss = −log p(chosen) − λ·log σ(log odds(c) − log odds(r)).
public func orpoLoss(chosen: Tensor, rejected: Tensor, lambda: Float) -> ORPOLoss {
    precondition(chosen.rank == 1 && chosen.shape == rejected.shape, "orpoLoss: \(chosen.shape) vs \(rejected.shape)")
    // log(1 − e^x) for x < 0; clamped so a log-prob of exactly 0 stays finite.
    func log1mExp(_ x: Tensor) -> Tensor { (1 - x.exp()).clamp(min: 1e-7).log() }
    let logOdds = (chosen - rejected) - (log1mExp(chosen) - log1mExp(rejected))     // (B)
    let ratio = logSigmoid(logOdds)                                                // (B)
    let nll = -chosen
    return ORPOLoss(losses: nll - lambda * ratio, nll: nll.detach(), logOddsRatio: ratio.detach(), logOdds: logOdds.detach(),
                    chosenRewards: lambda * chosen.detach(), rejectedRewards: lambda * rejected.detach())
}
