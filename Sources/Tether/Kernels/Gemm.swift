import CTetherKernels
import Foundation

/// Single-precision GEMM over strided operands: C = A·B, or C += A·B.
///
/// A's element (i, p) is at `a[i * rowStrideA + p * colStrideA]` and B's (p, j) at
/// `b[p * rowStrideB + j * colStrideB]`, so every transpose is just a choice of strides.
/// C is row-major with row stride `ldc`.
///
/// The driver is BLIS-style: B is packed into NR-column slivers (a KC x NC panel), A into
/// MR-row slivers (an MC x KC block), and the C micro-kernel of the active ISA computes
/// MR x NR tiles from them. Large problems are split into one task per thread.
/// Products of at most ``dotRows`` rows skip packing (`gemm_dot`, `gemm_axpy`), and a B
/// packed beforehand (``PackedGemmB``, decoding) is used as it is.
public enum Gemm {
    /// C (m x n, row stride ldc) = A (m x k) · B (k x n), or += when `accumulate`.
    /// `parallel: false` keeps the call on the calling thread.
    public static func sgemm(m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int,
                             b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool, parallel: Bool = true) {
        run(m: m, n: n, k: k, a: a, rowStrideA: rowStrideA, colStrideA: colStrideA,
            b: b, rowStrideB: rowStrideB, colStrideB: colStrideB, c: c, ldc: ldc,
            accumulate: accumulate, threads: parallel ? ThreadPool.shared.threadCount : 1,
            parallelFlops: parallelFlops, kernels: tk_kernels())
    }

    /// The same GEMM with the kernels of `isa` instead of the active ones (tests,
    /// benchmarks); `threads` caps the tasks (nil: the pool's thread count) and problems
    /// under `parallelFlops` floating-point operations stay on one thread.
    public static func sgemm(m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int,
                             b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool, isa: tk_isa, threads: Int? = nil,
                             parallelFlops: Int = Gemm.parallelFlops) {
        guard let kernels = tk_kernels_for_isa(isa) else {
            preconditionFailure("sgemm: ISA \(String(cString: tk_isa_name(isa))) is not supported here")
        }
        run(m: m, n: n, k: k, a: a, rowStrideA: rowStrideA, colStrideA: colStrideA,
            b: b, rowStrideB: rowStrideB, colStrideB: colStrideB, c: c, ldc: ldc,
            accumulate: accumulate, threads: threads ?? ThreadPool.shared.threadCount,
            parallelFlops: parallelFlops, kernels: kernels)
    }

    /// Below this many floating-point operations a GEMM stays on one thread: handing work
    /// to the pool and packing twice costs more than it saves. Measured with
    /// `tether bench kernels --break-even` on 2 Zen 4 cores: 2 threads lose at 32^3
    /// (0.07 MFLOP), break even near 48^3 and win 1.3-1.5x from 64^3 (0.5 MFLOP) up.
    public static let parallelFlops = 1 << 19

    /// Most rows a product may have to run as dot products over unpacked B (see `gemm_dot.c`).
    public static let dotRows = 4

    /// Whether a product of these sizes and strides runs as dot products straight over B
    /// (few rows of A, rows of A and columns of B contiguous), not through packed panels.
    public static func usesDotPath(m: Int, k: Int, colStrideA: Int, rowStrideB: Int,
                                   kernels: UnsafePointer<tk_kernel_table> = tk_kernels()) -> Bool {
        m <= dotRows && colStrideA == 1 && rowStrideB == 1 && k >= 16 && kernels.pointee.gemm_dot != nil
    }

