import CTetherKernels
import Foundation

/// Element-wise binary ops with NumPy broadcasting, forward and backward side by side.
public enum BinaryOp: Sendable {
    case add, sub, mul, div, minimum, maximum

    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        case .minimum: Swift.min(a, b)
        case .maximum: Swift.max(a, b)
        }
    }
}

/// Element counts above which element-wise loops are split across the thread pool.
let parallelElementwiseGrain = 1 << 15

extension Tensor {
    /// Strides that read this tensor as if broadcast to `target` (0 on repeated dims).
    func broadcastStrides(to target: [Int]) -> [Int] {
        let lead = target.count - rank
        precondition(lead >= 0, "cannot broadcast \(shape) to \(target)")
        return (0..<target.count).map { i in
            if i < lead { return 0 }
            let d = shape[i - lead]
            precondition(d == target[i] || d == 1, "cannot broadcast \(shape) to \(target)")
            return d == 1 && target[i] != 1 ? 0 : strides[i - lead]
        }
    }

    /// Applies `op` to `a` and `b` broadcast together, into a new contiguous tensor.
    static func binaryForward(_ a: Tensor, _ b: Tensor, _ op: BinaryOp) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : Shape.broadcast(a.shape, b.shape)
        let out = Tensor(uninitialized: shape)
        let pa = a.data, pb = b.data, po = out.data
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            ThreadPool.shared.parallelRanges(out.count, grain: parallelElementwiseGrain) { r in
                binaryLoop(op, pa + r.lowerBound, 1, pb + r.lowerBound, 1, po + r.lowerBound, r.count)
            }
            return out
        }
        let strides = [a.broadcastStrides(to: shape), b.broadcastStrides(to: shape), out.strides]
        Strided.forEachRow(shape: shape, strides: strides) { off, n, st in
            binaryLoop(op, pa + off[0], st[0], pb + off[1], st[1], po + off[2], n)
        }
        return out
    }

    @inline(__always)
    private static func binaryLoop(_ op: BinaryOp, _ a: UnsafeMutablePointer<Float>, _ sa: Int,
                                   _ b: UnsafeMutablePointer<Float>, _ sb: Int,
                                   _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        if sa == 1 && sb == 1 {
            for j in 0..<n { o[j] = op.apply(a[j], b[j]) }
        } else if sa == 1 && sb == 0 {
            let v = b[0]
            for j in 0..<n { o[j] = op.apply(a[j], v) }
        } else if sa == 0 && sb == 1 {
            let v = a[0]
            for j in 0..<n { o[j] = op.apply(v, b[j]) }
        } else {
            for j in 0..<n { o[j] = op.apply(a[j * sa], b[j * sb]) }
        }
    }

    /// `op(a, b)` with broadcasting and autograd.
    public static func binary(_ a: Tensor, _ b: Tensor, _ op: BinaryOp) -> Tensor {
        let out = binaryForward(a, b, op)
        return record(out, op: "\(op)", inputs: [a, b]) { g, out in
            let ga: Tensor?, gb: Tensor?
            switch op {
            case .add: (ga, gb) = (g, g)
            case .sub: (ga, gb) = (g, -g)
            case .mul: (ga, gb) = (g * b, g * a)
            case .div: (ga, gb) = (g / b, -(g * out / b))
            case .minimum, .maximum:
                // The gradient goes to the operand that was chosen (to `a` on ties).
                let pickA = Tensor.compare(a, b, op == .minimum ? .lessEqual : .greaterEqual)
                (ga, gb) = (g * pickA, g * (1 - pickA))
            }
            return [ga.map { $0.sum(toShape: a.shape) }, gb.map { $0.sum(toShape: b.shape) }]
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .add) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .sub) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .mul) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(a, b, .div) }
    public static func + (a: Tensor, b: Float) -> Tensor { a.unary(.affine(scale: 1, shift: b)) }
    public static func + (a: Float, b: Tensor) -> Tensor { b.unary(.affine(scale: 1, shift: a)) }
    public static func - (a: Tensor, b: Float) -> Tensor { a.unary(.affine(scale: 1, shift: -b)) }
    public static func - (a: Float, b: Tensor) -> Tensor { b.unary(.affine(scale: -1, shift: a)) }
    public static func * (a: Tensor, b: Float) -> Tensor { a.unary(.affine(scale: b, shift: 0)) }
    public static func * (a: Float, b: Tensor) -> Tensor { b.unary(.affine(scale: a, shift: 0)) }
    public static func / (a: Tensor, b: Float) -> Tensor { a.unary(.affine(scale: 1 / b, shift: 0)) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor.full([], a) / b }
    public static prefix func - (a: Tensor) -> Tensor { a.unary(.affine(scale: -1, shift: 0)) }

    /// Element-wise minimum with broadcasting.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .minimum) }
    /// Element-wise maximum with broadcasting.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, .maximum) }
}

/// Comparisons that produce 0/1 masks (no gradient).
public enum Comparison: Sendable {
    case less, lessEqual, greater, greaterEqual, equal, notEqual

    @inline(__always) func holds(_ a: Float, _ b: Float) -> Bool {
        switch self {
        case .less: a < b
        case .lessEqual: a <= b
        case .greater: a > b
        case .greaterEqual: a >= b
        case .equal: a == b
        case .notEqual: a != b
        }
    }
}

extension Tensor {
    /// A 0/1 mask of `a <op> b` with broadcasting; never part of the graph.
    public static func compare(_ a: Tensor, _ b: Tensor, _ cmp: Comparison) -> Tensor {
        let shape = Shape.broadcast(a.shape, b.shape)
        let out = Tensor(uninitialized: shape)
        let pa = a.data, pb = b.data, po = out.data
        let strides = [a.broadcastStrides(to: shape), b.broadcastStrides(to: shape), out.strides]
        Strided.forEachRow(shape: shape, strides: strides) { off, n, st in
            let x = pa + off[0], y = pb + off[1], o = po + off[2]
            for j in 0..<n { o[j] = cmp.holds(x[j * st[0]], y[j * st[1]]) ? 1 : 0 }
        }
        return out
    }

    /// A 0/1 mask of `self <op> value`.
    public func compare(_ cmp: Comparison, _ value: Float) -> Tensor {
        Tensor.compare(self, Tensor(scalar: value), cmp)
    }
}
