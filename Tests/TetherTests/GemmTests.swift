import CTetherKernels
import Testing
@testable import Tether

/// Every ISA this CPU (and build) can run; each test runs once per ISA through
/// `Gemm.sgemm(..., isa:)`, so no test changes the process-wide kernel choice.
let supportedISAs: [tk_isa] = [TK_ISA_GENERIC, TK_ISA_NEON, TK_ISA_AVX2, TK_ISA_AVX512]
    .filter { tk_isa_supported($0) != 0 }

/// Deterministic values in [-1, 1).
func pseudoRandom(_ count: Int, seed: UInt32) -> [Float] {
    var s = seed &* 2_654_435_761 &+ 1
    return (0..<count).map { _ in
        s = s &* 1_664_525 &+ 1_013_904_223
        return Float(Int32(bitPattern: s) >> 8) / 8_388_608
    }
}

/// One GEMM checked against a Double reference: A and B stored with padded leading
/// dimensions (transposed when asked), C with padding columns that must stay untouched.
func checkGemm(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, accumulate: Bool,
               isa: tk_isa, threads: Int?, parallelFlops: Int = Gemm.parallelFlops, packB: Bool = false,
               sourceLocation: SourceLocation = #_sourceLocation) {
    let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 5
    let a = pseudoRandom((transA ? k : m) * lda + 1, seed: UInt32(m * 31 + k))
    let b = pseudoRandom((transB ? n : k) * ldb + 1, seed: UInt32(n * 17 + k + 5))
    let c0 = pseudoRandom(m * ldc + 1, seed: UInt32(m + n + k))
    let (rsA, csA) = transA ? (1, lda) : (lda, 1)
    let (rsB, csB) = transB ? (1, ldb) : (ldb, 1)
    var c = c0
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                if packB {
                    let packed = PackedGemmB(k: k, n: n, b: pb.baseAddress!, rowStrideB: rsB, colStrideB: csB, isa: isa)
                    Gemm.sgemm(m: m, a: pa.baseAddress!, rowStrideA: rsA, colStrideA: csA, packedB: packed,
                               c: pc.baseAddress!, ldc: ldc, accumulate: accumulate, threads: threads,
                               parallelFlops: parallelFlops)
                } else {
                    Gemm.sgemm(m: m, n: n, k: k, a: pa.baseAddress!, rowStrideA: rsA, colStrideA: csA,
                               b: pb.baseAddress!, rowStrideB: rsB, colStrideB: csB,
                               c: pc.baseAddress!, ldc: ldc, accumulate: accumulate, isa: isa, threads: threads,
                               parallelFlops: parallelFlops)
                }
            }
        }
    }
    var failures = 0
    for i in 0..<m {
        for j in 0..<ldc {
            let got = c[i * ldc + j]
            if j >= n {  // padding: untouched
                if got != c0[i * ldc + j] { failures += 1 }
                continue
            }
            var ref = accumulate ? Double(c0[i * ldc + j]) : 0
            var magnitude = abs(ref)
            for p in 0..<k {
                let term = Double(a[i * rsA + p * csA]) * Double(b[p * rsB + j * csB])
                ref += term
                magnitude += abs(term)
            }
            // Float summation's worst-case bound: (k + 2) eps sum|terms|.
            let tolerance = Double(k + 2) * Double(Float.ulpOfOne) * magnitude
            if !(abs(Double(got) - ref) <= tolerance) { failures += 1 }
        }
    }
    #expect(failures == 0, "\(failures) wrong elements: packB \(packB) isa \(String(cString: tk_isa_name(isa))) m \(m) n \(n) k \(k) transA \(transA) transB \(transB) accumulate \(accumulate) threads \(threads ?? -1)",
            sourceLocation: sourceLocation)
}

@Suite struct GemmTests {
    /// Edge sizes around each ISA's tile, primes, 1, and depths on both sides of KC.
    @Test(arguments: supportedISAs)
    func edgeShapes(isa: tk_isa) {
        let t = tk_kernels_for_isa(isa)!.pointee
        let mr = Int(t.mr), nr = Int(t.nr)
        let ms = Set([1, mr - 1, mr, mr + 1, 2 * mr + 3, 13]).filter { $0 > 0 }.sorted()
        let ns = Set([1, nr - 1, nr, nr + 1, 2 * nr + 5, 7]).filter { $0 > 0 }.sorted()
        for m in ms {
            for n in ns {
                for k in [1, 3, 17] {
                    checkGemm(m: m, n: n, k: k, transA: false, transB: false, accumulate: false,
                              isa: isa, threads: 1)
                }
            }
        }
    }

