import Foundation
import Tether

/// Rotary position embedding (Llama's "rotate half" layout: dimension i pairs with i + D/2).
public struct RotaryEmbedding: Sendable {
    /// Size of each head, D.
    public let headDim: Int
    /// One inverse frequency per pair of dimensions, after scaling: (D/2)
    public let inverseFrequencies: [Float]

    /// Frequencies θ^(-2i/D) for i < D/2, rescaled as `scaling` says.
    public init(headDim: Int, theta: Double, scaling: TransformerConfig.RopeScaling? = nil) {
        precondition(headDim % 2 == 0, "RoPE: head size \(headDim) must be even")
        self.headDim = headDim
        // Computed in Float32 as the reference does, so rounding matches.
        var inv = (0..<(headDim / 2)).map { i -> Float in
            1 / Foundation.powf(Float(theta), Float(2 * i) / Float(headDim))
        }
        switch scaling {
        case nil: break
        case .linear(let factor):
            inv = inv.map { $0 / Float(factor) }
        case .llama3(let factor, let lowFreqFactor, let highFreqFactor, let original):
            // Wavelengths longer than original/low are slowed by `factor`, shorter than
            // original/high are kept, and those between are blended smoothly.
            let lowWavelen = Float(original) / Float(lowFreqFactor)
            let highWavelen = Float(original) / Float(highFreqFactor)
            inv = inv.map { f in
                let wavelen = 2 * Float.pi / f
                if wavelen < highWavelen { return f }
                if wavelen > lowWavelen { return f / Float(factor) }
                let smooth = (Float(original) / wavelen - Float(lowFreqFactor)) / Float(highFreqFactor - lowFreqFactor)
                return (1 - smooth) * f / Float(factor) + smooth * f
            }
        }
        inverseFrequencies = inv
    }

    /// The cos and sin tables for `positions` (B, T): each (B, 1, T, D), the angle of
    /// dimension i being position · inv[i mod D/2].
    public func tables(positions: IndexTensor) -> (cos: Tensor, sin: Tensor) {
        precondition(positions.shape.count == 2, "RoPE: positions must be (B, T), got \(positions.shape)")
        let (b, t) = (positions.shape[0], positions.shape[1])
        let half = headDim / 2
        let cos = Tensor(uninitialized: [b, 1, t, headDim]), sin = Tensor(uninitialized: [b, 1, t, headDim])
        let pc = cos.data, ps = sin.data
        for (row, p) in positions.values.enumerated() {
            for i in 0..<half {
                let angle = Float(p) * inverseFrequencies[i]
                let (c, s) = (Foundation.cos(angle), Foundation.sin(angle))
                pc[row * headDim + i] = c; pc[row * headDim + half + i] = c
                ps[row * headDim + i] = s; ps[row * headDim + half + i] = s
            }
        }
        return (cos, sin)
    }

    /// x (B, H, T, D) rotated: x·cos + rotateHalf(x)·sin, where rotateHalf([a, b]) = [-b, a].
    public static func apply(_ x: Tensor, cos: Tensor, sin: Tensor) -> Tensor {
        let d = x.shape[3]
        let halves = x.split([d / 2, d / 2], axis: 3)
        let rotated = Tensor.concat([-halves[1], halves[0]], axis: 3)  // (B, H, T, D)
        return x * cos + rotated * sin
    }
}
