import Foundation
import Tether

/// A learning-rate schedule: the rate to use for each optimizer step, counting from 0.
///
/// The formulas are Hugging Face's (`get_linear_schedule_with_warmup`,
/// `get_cosine_schedule_with_warmup`, `cosine_with_min_lr`): warm-up rises linearly from 0
/// at step 0 to `peak` at step `warmupSteps`, then decays to `peak · minRatio` at
/// `totalSteps` and stays there.
public enum LRSchedule: Sendable, Codable, Equatable {
    /// The same rate at every step.
    case constant(Float)
    /// Linear warm-up, then constant at `peak`.
    case constantWithWarmup(peak: Float, warmupSteps: Int)
    /// Linear warm-up, then linear decay to `peak · minRatio` at `totalSteps`.
    case linear(peak: Float, warmupSteps: Int, totalSteps: Int, minRatio: Float = 0)
    /// Linear warm-up, then half a cosine down to `peak · minRatio` at `totalSteps`.
    case cosine(peak: Float, warmupSteps: Int, totalSteps: Int, minRatio: Float = 0)

    /// The learning rate for optimizer step `step` (0-based).
    public func learningRate(at step: Int) -> Float {
        let step = max(step, 0)
        switch self {
        case .constant(let rate):
            return rate
        case .constantWithWarmup(let peak, let warmup):
            return step < warmup ? Float(Double(peak) * Self.warmupFactor(step, warmup)) : peak
        case .linear(let peak, let warmup, let total, let minRatio):
            if step < warmup { return Float(Double(peak) * Self.warmupFactor(step, warmup)) }
            let factor = 1 - Self.progress(step, warmup, total)
            return Float(Double(peak) * (Double(minRatio) + (1 - Double(minRatio)) * factor))
        case .cosine(let peak, let warmup, let total, let minRatio):
            if step < warmup { return Float(Double(peak) * Self.warmupFactor(step, warmup)) }
            let factor = 0.5 * (1 + cos(Double.pi * Self.progress(step, warmup, total)))
            return Float(Double(peak) * (Double(minRatio) + (1 - Double(minRatio)) * factor))
        }
    }

    /// Sets `optimizer.learningRate` for step `step` and returns the rate.
    @discardableResult
    public func apply(to optimizer: any Optimizer, at step: Int) -> Float {
        let rate = learningRate(at: step)
        optimizer.learningRate = rate
        return rate
    }

    private static func warmupFactor(_ step: Int, _ warmup: Int) -> Double {
        Double(step) / Double(max(1, warmup))
    }

    /// Fraction of the decay phase done at `step`, in [0, 1].
    private static func progress(_ step: Int, _ warmup: Int, _ total: Int) -> Double {
        min(1, max(0, Double(step - warmup) / Double(max(1, total - warmup))))
    }
}
