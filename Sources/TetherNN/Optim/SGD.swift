import Tether

/// Stochastic gradient descent with optional momentum, Nesterov momentum and (coupled, L2)
/// weight decay, as PyTorch's `SGD`:
///
///     g ← g + wd·p
///     b ← g on the first step, else μ·b + (1 − dampening)·g
///     g ← g + μ·b (Nesterov) or b
///     p ← p − lr·g
public final class SGD: Optimizer {
    public var learningRate: Float
    /// Momentum factor μ (0 disables the momentum buffer).
    public let momentum: Float
    /// Fraction of the gradient withheld from the momentum buffer.
    public let dampening: Float
    /// Whether to use Nesterov momentum.
    public let nesterov: Bool

    private let slots: [ParameterSlot]
    /// Momentum buffers (empty when `momentum == 0`).
    private let buffers: [Tensor]

    /// SGD over parameter groups (each with its own weight decay).
    public init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0,
                dampening: Float = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0, "SGD: learning rate \(learningRate) < 0")
        precondition(momentum >= 0, "SGD: momentum \(momentum) < 0")
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum needs momentum > 0 and dampening 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        slots = ParameterSlot.slots(groups)
        buffers = momentum == 0 ? [] : slots.map { Tensor.zeros($0.tensor.shape) }
    }

    /// SGD over named parameters, all with weight decay `weightDecay`.
    public convenience init(_ parameters: [(String, Tensor)], learningRate: Float, momentum: Float = 0,
                            dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.init(groups: [ParameterGroup(parameters, weightDecay: weightDecay)], learningRate: learningRate,
                  momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    /// SGD over a module's trainable parameters.
    public convenience init(_ module: Module, learningRate: Float, momentum: Float = 0,
                            dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.init(module.trainableNamedParameters, learningRate: learningRate, momentum: momentum,
                  dampening: dampening, nesterov: nesterov, weightDecay: weightDecay)
    }

    public var namedParameters: [(String, Tensor)] { slots.map { ($0.name, $0.tensor) } }

    public func step() {
        let lr = learningRate, mu = momentum, keep = 1 - dampening, nesterov = nesterov
        for (i, slot) in slots.enumerated() {
            guard let g = slot.denseGradient() else { continue }
            let first = slot.step == 0
            slot.step += 1
            let wd = slot.weightDecay
            slot.tensor.storage.markModified()
            let pp = slot.tensor.data, pg = g.data
            if mu == 0 {
                forEachChunk(slot.tensor.count) { range in
                    for j in range { pp[j] -= lr * (pg[j] + wd * pp[j]) }
                }
                continue
            }
            let pb = buffers[i].data
            forEachChunk(slot.tensor.count) { range in
                for j in range {
                    let gj = pg[j] + wd * pp[j]
                    let bj = first ? gj : mu * pb[j] + keep * gj
                    pb[j] = bj
                    pp[j] -= lr * (nesterov ? gj + mu * bj : bj)
                }
            }
        }
    }

    public func state() -> OptimizerState {
        var state = OptimizerState(scalars: ["lr": Double(learningRate)])
        for (i, slot) in slots.enumerated() {
            if !buffers.isEmpty { state.tensors["\(slot.name).momentum_buffer"] = buffers[i] }
            state.scalars["\(slot.name).step"] = Double(slot.step)
        }
        return state
    }

    public func load(state: OptimizerState) throws {
        let restored = try slots.map { slot in
            (buffers.isEmpty ? nil : try slot.buffer("momentum_buffer", from: state),
             Int(try slot.scalar("step", from: state)))
        }
        for (i, (buffer, step)) in restored.enumerated() {
            if let buffer { Strided.copy(buffer, into: buffers[i].data) }
            slots[i].step = step
        }
        if let lr = state.scalars["lr"] { learningRate = Float(lr) }
    }
}
