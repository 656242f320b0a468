/// Iteration over strided (non-contiguous, broadcast) operands, one row at a time.
///
/// Dimensions that are contiguous for every operand are merged first, so a dense tensor
/// is one long row and per-row overhead only appears where layouts really differ.
public enum Strided {
    /// Merges adjacent dimensions that are contiguous in every operand; drops size-1 dims.
    static func collapse(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var outShape: [Int] = []
        var outStrides: [[Int]] = Array(repeating: [], count: strides.count)
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = outShape.last,
               strides.indices.allSatisfy({ outStrides[$0].last! == strides[$0][d] * shape[d] }) {
                outShape[outShape.count - 1] = last * shape[d]
                for k in strides.indices { outStrides[k][outStrides[k].count - 1] = strides[k][d] }
            } else {
                outShape.append(shape[d])
                for k in strides.indices { outStrides[k].append(strides[k][d]) }
            }
        }
        if outShape.isEmpty {
            outShape = [1]
            outStrides = strides.map { _ in [1] }
        }
        return (outShape, outStrides)
    }

    /// Calls `body(offsets, n, innerStrides)` for every row of the last (merged) dimension,
    /// where `offsets[k]` is operand k's element offset of the row's first element.
    public static func forEachRow(
        shape: [Int], strides: [[Int]],
        _ body: (_ offsets: UnsafeBufferPointer<Int>, _ n: Int, _ innerStrides: UnsafeBufferPointer<Int>) -> Void
    ) {
        if Shape.count(shape) == 0 { return }
        let (cs, cst) = collapse(shape, strides)
        let ops = strides.count
        let rank = cs.count
        let inner = cs[rank - 1]
        let innerStrides = cst.map { $0[rank - 1] }
        let rows = Shape.count(Array(cs.dropLast()))
        withUnsafeTemporaryAllocation(of: Int.self, capacity: ops) { offsets in
            innerStrides.withUnsafeBufferPointer { inS in
                offsets.initialize(repeating: 0)
                var index = [Int](repeating: 0, count: max(rank - 1, 0))
                for _ in 0..<rows {
                    body(UnsafeBufferPointer(offsets), inner, inS)
                    // Advance the multi-index over the outer dimensions.
                    var d = rank - 2
                    while d >= 0 {
                        index[d] += 1
                        for k in 0..<ops { offsets[k] += cst[k][d] }
                        if index[d] < cs[d] { break }
                        for k in 0..<ops { offsets[k] -= cst[k][d] * cs[d] }
                        index[d] = 0
                        d -= 1
                    }
                }
            }
        }
    }

    /// Copies `src` (any layout) into the dense row-major buffer `dst`.
    public static func copy(_ src: Tensor, into dst: UnsafeMutablePointer<Float>) {
        let s = src.data
        let dense = Shape.contiguousStrides(src.shape)
        forEachRow(shape: src.shape, strides: [src.strides, dense]) { off, n, st in
            let a = s + off[0], b = dst + off[1]
            let sa = st[0]
            if sa == 1 {
                b.update(from: a, count: n)
            } else {
                for j in 0..<n { b[j] = a[j * sa] }
            }
        }
    }

    /// Storage offsets of every element of `shape` (row-major) for each operand's leading
    /// strides: `[(offset in operand 0, offset in operand 1)]`.
    public static func offsets(shape: [Int], strides: [[Int]]) -> [(Int, Int)] {
        let dense = Shape.contiguousStrides(shape)
        return (0..<Shape.count(shape)).map { i in
            var a = 0, b = 0, rest = i
            for d in 0..<shape.count {
                let q = rest / dense[d]
                rest %= dense[d]
                a += q * strides[0][d]
                b += q * strides[1][d]
            }
            return (a, b)
        }
    }
}
