/// Reverse-mode autograd: the record of how a tensor was computed, and `backward()`.

/// Maps (gradient of the output, the output itself) to the inputs' gradients, nil where
/// an input needs none. The output is passed in rather than captured: a closure that
/// captured its own output would keep it alive forever through output.node.
typealias BackwardFn = (_ grad: Tensor, _ output: Tensor) -> [Tensor?]

/// One recorded op: its inputs and its backward function.
final class Node {
    let op: String
    let inputs: [Tensor]
    let backward: BackwardFn

    init(op: String, inputs: [Tensor], backward: @escaping BackwardFn) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether ops record a graph on the current task or thread.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording any graph (inference, optimizer updates).
public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Wraps an op's freshly computed `output`: records a node when any input needs grad.
    @discardableResult
    static func record(_ output: Tensor, op: String, inputs: [Tensor],
                       backward: @escaping BackwardFn) -> Tensor {
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            output.requiresGrad = true
            output.node = Node(op: op, inputs: inputs, backward: backward)
        }
        return output
    }

    /// Whether this tensor is a leaf (made by the user, not by an op).
    public var isLeaf: Bool { node == nil }

    /// Computes gradients of this tensor with respect to every leaf that requires grad,
    /// adding them into the leaves' `grad`, then frees the graph.
    /// - Parameter gradient: d(loss)/d(self); defaults to 1 for a one-element tensor.
    public func backward(_ gradient: Tensor? = nil) {
        Tensor.accumulate(leafGradients(gradient))
    }

    /// The gradients of this tensor with respect to every leaf that requires grad, one per leaf, without touching
    /// the leaves' `grad` (so graphs that share leaves can run on different threads), then frees the graph.
    /// ``accumulate(_:)`` adds them in afterwards, as ``backward(_:)`` does.
    public func leafGradients(_ gradient: Tensor? = nil) -> [(leaf: Tensor, gradient: Tensor)] {
        precondition(requiresGrad, "backward() on a tensor that does not require grad")
        let seed = gradient ?? {
            precondition(count == 1, "backward() without a gradient needs one element, shape is \(shape)")
            return Tensor.ones(shape)
        }()
        precondition(seed.shape == shape, "gradient shape \(seed.shape) != tensor shape \(shape)")

        return noGrad {
            let order = topologicalOrder()
            var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
            var leaves: [(leaf: Tensor, gradient: Tensor)] = []
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.node else {
                    leaves.append((t, g))
                    continue
                }
                let inputGrads = node.backward(g, t)
                precondition(inputGrads.count == node.inputs.count, "\(node.op): wrong number of gradients")
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard let ig, input.requiresGrad else { continue }
                    precondition(ig.shape == input.shape,
                                 "\(node.op): gradient shape \(ig.shape) != input shape \(input.shape)")
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { $0 + ig } ?? ig
                }
                t.node = nil  // free the graph as we go
            }
            return leaves
        }
    }

    /// Adds gradients from ``leafGradients(_:)`` into their leaves' `grad`.
    public static func accumulate(_ gradients: [(leaf: Tensor, gradient: Tensor)]) {
        noGrad { for (leaf, g) in gradients { leaf.accumulateGrad(g) } }
    }

    /// Adds `g` into `grad` (a fresh dense copy the first time, in place after).
    func accumulateGrad(_ g: Tensor) {
        if let existing = grad {
            let src = g.contiguousData()
            let dst = existing.data
            for i in 0..<count { dst[i] += src.data[i] }
        } else {
            let copy = Tensor(uninitialized: shape)
            Strided.copy(g, into: copy.data)
            grad = copy
        }
    }

    /// Every tensor reachable from this one through recorded nodes, inputs first.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative DFS: (tensor, whether its inputs were already pushed).
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded {
                order.append(t)
                continue
            }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            for input in t.node?.inputs ?? [] where input.requiresGrad
                && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}
