import CTetherKernels
import Foundation

/// An n-dimensional Float32 tensor: a view (shape, strides, offset) of a `Storage`,
/// plus what reverse-mode autograd needs (`requiresGrad`, `grad`, the node that made it).
///
/// Views (reshape, transpose, slice, expand) share storage with their base and pass
/// gradients back to it. Ops never write into their inputs.
public final class Tensor: @unchecked Sendable {
    /// The memory this tensor views.
    public let storage: Storage
    /// Size of each dimension.
    public let shape: [Int]
    /// Elements to step in storage per index of each dimension (0 for broadcast dims).
    public let strides: [Int]
    /// Index of element [0, 0, ...] in storage.
    public let offset: Int
    /// Whether gradients flow to (or through) this tensor.
    public var requiresGrad: Bool
    /// The accumulated gradient, same shape as the tensor (leaves only).
    public var grad: Tensor?
    /// The op that produced this tensor, while the graph is alive.
    var node: Node?

    /// A view of `storage`.
    public init(storage: Storage, shape: [Int], strides: [Int]? = nil, offset: Int = 0,
                requiresGrad: Bool = false) {
        self.storage = storage
        self.shape = shape
        self.strides = strides ?? Shape.contiguousStrides(shape)
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A new, uninitialised contiguous tensor.
    public convenience init(uninitialized shape: [Int]) {
        self.init(storage: Storage(count: Shape.count(shape)), shape: shape)
    }

    /// A tensor holding `values` in row-major order.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(values.count == Shape.count(shape),
                     "\(values.count) values do not fill shape \(shape)")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
        self.requiresGrad = requiresGrad
    }

    /// A rank-0 tensor.
    public convenience init(scalar: Float) {
        self.init([scalar], shape: [])
    }

    // MARK: - Creation

    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(repeating: value, count: t.count)
        t.requiresGrad = requiresGrad
        return t
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 0, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    /// `[start, start + step, ...]` below `end`, as a rank-1 tensor.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must be non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let t = Tensor(uninitialized: [n])
        for i in 0..<n { t.data[i] = start + Float(i) * step }
        return t
    }

    // MARK: - Geometry

    /// Number of elements.
    public var count: Int { Shape.count(shape) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Pointer to element [0, 0, ...].
    public var data: UnsafeMutablePointer<Float> { storage.base + offset }

    /// Whether elements are laid out densely in row-major order.
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Size of dimension `axis` (negative counts from the end).
    public func size(_ axis: Int) -> Int { shape[Shape.axis(axis, rank: rank)] }

    // MARK: - Reading values

    /// All elements in row-major order.
    public func scalars() -> [Float] {
        let c = contiguousData()
        return Array(UnsafeBufferPointer(start: c.data, count: count))
    }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs one element, shape is \(shape)")
        return data[0]
    }

    /// This tensor if contiguous, else a contiguous copy (with no autograd link).
    public func contiguousData() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitialized: shape)
        Strided.copy(self, into: out.data)
        return out
    }

    /// The same values with no autograd history.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }
}

/// Int32 tensors of indices (token ids, labels): plain arrays with a shape.
public struct IndexTensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Int32]

    public init(_ values: [Int32], shape: [Int]) {
        precondition(values.count == Shape.count(shape),
                     "\(values.count) indices do not fill shape \(shape)")
        self.values = values
        self.shape = shape
    }

    public var count: Int { values.count }
}

extension Tensor: CustomStringConvertible {
    /// Shape and up to eight leading values, e.g. `Tensor[2, 3] [0.1, 0.2, ...]`.
    public var description: String {
        let values = scalars()
        let shown = values.prefix(8).map { String(format: "%.4g", Double($0)) }
        let more = values.count > 8 ? ", ..." : ""
        let grad = requiresGrad ? " requiresGrad" : ""
        return "Tensor\(shape)\(grad) [\(shown.joined(separator: ", "))\(more)]"
    }
}
