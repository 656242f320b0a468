import CTetherKernels
import Foundation

/// Measures the kernels against the machine: FMA peak, GEMM, memcpy and memory-bound ops.
///
/// Every figure is a best-of-several wall-clock time, and each is also given as a ratio to
/// a figure of the same run (GEMM / FMA peak, op bandwidth / memcpy bandwidth), because the
/// machines are shared and noisy.
public enum KernelBench {
    /// One GEMM to time: C (m x n) = A (m x k) · B (k x n) with the given strides.
    public struct GemmCase: Sendable {
        /// Short name, e.g. "fwd 4096x768x256" or "dA 4096x256x768".
        public var name: String
        public var m: Int, n: Int, k: Int
        /// Whether A / B are read transposed (column-major).
        public var transA: Bool, transB: Bool
    }

    /// The forward shapes (M, N, K) and, for each, the two backward GEMMs of C = A·B:
    /// dA = dC·Bᵀ (M x K, depth N) and dB = Aᵀ·dC (K x N, depth M).
    public static func gemmCases() -> [GemmCase] {
        let shapes = [(1024, 1024, 1024), (4096, 768, 256), (4096, 256, 768), (256, 768, 4096)]
        var cases: [GemmCase] = []
        for (m, n, k) in shapes {
            cases.append(GemmCase(name: "fwd \(m)x\(n)x\(k)", m: m, n: n, k: k, transA: false, transB: false))
            cases.append(GemmCase(name: "dA \(m)x\(k)x\(n)", m: m, n: k, k: n, transA: false, transB: true))
            cases.append(GemmCase(name: "dB \(k)x\(n)x\(m)", m: k, n: n, k: m, transA: true, transB: false))
        }
        return cases
    }

    /// Best time in seconds of `body` over at least `reps` runs and `minSeconds`, after a warm-up.
    public static func bestTime(reps: Int = 5, minSeconds: Double = 0.25, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        let start = now()
        var done = 0
        while done < reps || now() - start < minSeconds {
            let t0 = now()
            body()
            best = min(best, now() - t0)
            done += 1
            if done >= 200 { break }
        }
        return best
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// FMA peak of one core, GFLOP/s, with the active ISA's register-only probe.
    public static func fmaPeakOneCore() -> Double {
        let iters: Int64 = 4_000_000
        let flops = Double(iters) * Double(tk_fma_probe_flops_per_iter())
        var sink: Float = 0
        let t = bestTime(reps: 10, minSeconds: 0.4) { sink += tk_fma_probe(iters) }
        if sink == 1234.5 { print("") }  // keeps the probe's result alive
        return flops / t / 1e9
    }

    /// FMA peak of all pool threads running the probe at once, GFLOP/s.
    public static func fmaPeakAllCores() -> Double {
        let pool = ThreadPool.shared
        let chunks = pool.threadCount * 4
        let iters: Int64 = 2_000_000
        let flops = Double(chunks) * Double(iters) * Double(tk_fma_probe_flops_per_iter())
        let sinks = UnsafeMutablePointer<Float>.allocate(capacity: chunks * 16)
        defer { sinks.deallocate() }
        // The peak is a maximum: noise only lowers it, so take the best of many runs.
        let t = bestTime(reps: 10, minSeconds: 0.6) {
            pool.parallelFor(chunks) { i in sinks[i * 16] = tk_fma_probe(iters) }
        }
        return flops / t / 1e9
    }

    /// GFLOP/s of one GEMM case on `threads` threads with the active ISA.
    /// `forceThreads` splits even problems below `Gemm.parallelFlops` (break-even runs).
    public static func gemm(_ g: GemmCase, threads: Int, forceThreads: Bool = false) -> Double {
        let a = randomBuffer(g.m * g.k), b = randomBuffer(g.k * g.n), c = randomBuffer(g.m * g.n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        // A stored m x k (row-major) or k x m (read transposed); likewise B.
        let (rsA, csA) = g.transA ? (1, g.m) : (g.k, 1)
        let (rsB, csB) = g.transB ? (1, g.k) : (g.n, 1)
        let t = bestTime(reps: 4, minSeconds: forceThreads ? 0.1 : 0.3) {
            Gemm.sgemm(m: g.m, n: g.n, k: g.k, a: a, rowStrideA: rsA, colStrideA: csA,
                       b: b, rowStrideB: rsB, colStrideB: csB, c: c, ldc: g.n,
                       accumulate: false, isa: tk_active_isa(), threads: threads,
                       parallelFlops: forceThreads ? 0 : Gemm.parallelFlops)
        }
        return 2.0 * Double(g.m) * Double(g.n) * Double(g.k) / t / 1e9
    }

    /// memcpy bandwidth over all pool threads, GB/s counting bytes read + written.
    public static func memcpyBandwidth(floats: Int) -> Double {
        let src = randomBuffer(floats), dst = randomBuffer(floats)
        defer { src.deallocate(); dst.deallocate() }
        let t = bestTime(reps: 5) {
            ThreadPool.shared.parallelRanges(floats, grain: 1 << 18) { r in
                memcpy(dst + r.lowerBound, src + r.lowerBound, r.count * 4)
            }
        }
        return 8.0 * Double(floats) / t / 1e9
    }

    /// `Tensor.softmax()` over the last axis of a (rows, cols) tensor, GB/s read + written.
    public static func softmaxBandwidth(rows: Int, cols: Int) -> Double {
        let x = Tensor(uninitialized: [rows, cols])
        fillRandom(x.data, x.count)
        let t = bestTime(reps: 5) { _ = x.softmax() }
        return 8.0 * Double(rows * cols) / t / 1e9
    }

    /// `Tensor.gelu()` (tanh form) on `count` elements, GB/s read + written.
    public static func geluBandwidth(count: Int) -> Double {
        let x = Tensor(uninitialized: [count])
        fillRandom(x.data, count)
        let t = bestTime(reps: 5) { _ = x.gelu() }
        return 8.0 * Double(count) / t / 1e9
    }

    static func randomBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        fillRandom(p, count)
        return p
    }

    static func fillRandom(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        var s: UInt32 = 0x9E37_79B9
        for i in 0..<count {
            s = s &* 1_664_525 &+ 1_013_904_223
            p[i] = Float(Int32(bitPattern: s) >> 8) * (1.0 / 8_388_608.0)
        }
    }
}

extension KernelBench {
    /// `Tensor.layerNorm` (weight and bias) over the last axis of a (rows, cols) tensor,
    /// GB/s counting x read and y written.
    public static func layerNormBandwidth(rows: Int, cols: Int) -> Double? {
        let x = Tensor(uninitialized: [rows, cols])
        fillRandom(x.data, x.count)
        let w = Tensor.ones([cols]), b = Tensor.zeros([cols])
        let t = bestTime(reps: 5) { _ = x.layerNorm(weight: w, bias: b, eps: 1e-5) }
        return 8.0 * Double(rows * cols) / t / 1e9
    }
}

extension KernelBench {
    /// GFLOP/s of square GEMMs (n x n x n) on one thread and on `threads` threads, for the
    /// sizes that decide `Gemm.parallelFlops`. The threshold itself is bypassed here.
    public static func gemmBreakEven(sizes: [Int] = [16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256],
                                     threads: Int) -> [(n: Int, one: Double, all: Double)] {
        sizes.map { n in
            let g = GemmCase(name: "", m: n, n: n, k: n, transA: false, transB: false)
            return (n, gemm(g, threads: 1, forceThreads: true), gemm(g, threads: threads, forceThreads: true))
        }
    }
}
