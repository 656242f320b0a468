import Foundation
import Tether

/// Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's `AdamW`:
///
///     p ← p · (1 − lr·wd)
///     m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// Each parameter is updated in one pass over raw buffers, split over the thread pool
/// when large; no tensors are allocated per step.
public final class AdamW: Optimizer {
    public var learningRate: Float
    /// Decay rate of the first-moment average.
    public let beta1: Float
    /// Decay rate of the second-moment average.
    public let beta2: Float
    /// Added to the denominator for stability.
    public let eps: Float

    private let slots: [ParameterSlot]
    /// First moments (`exp_avg`), one per slot.
    private let m: [Tensor]
    /// Second moments (`exp_avg_sq`), one per slot.
    private let v: [Tensor]

    /// AdamW over parameter groups (each with its own weight decay).
    public init(groups: [ParameterGroup], learningRate: Float = 1e-3,
                betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8) {
        precondition(learningRate >= 0, "AdamW: learning rate \(learningRate) < 0")
        precondition((0..<1).contains(betas.0) && (0..<1).contains(betas.1),
                     "AdamW: betas \(betas) must be in [0, 1)")
        self.learningRate = learningRate
        self.beta1 = betas.0
        self.beta2 = betas.1
        self.eps = eps
        slots = ParameterSlot.slots(groups)
        m = slots.map { Tensor.zeros($0.tensor.shape) }
        v = slots.map { Tensor.zeros($0.tensor.shape) }
    }

    /// AdamW over named parameters; those for which `noDecay` holds (by default rank < 2:
    /// biases and norm gains) get no weight decay.
    public convenience init(_ parameters: [(String, Tensor)], learningRate: Float = 1e-3,
                            betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                            weightDecay: Float = 0.01,
                            noDecay: (String, Tensor) -> Bool = ParameterGroup.isBiasOrGain) {
        self.init(groups: ParameterGroup.split(parameters, weightDecay: weightDecay, noDecay: noDecay),
                  learningRate: learningRate, betas: betas, eps: eps)
    }

    /// AdamW over a module's trainable parameters (see the named-parameter initializer).
    public convenience init(_ module: Module, learningRate: Float = 1e-3,
                            betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                            weightDecay: Float = 0.01,
                            noDecay: (String, Tensor) -> Bool = ParameterGroup.isBiasOrGain) {
        self.init(module.trainableNamedParameters, learningRate: learningRate, betas: betas,
                  eps: eps, weightDecay: weightDecay, noDecay: noDecay)
    }

    public var namedParameters: [(String, Tensor)] { slots.map { ($0.name, $0.tensor) } }

    public func step() {
        let lr = Double(learningRate)
        for (i, slot) in slots.enumerated() {
            guard let g = slot.denseGradient() else { continue }
            slot.step += 1
            let t = Double(slot.step)
            let biasCorrection1 = 1 - pow(Double(beta1), t)
            let biasCorrection2 = 1 - pow(Double(beta2), t)
            let decay = Float(1 - lr * Double(slot.weightDecay))
            let stepSize = Float(lr / biasCorrection1)
            let invRootBC2 = Float(1 / biasCorrection2.squareRoot())
            let b1 = beta1, b2 = beta2, eps = eps
            slot.tensor.storage.markModified()
            let pp = slot.tensor.data, pm = m[i].data, pv = v[i].data, pg = g.data
            let n = slot.tensor.count
            forEachChunk(n) { range in
                let (lo, count) = (range.lowerBound, range.count)
                Self.update(p: pp + lo, m: pm + lo, v: pv + lo, g: pg + lo, count: count,
                            beta1: b1, beta2: b2, decay: decay, stepSize: stepSize,
                            invRootBC2: invRootBC2, eps: eps)
            }
        }
    }

    /// One AdamW update of `count` elements, 8 lanes at a time.
    ///
    /// Written with SIMD types because the scalar loop does not vectorise on Linux
    /// (`squareRoot()` lowers to glibc's errno-setting `sqrtf`). Each lane does the scalar
    /// formula's operations in the same order (IEEE square root, no fused multiply-adds), so
    /// the result is the scalar loop's bit for bit (tested).
    @inline(never)
    static func update(p: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                       v: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, count: Int,
                       beta1: Float, beta2: Float, decay: Float, stepSize: Float,
                       invRootBC2: Float, eps: Float) {
        typealias V = SIMD8<Float>
        let c1 = 1 - beta1, c2 = 1 - beta2
        let vector = count / V.scalarCount * V.scalarCount
        var j = 0
        while j < vector {
            let gj = load(g + j)
            let mj = V(repeating: beta1) * load(m + j) + V(repeating: c1) * gj
            let vj = V(repeating: beta2) * load(v + j) + V(repeating: c2) * (gj * gj)
            store(mj, m + j)
            store(vj, v + j)
            let denominator = vj.squareRoot() * V(repeating: invRootBC2) + V(repeating: eps)
            store(load(p + j) * V(repeating: decay) - V(repeating: stepSize) * (mj / denominator), p + j)
            j += V.scalarCount
        }
        for j in vector..<count {
            let gj = g[j]
            let mj = beta1 * m[j] + c1 * gj
            let vj = beta2 * v[j] + c2 * (gj * gj)
            m[j] = mj
            v[j] = vj
            p[j] = p[j] * decay - stepSize * (mj / (vj.squareRoot() * invRootBC2 + eps))
        }
    }

    @inline(__always) private static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) private static func store(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
    }

    public func state() -> OptimizerState {
        var state = OptimizerState(scalars: ["lr": Double(learningRate)])
        for (i, slot) in slots.enumerated() {
            state.tensors["\(slot.name).exp_avg"] = m[i]
            state.tensors["\(slot.name).exp_avg_sq"] = v[i]
            state.scalars["\(slot.name).step"] = Double(slot.step)
        }
        return state
    }

    public func load(state: OptimizerState) throws {
        // Check everything before changing anything.
        let restored = try slots.map { slot in
            (try slot.buffer("exp_avg", from: state), try slot.buffer("exp_avg_sq", from: state),
             Int(try slot.scalar("step", from: state)))
        }
        for (i, (mi, vi, step)) in restored.enumerated() {
            Strided.copy(mi, into: m[i].data)
            Strided.copy(vi, into: v[i].data)
            slots[i].step = step
        }
        if let lr = state.scalars["lr"] { learningRate = Float(lr) }
    }
}
