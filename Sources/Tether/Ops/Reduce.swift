/// Reductions along axes (sum, mean, max, min) with keepDim, and their gradients.
public enum Reduction: Sendable {
    case sum, max, min
}

extension Tensor {
    /// (outer, length, inner) sizes around `axis` for a contiguous view of this shape.
    func splitAround(_ axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (Shape.count(Array(shape[..<axis])), shape[axis], Shape.count(Array(shape[(axis + 1)...])))
    }

    /// Reduces one axis with keepDim, returning the values and, for max/min, the index
    /// along the axis of each chosen element.
    func reduceForward(axis: Int, _ kind: Reduction) -> (Tensor, [Int32]?) {
        let x = contiguousData()
        let (outer, length, inner) = splitAround(axis)
        var outShape = shape
        outShape[axis] = 1
        let out = Tensor(uninitialized: outShape)
        let px = x.data, po = out.data
        var picks = [Int32](repeating: 0, count: kind == .sum ? 0 : outer * inner)
        picks.withUnsafeMutableBufferPointer { pk in
            let grain = Swift.max(1, parallelElementwiseGrain / Swift.max(1, length * inner))
            ThreadPool.shared.parallelRanges(outer, grain: grain) { rows in
                for o in rows {
                    let src = px + o * length * inner, dst = po + o * inner
                    switch kind {
                    case .sum:
                        if inner == 1 {
                            var s: Float = 0
                            for l in 0..<length { s += src[l] }
                            dst[0] = s
                        } else {
                            dst.update(from: src, count: inner)
                            for l in 1..<Swift.max(length, 1) {
                                let row = src + l * inner
                                for i in 0..<inner { dst[i] += row[i] }
                            }
                            if length == 0 { dst.update(repeating: 0, count: inner) }
                        }
                    case .max, .min:
                        let sign: Float = kind == .max ? 1 : -1
                        for i in 0..<inner {
                            var best = -Float.infinity, at: Int32 = 0
                            for l in 0..<length where sign * src[l * inner + i] > best {
                                best = sign * src[l * inner + i]
                                at = Int32(l)
                            }
                            dst[i] = sign * best
                            pk[o * inner + i] = at
                        }
                    }
                }
            }
        }
        return (out, kind == .sum ? nil : picks)
    }

    /// Reduces one axis, with autograd.
    func reduce(axis: Int, keepDim: Bool, _ kind: Reduction) -> Tensor {
        let a = Shape.axis(axis, rank: rank)
        let (kept, picks) = reduceForward(axis: a, kind)
        let inShape = shape
        let (outer, length, inner) = splitAround(a)
        let result = Tensor.record(kept, op: "\(kind)", inputs: [self]) { g, _ in
            let gc = g.contiguousData()
            switch kind {
            case .sum:
                return [gc.expand(to: inShape)]
            case .max, .min:
                let dx = Tensor.zeros(inShape)
                let pg = gc.data, pd = dx.data
                for o in 0..<outer {
                    for i in 0..<inner {
                        let l = Int(picks![o * inner + i])
                        pd[(o * length + l) * inner + i] = pg[o * inner + i]
                    }
                }
                return [dx]
            }
        }
        if keepDim { return result }
        var squeezed = inShape
        squeezed.remove(at: a)
        return result.reshape(squeezed)
    }

    /// Sum over `axes` (all axes if empty), keeping reduced axes as size 1 if `keepDim`.
    public func sum(axes: [Int] = [], keepDim: Bool = false) -> Tensor {
        reduceAxes(axes, keepDim: keepDim, .sum)
    }

    /// Sum over one axis.
    public func sum(axis: Int, keepDim: Bool = false) -> Tensor { sum(axes: [axis], keepDim: keepDim) }

    /// Mean over `axes` (all axes if empty).
    public func mean(axes: [Int] = [], keepDim: Bool = false) -> Tensor {
        let normalized = axes.isEmpty ? Array(0..<rank) : axes.map { Shape.axis($0, rank: rank) }
        let n = normalized.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDim: keepDim) * (1 / Float(Swift.max(n, 1)))
    }

    /// Mean over one axis.
    public func mean(axis: Int, keepDim: Bool = false) -> Tensor { mean(axes: [axis], keepDim: keepDim) }

    /// Maximum over one axis (the gradient goes to the first maximal element).
    public func max(axis: Int, keepDim: Bool = false) -> Tensor { reduce(axis: axis, keepDim: keepDim, .max) }

    /// Minimum over one axis (the gradient goes to the first minimal element).
    public func min(axis: Int, keepDim: Bool = false) -> Tensor { reduce(axis: axis, keepDim: keepDim, .min) }

    /// Maximum over every element.
    public func max() -> Tensor { reshape([count]).max(axis: 0) }

    /// Minimum over every element.
    public func min() -> Tensor { reshape([count]).min(axis: 0) }

    private func reduceAxes(_ axes: [Int], keepDim: Bool, _ kind: Reduction) -> Tensor {
        if rank == 0 { return self.reshape([]) }
        let normalized = axes.isEmpty ? Array(0..<rank) : axes.map { Shape.axis($0, rank: rank) }
        var t = self
        for a in Set(normalized).sorted(by: >) {
            t = t.reduce(axis: a, keepDim: true, kind)
        }
        if keepDim { return t }
        let squeezed = shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        return t.reshape(squeezed)
    }

    /// Sums a broadcast gradient back down to `target` (the shape before broadcasting).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        let reduced = axes.isEmpty ? self : sum(axes: axes, keepDim: true)
        return reduced.reshape(target)
    }
}
