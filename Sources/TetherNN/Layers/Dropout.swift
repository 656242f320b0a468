import Tether

/// Zeroes each element with probability `p` in training mode and scales the rest by
/// 1/(1 − p); the identity in evaluation mode. Masks come from the module's own generator,
/// so a seed fixes every mask of a run.
public final class Dropout: Module, UnaryLayer {
    /// Probability of zeroing an element.
    public let p: Float
    /// The generator masks are drawn from (advances on every training-mode call; save it
    /// with a checkpoint to resume exactly).
    public var rng: RandomGenerator

    /// Dropout with probability `p`, masks drawn from `rng`.
    public init(p: Float, rng: RandomGenerator) {
        precondition(p >= 0 && p < 1, "Dropout: p \(p) must be in [0, 1)")
        self.p = p
        self.rng = rng
        super.init()
    }

    /// Dropout with probability `p`, masks drawn from a generator seeded with `seed`.
    public convenience init(p: Float, seed: UInt64 = 0) {
        self.init(p: p, rng: RandomGenerator(seed: seed))
    }

    /// (…) → (…)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining && p > 0 else { return x }
        return x.dropout(p: p, rng: &rng)
    }
}
