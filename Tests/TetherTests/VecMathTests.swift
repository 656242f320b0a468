import CTetherKernels
import Foundation
import Testing

/// Vector math of every supported ISA against Double-precision libm.
@Suite struct VecMathTests {
    typealias Unary = (tk_kernel_table) -> tk_unary_fn?

    /// Runs `fn` of `isa` over `xs` (length not a multiple of any vector width).
    func apply(_ isa: tk_isa, _ fn: Unary, _ xs: [Float]) -> [Float] {
        var ys = [Float](repeating: .nan, count: xs.count)
        fn(tk_kernels_for_isa(isa)!.pointee)!(Int64(xs.count), xs, &ys)
        return ys
    }

    /// `count` points spread over [lo, hi], plus a ragged tail.
    func grid(_ lo: Double, _ hi: Double, _ count: Int = 20_011) -> [Float] {
        (0..<count).map { Float(lo + (hi - lo) * Double($0) / Double(count - 1)) }
    }

    /// Largest relative error over results that are normal floats.
    func worstRelative(_ xs: [Float], _ ys: [Float], _ ref: (Double) -> Double) -> (error: Double, at: Float) {
        var worst = (error: 0.0, at: Float(0))
        for (x, y) in zip(xs, ys) {
            let r = ref(Double(x))
            if abs(r) < Double(Float.leastNormalMagnitude) || abs(r) > Double(Float.greatestFiniteMagnitude) { continue }
            let e = abs(Double(y) - r) / abs(r)
            if !(e <= worst.error) { worst = (e.isNaN ? .infinity : e, x) }
        }
        return worst
    }

    static func geluRef(_ x: Double) -> Double {
        let u = 0.7978845608028654 * (x + 0.044715 * x * x * x)
        return x / (1 + Foundation.exp(-2 * u))
    }

    @Test(arguments: supportedISAs)
    func expAccuracy(isa: tk_isa) {
        for (lo, hi) in [(-87.0, 88.5), (-1.0, 1.0), (-1e-3, 1e-3)] {
            let xs = grid(lo, hi)
            let worst = worstRelative(xs, apply(isa, { $0.vexp }, xs), Foundation.exp)
            #expect(worst.error < 1e-6, "exp rel error \(worst.error) at \(worst.at)")
        }
    }

    @Test(arguments: supportedISAs)
    func logAccuracy(isa: tk_isa) {
        for (lo, hi) in [(-87.0, 88.5), (-0.5, 0.5), (-1e-4, 1e-4)] {
            let xs = grid(lo, hi).map { Float(Foundation.exp(Double($0))) }
            let worst = worstRelative(xs, apply(isa, { $0.vlog }, xs), Foundation.log)
            #expect(worst.error < 1e-6, "log rel error \(worst.error) at \(worst.at)")
        }
    }

    @Test(arguments: supportedISAs)
    func tanhSigmoidGeluAccuracy(isa: tk_isa) {
        for (lo, hi) in [(-12.0, 12.0), (-0.7, 0.7), (-1e-4, 1e-4)] {
            let xs = grid(lo, hi)
            let t = worstRelative(xs, apply(isa, { $0.vtanh }, xs), Foundation.tanh)
            #expect(t.error < 1e-6, "tanh rel error \(t.error) at \(t.at)")
            let s = worstRelative(xs, apply(isa, { $0.vsigmoid }, xs)) { 1 / (1 + Foundation.exp(-$0)) }
            #expect(s.error < 1e-6, "sigmoid rel error \(s.error) at \(s.at)")
        }
        // GELU's u = x + 0.044715 x^3 rounds in float, and e^{-2u} amplifies that by |2u|
        // for negative x, so the bound grows with |x|^3 (the absolute error stays tiny).
        let xs = grid(-9, 9)
        let ys = apply(isa, { $0.vgelu_tanh }, xs)
        for (x, y) in zip(xs, ys) {
            let r = Self.geluRef(Double(x))
            if abs(r) < Double(Float.leastNormalMagnitude) { continue }
            let bound = 1e-6 + 4e-7 * abs(Double(x) * Double(x) * Double(x))
            #expect(abs(Double(y) - r) <= bound * abs(r), "gelu(\(x)) = \(y), want \(r)")
            if abs(Double(y) - r) > bound * abs(r) { break }
        }
    }

