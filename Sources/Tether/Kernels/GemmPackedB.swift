import CTetherKernels
import Foundation

/// A GEMM's B operand (k x n) packed once into the micro-kernel's panel layout, so that
/// repeated products with the same B (a weight, during decoding) skip the packing.
///
/// Layout: the depth is cut into the same KC blocks the tiled driver uses; block `b`
/// (depth `kc_b`, starting at depth `pc`) starts at `pc * paddedN` and holds every NR-column
/// sliver of B in order, each `kc_b * NR` floats (zero-padded past n). So the panel of
/// columns `jc...` (jc a multiple of NR) in that block starts at `pc * paddedN + jc * kc_b`:
/// exactly what `GemmProblem.runTask` would have packed, and the product is bit for bit the
/// same as an unpacked `Gemm.sgemm` with the same kernels.
public final class PackedGemmB: @unchecked Sendable {
    /// Depth (rows of B).
    public let k: Int
    /// Columns of B.
    public let n: Int
    /// n rounded up to a multiple of NR.
    let paddedN: Int
    /// Depth of every KC block but possibly the last.
    let kcMax: Int
    /// The kernels the layout was made for (its NR) and that run the products.
    let kernels: UnsafePointer<tk_kernel_table>
    /// k x paddedN packed floats (immutable after init).
    let data: UnsafeMutablePointer<Float>
    /// Owns `data`: from the buffer cache, so packing again after a generation call (same
    /// sizes) reuses memory instead of faulting in fresh pages.
    private let storage: Storage

    /// Packs B, whose element (p, j) is at `b[p * rowStrideB + j * colStrideB]`, for the
    /// active kernels, or those of `isa`.
    public init(k: Int, n: Int, b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int, isa: tk_isa? = nil) {
        precondition(k > 0 && n > 0, "PackedGemmB: empty B (k \(k), n \(n))")
        if let isa {
            guard let table = tk_kernels_for_isa(isa) else {
                preconditionFailure("PackedGemmB: ISA \(String(cString: tk_isa_name(isa))) is not supported here")
            }
            kernels = table
        } else {
            kernels = tk_kernels()
        }
        let blocking = GemmBlocking(kernels.pointee)
        self.k = k
        self.n = n
        paddedN = (n + blocking.nr - 1) / blocking.nr * blocking.nr
        kcMax = blocking.kcMax(k: k)
        storage = Storage(count: k * paddedN)
        data = storage.base
        // Each KC block is one packing call over all n columns (slivers of NR).
        let (kc, pn, d, nr) = (kcMax, paddedN, data, blocking.nr)
        let blocks = (k + kc - 1) / kc
        let pack = { (blk: Int) in
            let pc = blk * kc, depth = min(kc, k - pc)
            GemmPack.pack(b + pc * rowStrideB, laneStride: colStrideB, depthStride: rowStrideB,
                          lanes: n, depth: depth, width: nr, into: d + pc * pn)
        }
        if blocks > 1 && k * n >= 1 << 16 {
            ThreadPool.shared.parallelFor(blocks, pack)
        } else {
            for blk in 0..<blocks { pack(blk) }
        }
    }

    /// Bytes held by the packed copy.
    public var byteCount: Int { k * paddedN * MemoryLayout<Float>.size }

    /// The packed panel of the KC block starting at depth `pc` (depth `kc`), from column `jc`.
    @inline(__always)
    func panel(pc: Int, kc: Int, jc: Int) -> UnsafeMutablePointer<Float> {
        data + pc * paddedN + jc * kc
    }
}

extension Gemm {
    /// C (m x n, row stride ldc) = A (m x k) · B, or += when `accumulate`, with B packed
    /// beforehand (see ``PackedGemmB``); runs with the kernels B was packed for.
    /// Bit for bit equal to ``sgemm(m:n:k:a:rowStrideA:colStrideA:b:rowStrideB:colStrideB:c:ldc:accumulate:parallel:)``
    /// through the tiled path (m > 4 or no dot kernel) with the same kernels.
    /// `threads` caps the tasks (nil: the pool's thread count).
    public static func sgemm(m: Int, a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int,
                             packedB: PackedGemmB, c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool, threads: Int? = nil, parallelFlops: Int = Gemm.parallelFlops) {
        let (n, k) = (packedB.n, packedB.k)
        precondition(m >= 0, "sgemm: negative m \(m)")
        precondition(m <= 1 || ldc >= n, "sgemm: ldc \(ldc) < n \(n)")
        if m == 0 { return }
        let kernels = packedB.kernels
        let problem = GemmProblem(
            m: m, n: n, k: k, a: a, rowStrideA: rowStrideA, colStrideA: colStrideA,
            b: packedB.data, rowStrideB: 0, colStrideB: 0, c: c, ldc: ldc,
            accumulate: accumulate, blocking: GemmBlocking(kernels.pointee),
            ukernel: kernels.pointee.ukernel!, packedB: packedB)
        problem.run(threads: 2 * m * n * k < parallelFlops ? 1 : max(1, threads ?? ThreadPool.shared.threadCount))
    }
}