    private static func run(m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int,
                            b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool, threads: Int, parallelFlops: Int,
                            kernels: UnsafePointer<tk_kernel_table>) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(m <= 1 || ldc >= n, "sgemm: ldc \(ldc) < n \(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate {
                for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            }
            return
        }
        // A few rows (decoding) times a matrix whose columns are contiguous (a weight,
        // transposed): dot products straight from memory, no packing of the weights. Or
        // times a matrix whose rows are contiguous (cached values): rows of B scaled and
        // summed into a block of C held in registers.
        let fewRows: (kernel: tk_dot_fn, ldb: Int, columnStep: Int)?
        if usesDotPath(m: m, k: k, colStrideA: colStrideA, rowStrideB: rowStrideB, kernels: kernels) {
            fewRows = (kernels.pointee.gemm_dot!, colStrideB, colStrideB)
        } else if m <= dotRows, colStrideA == 1, colStrideB == 1, let axpy = kernels.pointee.gemm_axpy {
            fewRows = (axpy, rowStrideB, 1)
        } else {
            fewRows = nil
        }
        if let (kernel, ldb, columnStep) = fewRows {
            let tasks = 2 * m * n * k < parallelFlops ? 1 : min(max(1, threads), n)
            let columns = { (cols: Range<Int>) in
                kernel(Int64(m), Int64(cols.count), Int64(k), a, Int64(rowStrideA),
                       b + cols.lowerBound * columnStep, Int64(ldb), c + cols.lowerBound, Int64(ldc),
                       accumulate ? 1 : 0)
            }
            if tasks == 1 {
                columns(0..<n)
            } else {
                ThreadPool.shared.parallelFor(tasks) { t in columns((n * t / tasks)..<(n * (t + 1) / tasks)) }
            }
            return
        }
        let problem = GemmProblem(
            m: m, n: n, k: k, a: a, rowStrideA: rowStrideA, colStrideA: colStrideA,
            b: b, rowStrideB: rowStrideB, colStrideB: colStrideB, c: c, ldc: ldc,
            accumulate: accumulate, blocking: GemmBlocking(kernels.pointee),
            ukernel: kernels.pointee.ukernel!, packedB: nil)
        problem.run(threads: 2 * m * n * k < parallelFlops ? 1 : max(1, threads))
    }
}

/// Cache blocking for one micro-kernel tile (MR x NR).
///
/// Measured on Zen 4 (32 KB L1d, 1 MB L2 per core, see README-KERNELS.md): KC = 512 and
/// MC = 256 were best of KC 256-768 x MC 128-420. NC = 768 beat 3072 on wide C (dA
/// 256x4096x768: 84% vs 77% on one core) and tied elsewhere: an MC x NC block of C (768 KB)
/// then stays in L2 from one KC step to the next. The packed A block (MC x KC, 512 KB)
/// sits in L2 and a B sliver (KC x NR) is reused from L1/L2 across the A slivers.
/// TETHER_GEMM_KC / _MC / _NC override them (read once) for tuning on other machines.
struct GemmBlocking {
    var mr: Int, nr: Int
    /// Depth of a packed block.
    var kc: Int
    /// Rows of a packed A block (a multiple of mr).
    var mc: Int
    /// Columns of a packed B panel (a multiple of nr).
    var nc: Int

    init(_ t: tk_kernel_table) {
        mr = Int(t.mr)
        nr = Int(t.nr)
        kc = max(1, GemmBlocking.overrides.kc ?? 512)
        mc = max(mr, (GemmBlocking.overrides.mc ?? 256) / mr * mr)
        nc = max(nr, (GemmBlocking.overrides.nc ?? 768) / nr * nr)
    }

    /// Depth of the KC blocks of a product of depth k: k cut into ceil(k / kc) equal blocks
    /// (the last may be shorter).
    func kcMax(k: Int) -> Int {
        let kSteps = (k + kc - 1) / kc
        return (k + kSteps - 1) / kSteps
    }

    private static let overrides: (kc: Int?, mc: Int?, nc: Int?) = {
        let env = ProcessInfo.processInfo.environment
        return (env["TETHER_GEMM_KC"].flatMap { Int($0) }, env["TETHER_GEMM_MC"].flatMap { Int($0) },
                env["TETHER_GEMM_NC"].flatMap { Int($0) })
    }()
}

/// One GEMM call's operands and plan; `runTask` computes one rectangle of C.
struct GemmProblem: @unchecked Sendable {
    let m: Int, n: Int, k: Int
    let a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int
    let b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int
    let c: UnsafeMutablePointer<Float>, ldc: Int
    let accumulate: Bool
    let blocking: GemmBlocking
    let ukernel: tk_ukernel_fn
    /// B already packed (then `b` and its strides are unused), or nil to pack it per task.
    let packedB: PackedGemmB?

    /// C (+)= A · B on up to `threads` threads.
    func run(threads: Int) {
        // One part per thread, also with a packed B: every column part packs its own copy of
        // A, so finer parts (4 per thread were tried) leave only 2n/parts flops per packed
        // element of A (64 at n = 256), and batch-64 decoding came out no faster.
        let split = split(threads: threads)
        if split.rows * split.cols == 1 {
            runTask(rows: 0..<m, cols: 0..<n)
            return
        }
        ThreadPool.shared.parallelFor(split.rows * split.cols) { t in
            let ri = t / split.cols, ci = t % split.cols
            runTask(rows: GemmProblem.part(ri, of: split.rows, total: m, align: blocking.mr),
                    cols: GemmProblem.part(ci, of: split.cols, total: n, align: blocking.nr))
        }
    }