    @Test(arguments: supportedISAs)
    func edgeValues(isa: tk_isa) {
        let xs: [Float] = [-.infinity, .infinity, .nan, 0, -200, 100, 89, 88.5, -104, 1]
        let e = apply(isa, { $0.vexp }, xs)
        #expect(e[0] == 0 && e[1] == .infinity && e[2].isNaN && e[3] == 1)
        #expect(e[4] == 0 && e[5] == .infinity && e[6] == .infinity && e[7].isFinite && e[8] == 0)
        let l = apply(isa, { $0.vlog }, [0, -0.0, -1, .infinity, .nan, 1, -.infinity])
        #expect(l[0] == -.infinity && l[1] == -.infinity && l[2].isNaN && l[3] == .infinity)
        #expect(l[4].isNaN && l[5] == 0 && l[6].isNaN)
        let t = apply(isa, { $0.vtanh }, [-.infinity, .infinity, .nan, 0, 30, -30])
        #expect(t[0] == -1 && t[1] == 1 && t[2].isNaN && t[3] == 0 && t[4] == 1 && t[5] == -1)
        let s = apply(isa, { $0.vsigmoid }, [-.infinity, .infinity, .nan, 0, -200, 200])
        #expect(s[0] == 0 && s[1] == 1 && s[2].isNaN && s[3] == 0.5 && s[4] == 0 && s[5] == 1)
        let g = apply(isa, { $0.vgelu_tanh }, [.infinity, 0, -30, 30, .nan])
        #expect(g[0] == .infinity && g[1] == 0 && g[2] == 0 && g[3] == 30 && g[4].isNaN)
    }

    @Test(arguments: supportedISAs)
    func softmaxAndLogSumExp(isa: tk_isa) {
        let table = tk_kernels_for_isa(isa)!.pointee
        for cols in [1, 3, 16, 17, 100] {
            let rows = 4
            var x = pseudoRandom(rows * cols, seed: UInt32(cols)).map { $0 * 30 }
            for j in 0..<cols { x[2 * cols + j] = -.infinity }  // row 2 fully masked
            if cols > 2 { x[cols + 1] = -.infinity }  // row 1 partly masked
            var y = [Float](repeating: .nan, count: rows * cols)
            var lse = [Float](repeating: .nan, count: rows)
            table.softmax_rows!(Int64(rows), Int64(cols), x, &y)
            table.logsumexp_rows!(Int64(rows), Int64(cols), x, &lse)
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { p in
                table.softmax_rows!(Int64(rows), Int64(cols), p.baseAddress!, p.baseAddress!)
            }
            #expect(inPlace == y, "softmax in place differs (cols \(cols))")
            for r in 0..<rows {
                let row = (0..<cols).map { Double(x[r * cols + $0]) }
                let m = row.max()!
                if m == -.infinity {
                    #expect((0..<cols).allSatisfy { y[r * cols + $0] == 0 }, "masked row not zero")
                    #expect(lse[r] == -.infinity)
                    continue
                }
                let sum = row.reduce(0) { $0 + Foundation.exp($1 - m) }
                #expect(abs(Double(lse[r]) - (m + Foundation.log(sum))) <= 2e-6 * max(1, abs(m)))
                for j in 0..<cols where row[j] == -.infinity {
                    #expect(y[r * cols + j] == 0, "masked softmax[\(r), \(j)]")
                }
                for j in 0..<cols where row[j] != -.infinity {
                    let p = Foundation.exp(row[j] - m) / sum
                    // Float x - m rounds by up to |x - m| 2^-24, which e^(x - m) turns into
                    // that much relative error: the bound grows with the distance from the max.
                    let bound = (1e-6 + abs(row[j] - m) * 1.2e-7) * p + 1e-30
                    #expect(abs(Double(y[r * cols + j]) - p) <= bound, "softmax[\(r), \(j)]")
                }
            }
        }
    }

