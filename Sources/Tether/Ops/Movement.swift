/// Views and copies that move elements without changing them: reshape, permute,
/// slice, expand, concat, split, stack. Views share storage; gradients flow to the base.
extension Tensor {
    /// The same elements in a new shape (one dimension may be -1). A view when contiguous.
    public func reshape(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let hole = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            target[hole] = count / known
        }
        precondition(Shape.count(target) == count, "cannot reshape \(shape) to \(newShape)")
        if target == shape { return self }
        let base = contiguousData()
        let out = Tensor(storage: base.storage, shape: target, offset: base.offset)
        let inShape = shape
        return Tensor.record(out, op: "reshape", inputs: [self]) { g, _ in [g.reshape(inShape)] }
    }

    /// Collapses dimensions `from...to` into one.
    public func flatten(from: Int = 0, to: Int = -1) -> Tensor {
        let a = Shape.axis(from, rank: rank), b = Shape.axis(to, rank: rank)
        let merged = shape[a...b].reduce(1, *)
        return reshape(Array(shape[..<a]) + [merged] + Array(shape[(b + 1)...]))
    }

    /// Inserts a size-1 dimension at `axis`.
    public func unsqueeze(_ axis: Int) -> Tensor {
        var s = shape
        s.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshape(s)
    }

    /// Removes the size-1 dimension at `axis`.
    public func squeeze(_ axis: Int) -> Tensor {
        let a = Shape.axis(axis, rank: rank)
        precondition(shape[a] == 1, "squeeze: dimension \(axis) of \(shape) is not 1")
        var s = shape
        s.remove(at: a)
        return reshape(s)
    }

    /// A view with dimensions reordered: result dim i is input dim `order[i]`.
    public func permute(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permute: \(order) is not a permutation of rank \(rank)")
        let out = Tensor(storage: storage, shape: order.map { shape[$0] },
                         strides: order.map { strides[$0] }, offset: offset)
        var inverse = order
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.record(out, op: "permute", inputs: [self]) { g, _ in [g.permute(inverse)] }
    }

    /// A view with two dimensions swapped (the last two by default).
    public func transpose(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(Shape.axis(a, rank: rank), Shape.axis(b, rank: rank))
        return permute(order)
    }

    /// A view of `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = Shape.axis(axis, rank: rank)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice \(range) out of bounds for dimension \(axis) of \(shape)")
        var s = shape
        s[a] = range.count
        let out = Tensor(storage: storage, shape: s, strides: strides,
                         offset: offset + range.lowerBound * strides[a])
        let inShape = shape
        return Tensor.record(out, op: "slice", inputs: [self]) { g, _ in
            let dx = Tensor.zeros(inShape)
            dx.slice(axis: a, range).assign(g)
            return [dx]
        }
    }

    /// A view repeating size-1 dimensions to `target` (new leading dims allowed).
    public func expand(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let out = Tensor(storage: storage, shape: target, strides: broadcastStrides(to: target), offset: offset)
        let inShape = shape
        return Tensor.record(out, op: "expand", inputs: [self]) { g, _ in [g.sum(toShape: inShape)] }
    }

    /// Copies `src` (broadcast to this shape) into this tensor's elements, in place.
    /// For filling fresh buffers only: it bypasses autograd.
    public func assign(_ src: Tensor) {
        storage.markModified()
        let ps = src.data, pd = data
        Strided.forEachRow(shape: shape, strides: [src.broadcastStrides(to: shape), strides]) { off, n, st in
            let s = ps + off[0], d = pd + off[1]
            if st[0] == 1 && st[1] == 1 {
                d.update(from: s, count: n)                 // rows contiguous on both sides (the KV cache)
            } else {
                for j in 0..<n { d[j * st[1]] = s[j * st[0]] }
            }
        }
    }

    /// Joins tensors along `axis`; all other dimensions must match.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat of no tensors")
        let first = tensors[0]
        let a = Shape.axis(axis, rank: first.rank)
        var outShape = first.shape
        outShape[a] = 0
        for t in tensors {
            var s = t.shape
            s[a] = 0
            var expected = first.shape
            expected[a] = 0
            precondition(s == expected, "concat: shapes \(tensors.map(\.shape)) differ off axis \(axis)")
            outShape[a] += t.shape[a]
        }
        let out = Tensor(uninitialized: outShape)
        var bounds: [Range<Int>] = []
        var start = 0
        noGrad {
            for t in tensors {
                let r = start..<(start + t.shape[a])
                out.slice(axis: a, r).assign(t)
                bounds.append(r)
                start = r.upperBound
            }
        }
        return record(out, op: "concat", inputs: tensors) { g, _ in
            bounds.map { g.slice(axis: a, $0) }
        }
    }

    /// Splits along `axis` into pieces of the given sizes (views).
    public func split(_ sizes: [Int], axis: Int) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank)
        precondition(sizes.reduce(0, +) == shape[a], "split sizes \(sizes) do not add up to \(shape[a])")
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return slice(axis: a, start..<(start + n))
        }
    }

    /// Splits along `axis` into `parts` equal pieces.
    public func chunk(_ parts: Int, axis: Int) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank)
        precondition(shape[a] % parts == 0, "cannot chunk \(shape[a]) into \(parts) equal parts")
        return split(Array(repeating: shape[a] / parts, count: parts), axis: a)
    }

    /// Stacks same-shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        concat(tensors.map { $0.unsqueeze(axis) }, axis: axis)
    }

    /// A contiguous copy that stays in the graph.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = contiguousData()
        return Tensor.record(out, op: "contiguous", inputs: [self]) { g, _ in [g] }
    }
}
