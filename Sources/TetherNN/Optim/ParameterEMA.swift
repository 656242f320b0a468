import Foundation
import Tether

/// An exponential moving average of parameters (Polyak averaging): after each optimizer step, `update()` moves every
/// average toward its parameter, `a ← decay·a + (1 − decay)·p`; `apply()` writes the averages into the parameters.
///
/// Averages start at the parameters' values when made. With decay d they weigh the last ~1/(1 − d) steps.
public final class ParameterEMA {
    /// Weight of the old average per update, in [0, 1).
    public let decay: Float
    /// The parameters averaged (contiguous tensors).
    public let parameters: [Tensor]
    /// The averages, one buffer per parameter.
    public private(set) var averages: [[Float]]

    /// Averages of `parameters`, starting at their current values.
    public init(_ parameters: [Tensor], decay: Float) {
        precondition((0..<1).contains(decay), "ParameterEMA: decay \(decay) must be in [0, 1)")
        precondition(parameters.allSatisfy(\.isContiguous), "ParameterEMA: parameters must be contiguous")
        self.decay = decay
        self.parameters = parameters
        averages = parameters.map { $0.scalars() }
    }

    /// Moves each average toward its parameter's current value.
    public func update() {
        let (d, e) = (decay, 1 - decay)
        for (i, p) in parameters.enumerated() {
            let x = p.data
            averages[i].withUnsafeMutableBufferPointer { a in
                for j in a.indices { a[j] = d * a[j] + e * x[j] }
            }
        }
    }

    /// Writes the averages into the parameters (marking their storage modified for caches keyed on it).
    public func apply() {
        for (i, p) in parameters.enumerated() {
            averages[i].withUnsafeBufferPointer { a in p.data.update(from: a.baseAddress!, count: a.count) }
            p.storage.markModified()
        }
    }
}