    /// All four transpose combinations, accumulate on and off, one thread and the pool.
    @Test(arguments: supportedISAs)
    func transposesAccumulateAndThreads(isa: tk_isa) {
        for (m, n, k) in [(37, 41, 29), (130, 97, 131)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for accumulate in [false, true] {
                        for threads in [1, nil] as [Int?] {
                            checkGemm(m: m, n: n, k: k, transA: transA, transB: transB,
                                      accumulate: accumulate, isa: isa, threads: threads)
                        }
                    }
                }
            }
        }
    }

    /// Few rows times a transposed weight (decoding): the unpacked dot-product path, with
    /// depths on both sides of the vector width, accumulate, and a split over the pool.
    @Test(arguments: supportedISAs)
    func fewRowsDotPath(isa: tk_isa) {
        for m in 1...5 {
            for k in [16, 17, 40, 300] {
                for accumulate in [false, true] {
                    checkGemm(m: m, n: 37, k: k, transA: false, transB: true, accumulate: accumulate,
                              isa: isa, threads: 1)
                }
            }
            checkGemm(m: m, n: 2050, k: 300, transA: false, transB: true, accumulate: true,
                      isa: isa, threads: nil, parallelFlops: 1)
        }
    }

    /// Few rows times a matrix with contiguous rows (attention's value product while
    /// decoding): the axpy path, with ragged column blocks, accumulate, and a column split.
    @Test(arguments: supportedISAs)
    func fewRowsAxpyPath(isa: tk_isa) {
        for m in 1...5 {
            for n in [1, 7, 8, 15, 16, 17, 33, 64, 65, 130] {
                for k in [1, 3, 40] {
                    for accumulate in [false, true] {
                        checkGemm(m: m, n: n, k: k, transA: false, transB: false, accumulate: accumulate,
                                  isa: isa, threads: 1)
                    }
                }
            }
            checkGemm(m: m, n: 1000, k: 70, transA: false, transB: false, accumulate: true,
                      isa: isa, threads: nil, parallelFlops: 1)
        }
    }

    /// Depth past one KC block (the second block must accumulate), rows past one MC block,
    /// columns past one NC panel, and thread splits along either dimension.
    @Test(arguments: supportedISAs)
    func blockBoundaries(isa: tk_isa) {
        let blocking = GemmBlocking(tk_kernels_for_isa(isa)!.pointee)
        checkGemm(m: 9, n: 21, k: blocking.kc * 2 + 7, transA: false, transB: true, accumulate: false,
                  isa: isa, threads: nil)
        checkGemm(m: blocking.mc + 19, n: 40, k: 33, transA: true, transB: false, accumulate: true,
                  isa: isa, threads: nil)
        checkGemm(m: 5, n: blocking.nc + 37, k: 9, transA: false, transB: false, accumulate: false,
                  isa: isa, threads: 1)
        checkGemm(m: 160, n: 24, k: 160, transA: false, transB: false, accumulate: false,
                  isa: isa, threads: 4)
        checkGemm(m: 24, n: 170, k: 160, transA: true, transB: true, accumulate: true,
                  isa: isa, threads: 3)
    }

    /// k == 0 zeroes C without accumulate and leaves it alone with it; m or n == 0 is a no-op.
    @Test(arguments: supportedISAs)
    func emptyDimensions(isa: tk_isa) {
        for accumulate in [false, true] {
            checkGemm(m: 5, n: 7, k: 0, transA: false, transB: false, accumulate: accumulate,
                      isa: isa, threads: nil)
            checkGemm(m: 0, n: 7, k: 3, transA: false, transB: false, accumulate: accumulate,
                      isa: isa, threads: nil)
            checkGemm(m: 5, n: 0, k: 3, transA: true, transB: false, accumulate: accumulate,
                      isa: isa, threads: nil)
        }
    }

    /// The default entry point (active ISA) with `parallel` on and off.
    @Test func defaultEntryPoint() {
        for parallel in [false, true] {
            let (m, n, k) = (150, 70, 140)
            let a = pseudoRandom(m * k, seed: 1), b = pseudoRandom(k * n, seed: 2)
            var c = [Float](repeating: 0, count: m * n)
            var viaISA = c
            Gemm.sgemm(m: m, n: n, k: k, a: a, rowStrideA: k, colStrideA: 1, b: b, rowStrideB: 1,
                       colStrideB: k, c: &c, ldc: n, accumulate: false, parallel: parallel)
            Gemm.sgemm(m: m, n: n, k: k, a: a, rowStrideA: k, colStrideA: 1, b: b, rowStrideB: 1,
                       colStrideB: k, c: &viaISA, ldc: n, accumulate: false, isa: tk_active_isa(),
                       threads: parallel ? nil : 1)
            #expect(c == viaISA)
            var ref = 0.0, worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    ref = 0
                    for p in 0..<k { ref += Double(a[i * k + p]) * Double(b[j * k + p]) }
                    worst = max(worst, abs(ref - Double(c[i * n + j])))
                }
            }
            #expect(worst < 1e-4)
        }
    }

    /// The split puts each thread on a real rectangle and never more tasks than tiles.
    @Test func splitCoversTiles() {
        let t = tk_kernels_for_isa(TK_ISA_GENERIC)!.pointee
        let blocking = GemmBlocking(t)
        for (m, n, threads) in [(1, 1000, 4), (1000, 1, 4), (64, 64, 2), (4096, 256, 2), (256, 4096, 2), (100, 100, 6)] {
            let z = UnsafeMutablePointer<Float>.allocate(capacity: 1)
            defer { z.deallocate() }
            let problem = GemmProblem(m: m, n: n, k: 8, a: z, rowStrideA: 0, colStrideA: 0, b: z,
                                      rowStrideB: 0, colStrideB: 0, c: z, ldc: n, accumulate: false,
                                      blocking: blocking, ukernel: t.ukernel!, packedB: nil)
            let split = problem.split(threads: threads)
            #expect(split.rows * split.cols <= threads)
            #expect(split.rows <= (m + blocking.mr - 1) / blocking.mr)
            #expect(split.cols <= (n + blocking.nr - 1) / blocking.nr)
            var covered = 0
            for r in 0..<split.rows {
                for c in 0..<split.cols {
                    let rows = GemmProblem.part(r, of: split.rows, total: m, align: blocking.mr)
                    let cols = GemmProblem.part(c, of: split.cols, total: n, align: blocking.nr)
                    covered += rows.count * cols.count
                }
            }
            #expect(covered == m * n)
        }
    }
}