    /// Outputs of 2^20 floats and more take the non-temporal path (misaligned start, ragged
    /// end); it must give exactly what the cached path gives piece by piece.
    @Test(arguments: supportedISAs)
    func streamingPathsMatchCachedPaths(isa: tk_isa) {
        let table = tk_kernels_for_isa(isa)!.pointee
        let n = (1 << 20) + 37
        let xs = pseudoRandom(n + 1, seed: 9).map { $0 * 20 }
        var big = [Float](repeating: .nan, count: n + 1)
        var small = big
        for fn in [table.vexp, table.vtanh, table.vgelu_tanh] {
            xs.withUnsafeBufferPointer { px in
                big.withUnsafeMutableBufferPointer { pb in
                    fn!(Int64(n), px.baseAddress! + 1, pb.baseAddress! + 1)  // y misaligned
                }
                small.withUnsafeMutableBufferPointer { ps in
                    for start in stride(from: 0, to: n, by: 4099) {
                        let len = min(4099, n - start)
                        fn!(Int64(len), px.baseAddress! + 1 + start, ps.baseAddress! + 1 + start)
                    }
                }
            }
            #expect(big == small || zip(big, small).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
        let cols = 1000, rows = n / cols
        xs.withUnsafeBufferPointer { px in
            big.withUnsafeMutableBufferPointer { pb in
                table.softmax_rows!(Int64(rows), Int64(cols), px.baseAddress! + 1, pb.baseAddress! + 1)
            }
            small.withUnsafeMutableBufferPointer { ps in
                for r in 0..<rows {
                    table.softmax_rows!(1, Int64(cols), px.baseAddress! + 1 + r * cols, ps.baseAddress! + 1 + r * cols)
                }
            }
        }
        #expect(Array(big[1...(rows * cols)]) == Array(small[1...(rows * cols)]))
    }

    /// LayerNorm / RMSNorm rows against a Double reference, with and without w and b,
    /// on widths around the vector length; mean and rstd come out for the backward.
    @Test(arguments: supportedISAs)
    func normRows(isa: tk_isa) {
        let table = tk_kernels_for_isa(isa)!.pointee
        for cols in [1, 7, 16, 33, 1024] {
            let rows = 3
            let x = pseudoRandom(rows * cols, seed: UInt32(cols)).map { $0 * 4 + 3 }
            let w = pseudoRandom(cols, seed: 7), b = pseudoRandom(cols, seed: 8)
            for rms in [Int32(0), 1] {
                for affine in [false, true] {
                    var y = [Float](repeating: .nan, count: rows * cols)
                    var mean = [Float](repeating: .nan, count: rows), rstd = mean
                    w.withUnsafeBufferPointer { pw in
                        b.withUnsafeBufferPointer { pb in
                            table.norm_rows!(Int64(rows), Int64(cols), x, affine ? pw.baseAddress : nil,
                                             affine ? pb.baseAddress : nil, 1e-5, rms, &y, &mean, &rstd)
                        }
                    }
                    for r in 0..<rows {
                        let row = (0..<cols).map { Double(x[r * cols + $0]) }
                        let mu = rms == 1 ? 0 : row.reduce(0, +) / Double(cols)
                        let v = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(cols)
                        let rs = 1 / (v + 1e-5).squareRoot()
                        #expect(abs(Double(mean[r]) - mu) <= 1e-5 * max(1, abs(mu)))
                        #expect(abs(Double(rstd[r]) - rs) <= 1e-5 * rs)
                        for j in 0..<cols {
                            let want = (row[j] - mu) * rs * (affine ? Double(w[j]) : 1) + (affine ? Double(b[j]) : 0)
                            let got = Double(y[r * cols + j])
                            #expect(abs(got - want) <= 2e-5 * max(1, abs(want)), "norm[\(r), \(j)] cols \(cols) rms \(rms)")
                        }
                    }
                }
            }
        }
    }
}
