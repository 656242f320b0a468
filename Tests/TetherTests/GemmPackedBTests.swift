import CTetherKernels
import Testing
@testable import Tether

/// The GEMM with B packed beforehand (``PackedGemmB``), per ISA: against the Double
/// reference, and bit for bit against the same product packed on the fly.
@Suite struct GemmPackedBTests {
    /// Rows from 1 to past a tile and an MC block, columns around NR and past an NC panel,
    /// depths around one and two KC blocks; B plain and transposed (a weight).
    @Test(arguments: supportedISAs)
    func againstReference(isa: tk_isa) {
        let t = tk_kernels_for_isa(isa)!.pointee
        let blocking = GemmBlocking(t)
        let mr = Int(t.mr), nr = Int(t.nr)
        for m in Set([1, 5, mr, mr + 1, 64, 67]).sorted() {
            for n in Set([1, nr - 1, nr + 1, 2 * nr + 5]).filter({ $0 > 0 }).sorted() {
                for k in [1, 17, 300] {
                    for transB in [false, true] {
                        checkGemm(m: m, n: n, k: k, transA: false, transB: transB, accumulate: m % 2 == 1,
                                  isa: isa, threads: 1, packB: true)
                    }
                }
            }
        }
        checkGemm(m: 9, n: 21, k: blocking.kc * 2 + 7, transA: false, transB: true, accumulate: true,
                  isa: isa, threads: nil, packB: true)
        checkGemm(m: blocking.mc + 19, n: 40, k: 33, transA: true, transB: false, accumulate: false,
                  isa: isa, threads: nil, packB: true)
        checkGemm(m: 64, n: blocking.nc + 37, k: 96, transA: false, transB: true, accumulate: false,
                  isa: isa, threads: nil, parallelFlops: 1, packB: true)
        checkGemm(m: 24, n: 170, k: 160, transA: true, transB: true, accumulate: true,
                  isa: isa, threads: 3, parallelFlops: 1, packB: true)
    }

    /// A packed B gives exactly the floats of the on-the-fly packing (same kernels, same
    /// blocks), on one thread and split over the pool.
    @Test(arguments: supportedISAs)
    func bitIdenticalToUnpacked(isa: tk_isa) {
        let blocking = GemmBlocking(tk_kernels_for_isa(isa)!.pointee)
        for (m, n, k) in [(8, 768, 256), (64, 1000, blocking.kc + 100), (5, 37, 40)] {
            let a = pseudoRandom(m * k, seed: 3), bt = pseudoRandom(n * k, seed: 4)  // B = btᵀ, a weight (n, k)
            for threads in [1, nil] as [Int?] {
                var plain = [Float](repeating: 0, count: m * n), packed = plain
                Gemm.sgemm(m: m, n: n, k: k, a: a, rowStrideA: k, colStrideA: 1, b: bt, rowStrideB: 1,
                           colStrideB: k, c: &plain, ldc: n, accumulate: false, isa: isa, threads: threads,
                           parallelFlops: 1)
                let pb = bt.withUnsafeBufferPointer {
                    PackedGemmB(k: k, n: n, b: $0.baseAddress!, rowStrideB: 1, colStrideB: k, isa: isa)
                }
                Gemm.sgemm(m: m, a: a, rowStrideA: k, colStrideA: 1, packedB: pb, c: &packed, ldc: n,
                           accumulate: false, threads: threads, parallelFlops: 1)
                if m > Gemm.dotRows { #expect(plain == packed, "m \(m) n \(n) k \(k) threads \(threads ?? -1)") }
            }
        }
    }
}
