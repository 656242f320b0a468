import Foundation
import Tether

/// The Bradley–Terry reward-model loss per pair (TRL's `RewardTrainer`): rewards (B) of chosen and rejected,
/// −log σ(r_c − r_r − m) with the optional per-pair margin m (B), plus c·(r_c + r_r)² when
/// `centerRewardsCoefficient` c is set (pulls rewards towards mean zero, Eisenstein et al. 2023).
public func bradleyTerryLoss(chosen: Tensor, rejected: Tensor, margin: Tensor? = nil,
                             centerRewardsCoefficient: Float? = nil) -> Tensor {
    precondition(chosen.rank == 1 && chosen.shape == rejected.shape, "bradleyTerryLoss: \(chosen.shape) vs \(rejected.shape)")
    var diff = chosen - rejected                                                   // (B)
    if let margin {
        precondition(margin.shape == chosen.shape, "bradleyTerryLoss: margin \(margin.shape) vs rewards \(chosen.shape)")
        diff = diff - margin
    }
    var losses = -logSigmoid(diff)
    if let c = centerRewardsCoefficient, c != 0 { losses = losses + c * (chosen + rejected).pow(2) }
    return losses
}

/// Reward-model metric sums over a batch (the loop divides by the pairs): `accuracy` (r_c > r_r), `margin`
/// (r_c − r_r), `mean_reward` (mean of the pair's two rewards), and `min_reward` / `max_reward` (the batch's
/// extreme, weighted by its pairs, so the logged value is the mean over batches as TRL logs it).
public func rewardMetricSums(chosen: [Float], rejected: [Float]) -> [String: Double] {
    precondition(chosen.count == rejected.count && !chosen.isEmpty, "rewardMetricSums: \(chosen.count) vs \(rejected.count)")
    let n = Double(chosen.count)
    let all = chosen + rejected
    return ["accuracy": Double(zip(chosen, rejected).filter { $0 > $1 }.count),
            "margin": zip(chosen, rejected).reduce(0.0) { $0 + Double($1.0 - $1.1) },
            "mean_reward": all.reduce(0.0) { $0 + Double($1) } / 2,
            "min_reward": Double(all.min()!) * n, "max_reward": Double(all.max()!) * n]
}
