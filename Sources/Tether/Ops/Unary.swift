import CTetherKernels
import Foundation

/// Element-wise functions of one tensor: each case's value and derivative side by side.
public enum UnaryOp: Sendable, Equatable {
    case exp, log, sqrt, rsqrt, abs, tanh, sigmoid, relu, silu
    /// GELU with the tanh approximation (GPT-2's `gelu_new`).
    case geluTanh
    /// Exact GELU, x * Phi(x), with the error function.
    case geluErf
    /// x^p for a constant p.
    case pow(Float)
    /// scale * x + shift.
    case affine(scale: Float, shift: Float)
    /// x limited to [low, high]; the gradient is zero outside.
    case clamp(low: Float, high: Float)

    /// Forward over a contiguous run: y = f(x).
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .exp: tk_vexp(Int64(n), x, y)
        case .log: tk_vlog(Int64(n), x, y)
        case .tanh: tk_vtanh(Int64(n), x, y)
        case .sigmoid: tk_vsigmoid(Int64(n), x, y)
        case .geluTanh: tk_vgelu_tanh(Int64(n), x, y)
        case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
        case .rsqrt: for i in 0..<n { y[i] = 1 / x[i].squareRoot() }
        case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
        case .relu: for i in 0..<n { y[i] = Swift.max(x[i], 0) }
        case .silu:
            tk_vsigmoid(Int64(n), x, y)
            for i in 0..<n { y[i] *= x[i] }
        case .geluErf: for i in 0..<n { y[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.70710678118654752)) }
        case .pow(let p):
            if p == 2 {
                for i in 0..<n { y[i] = x[i] * x[i] }
            } else {
                for i in 0..<n { y[i] = powf(x[i], p) }
            }
        case .affine(let a, let b): for i in 0..<n { y[i] = a * x[i] + b }
        case .clamp(let lo, let hi): for i in 0..<n { y[i] = Swift.min(Swift.max(x[i], lo), hi) }
        }
    }

    /// Backward over a contiguous run: dx = g * f'(x), given x and y = f(x).
    func backward(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                  _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .exp: for i in 0..<n { dx[i] = g[i] * y[i] }
        case .log: for i in 0..<n { dx[i] = g[i] / x[i] }
        case .sqrt: for i in 0..<n { dx[i] = g[i] * 0.5 / y[i] }
        case .rsqrt: for i in 0..<n { dx[i] = g[i] * -0.5 * y[i] * y[i] * y[i] }
        case .abs: for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0) }
        case .tanh: for i in 0..<n { dx[i] = g[i] * (1 - y[i] * y[i]) }
        case .sigmoid: for i in 0..<n { dx[i] = g[i] * y[i] * (1 - y[i]) }
        case .relu: for i in 0..<n { dx[i] = x[i] > 0 ? g[i] : 0 }
        case .silu:
            // d/dx x s(x) = s + x s (1 - s); s recovered as y / x would divide by zero.
            tk_vsigmoid(Int64(n), x, dx)
            for i in 0..<n {
                let s = dx[i]
                dx[i] = g[i] * (s + x[i] * s * (1 - s))
            }
        case .geluTanh:
            // t = tanh(u) for the whole run with the vector kernel first (scalar tanhf was
            // 8% of a training step), then the derivative 0.5 (1 + t) + 0.5 x (1 - t²) u'.
            let k: Float = 0.7978845608028654
            for i in 0..<n { dx[i] = k * (x[i] + 0.044715 * x[i] * x[i] * x[i]) }
            tk_vtanh(Int64(n), dx, dx)
            for i in 0..<n {
                let v = x[i], t = dx[i]
                let dt = (1 - t * t) * k * (1 + 3 * 0.044715 * v * v)
                dx[i] = g[i] * (0.5 * (1 + t) + 0.5 * v * dt)
            }
        case .geluErf:
            for i in 0..<n {
                let v = x[i]
                let cdf = 0.5 * (1 + erff(v * 0.70710678118654752))
                let pdf = expf(-0.5 * v * v) * 0.3989422804014327
                dx[i] = g[i] * (cdf + v * pdf)
            }
        case .pow(let p): for i in 0..<n { dx[i] = g[i] * p * powf(x[i], p - 1) }
        case .affine(let a, _): for i in 0..<n { dx[i] = g[i] * a }
        case .clamp(let lo, let hi): for i in 0..<n { dx[i] = x[i] >= lo && x[i] <= hi ? g[i] : 0 }
        }
    }
}

extension Tensor {
    /// Applies `op` element-wise, with autograd.
    public func unary(_ op: UnaryOp) -> Tensor {
        let x = contiguousData()
        let out = Tensor(uninitialized: shape)
        ThreadPool.shared.parallelRanges(count, grain: parallelElementwiseGrain) { [px = x.data, py = out.data] r in
            op.forward(px + r.lowerBound, py + r.lowerBound, r.count)
        }
        return Tensor.record(out, op: "\(op)", inputs: [self]) { [x] g, out in
            let gc = g.contiguousData()
            let dx = Tensor(uninitialized: x.shape)
            let px = x.data, py = out.data, pg = gc.data, pdx = dx.data
            ThreadPool.shared.parallelRanges(dx.count, grain: parallelElementwiseGrain) { r in
                let o = r.lowerBound
                op.backward(pg + o, px + o, py + o, pdx + o, r.count)
            }
            return [dx]
        }
    }

    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    public func rsqrt() -> Tensor { unary(.rsqrt) }
    public func abs() -> Tensor { unary(.abs) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    public func relu() -> Tensor { unary(.relu) }
    public func silu() -> Tensor { unary(.silu) }
    /// GELU; `approximate: true` is the tanh form (GPT-2), false the exact erf form.
    public func gelu(approximate: Bool = true) -> Tensor { unary(approximate ? .geluTanh : .geluErf) }
    public func pow(_ p: Float) -> Tensor { unary(.pow(p)) }
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        unary(.clamp(low: low, high: high))
    }
}