    /// Part `i` of `parts` of `0..<total`, with boundaries on multiples of `align`.
    static func part(_ i: Int, of parts: Int, total: Int, align: Int) -> Range<Int> {
        let blocks = (total + align - 1) / align
        let lo = blocks * i / parts * align, hi = min(total, blocks * (i + 1) / parts * align)
        return lo..<hi
    }

    /// How to cut C into `threads` rectangles: the factorisation that packs the least.
    /// A is packed once per column part and B once per row part (or, packed beforehand,
    /// streamed from memory once per row part: the same traffic).
    func split(threads: Int) -> (rows: Int, cols: Int) {
        if threads <= 1 { return (1, 1) }
        let rowBlocks = (m + blocking.mr - 1) / blocking.mr
        let colBlocks = (n + blocking.nr - 1) / blocking.nr
        var best = (rows: 1, cols: 1), bestCost = Int.max
        for t in stride(from: threads, through: 1, by: -1) {
            for rows in 1...t where t % rows == 0 {
                let cols = t / rows
                if rows > rowBlocks || cols > colBlocks { continue }
                let cost = m * k * cols + n * k * rows
                if cost < bestCost { best = (rows, cols); bestCost = cost }
            }
            if bestCost != Int.max { return best }
        }
        return best
    }

    /// C[rows, cols] (+)= A[rows, :] · B[:, cols], on the calling thread.
    func runTask(rows: Range<Int>, cols: Range<Int>) {
        if rows.isEmpty || cols.isEmpty { return }
        let mr = blocking.mr, nr = blocking.nr
        let kcMax = blocking.kcMax(k: k)
        let mSteps = (rows.count + blocking.mc - 1) / blocking.mc
        let mcMax = ((rows.count + mSteps - 1) / mSteps + mr - 1) / mr * mr
        let ncMax = min(blocking.nc, (cols.count + nr - 1) / nr * nr)
        if let packedB { precondition(packedB.kcMax == kcMax && packedB.n == n, "GemmProblem: B packed for another shape") }
        GemmScratch.with(a: mcMax * kcMax, b: packedB == nil ? kcMax * ncMax : 0) { scratch in
            let pa = scratch.a
            var jc = cols.lowerBound
            while jc < cols.upperBound {
                let nc = min(ncMax, cols.upperBound - jc)
                var pc = 0
                while pc < k {
                    let kc = min(kcMax, k - pc)
                    let pb: UnsafeMutablePointer<Float>
                    if let packedB {
                        pb = packedB.panel(pc: pc, kc: kc, jc: jc)            // jc is a multiple of NR
                    } else {
                        pb = scratch.b
                        GemmPack.pack(b + pc * rowStrideB + jc * colStrideB, laneStride: colStrideB,
                                      depthStride: rowStrideB, lanes: nc, depth: kc, width: nr, into: pb)
                    }
                    let accumulateNow: Int32 = accumulate || pc > 0 ? 1 : 0
                    var ic = rows.lowerBound
                    while ic < rows.upperBound {
                        let mc = min(mcMax, rows.upperBound - ic)
                        GemmPack.pack(a + ic * rowStrideA + pc * colStrideA, laneStride: rowStrideA,
                                      depthStride: colStrideA, lanes: mc, depth: kc, width: mr, into: pa)
                        macroKernel(mc: mc, nc: nc, kc: kc, pa: pa, pb: pb,
                                    c: c + ic * ldc + jc, accumulate: accumulateNow)
                        ic += mc
                    }
                    pc += kc
                }
                jc += nc
            }
        }
    }

    /// C (mc x nc) (+)= packed A (mc x kc) · packed B (kc x nc), tile by tile. The B sliver
    /// stays in L1 across the inner loop over A slivers.
    @inline(__always)
    private func macroKernel(mc: Int, nc: Int, kc: Int, pa: UnsafeMutablePointer<Float>,
                             pb: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
                             accumulate: Int32) {
        let mr = blocking.mr, nr = blocking.nr
        var jr = 0
        while jr < nc {
            let nrNow = Int64(min(nr, nc - jr))
            let bSliver = pb + jr * kc
            var ir = 0
            while ir < mc {
                ukernel(Int64(kc), pa + ir * kc, bSliver, c + ir * ldc + jr, Int64(ldc),
                        Int64(min(mr, mc - ir)), nrNow, accumulate)
                ir += mr
            }
            jr += nr
        }
    }
}
