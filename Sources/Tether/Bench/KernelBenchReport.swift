import CTetherKernels
import Foundation

/// The figures of one `tether bench kernels` run, in the order they were measured.
public struct KernelBenchReport: Sendable {
    /// ISA of the kernels measured ("avx512", "avx2", "neon", "generic").
    public var isa: String
    /// Threads of the pool.
    public var threads: Int
    /// (JSON key, value) pairs; GFLOP/s, GB/s or a ratio, as the key's suffix says.
    public var figures: [(key: String, value: Double)] = []
    /// Lines for the human-readable table (label, value text), in order.
    var lines: [(label: String, text: String)] = []
    /// Remarks printed under the table and as "notes" in JSON.
    public var notes: [String] = []

    /// The value of `key`, if measured.
    public subscript(key: String) -> Double? { figures.first { $0.key == key }?.value }

    mutating func add(_ key: String, _ value: Double, label: String, text: String) {
        figures.append((key, value))
        lines.append((label, text))
    }

    /// One JSON object: `isa`, `threads`, a number per figure, and `notes`.
    public func json() -> String {
        var parts = ["\"isa\": \"\(isa)\"", "\"threads\": \(threads)"]
        for (key, value) in figures {
            parts.append("\"\(key)\": " + (value.isFinite ? String(format: "%.4g", value) : "null"))
        }
        let escaped = notes.map { "\"" + $0.replacingOccurrences(of: "\"", with: "'") + "\"" }
        parts.append("\"notes\": [" + escaped.joined(separator: ", ") + "]")
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// An aligned two-column table.
    public func table() -> String {
        let width = lines.filter { !$0.text.isEmpty }.map(\.label.count).max() ?? 0
        var out = "tether bench kernels: isa \(isa), \(threads) threads\n"
        for (label, text) in lines {
            if text.isEmpty { out += "\n" + label + "\n"; continue }
            out += "  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + text + "\n"
        }
        for note in notes { out += "note: " + note + "\n" }
        return out
    }
}

extension KernelBench {
    /// Runs every measurement with the active ISA and the shared pool. `quick` uses small
    /// memory buffers and three GEMMs (a smoke test); `gemmFilter` keeps only the GEMM cases
    /// whose name contains it ("" for none); the GEMMs are timed in `rounds` rounds.
    public static func run(quick: Bool = false, gemmFilter: String? = nil, rounds: Int = 2) -> KernelBenchReport {
        let threads = ThreadPool.shared.threadCount
        var r = KernelBenchReport(isa: String(cString: tk_isa_name(tk_active_isa())), threads: threads)

        r.lines.append(("FMA peak (register-only probe)", ""))
        let one = fmaPeakOneCore()
        let all = fmaPeakAllCores()
        r.add("fma_peak_1core_gflops", one, label: "1 core", text: String(format: "%8.1f GFLOP/s", one))
        r.add("fma_peak_gflops", all, label: "all \(threads) threads",
              text: String(format: "%8.1f GFLOP/s", all))
        if threads > 1 && all < 0.85 * Double(threads) * one {
            r.notes.append(String(format: "all-thread FMA peak is %.2fx one core with %d threads: other processes share the cores, so every figure of this run is suspect", all / one, threads))
        }

        r.lines.append(("GEMM C(MxN) = A(MxK)·B(KxN), shapes MxNxK; dA = dC·Bᵀ, dB = Aᵀ·dC", ""))
        var worst = Double.infinity
        let cases = (quick ? Array(gemmCases().prefix(3)) : gemmCases()).filter { g in
            gemmFilter.map { !$0.isEmpty && g.name.contains($0) } ?? true
        }
        // Whole rounds over all cases, best per case: a burst of load from another process
        // then spoils one round of a case, not the case.
        var best = [Double](repeating: 0, count: cases.count)
        for _ in 0..<max(1, rounds) {
            for (i, g) in cases.enumerated() { best[i] = max(best[i], gemm(g, threads: threads)) }
        }
        for (g, gflops) in zip(cases, best) {
            let fraction = gflops / all
            worst = min(worst, fraction)
            let key = "gemm_" + g.name.replacingOccurrences(of: " ", with: "_")
            r.figures.append((key + "_gflops", gflops))
            r.add(key + "_peak_fraction", fraction, label: g.name,
                  text: String(format: "%8.1f GFLOP/s  %5.1f%% of FMA peak", gflops, 100 * fraction))
        }
        if worst.isFinite {
            r.add("gemm_peak_fraction", worst, label: "worst GEMM / FMA peak",
                  text: String(format: "%5.1f%%", 100 * worst))
        }

        r.lines.append(("Memory-bound (GB/s = bytes read + written / time)", ""))
        let floats = quick ? 1 << 20 : 1 << 25
        let copy = memcpyBandwidth(floats: floats)
        r.add("memcpy_gbps", copy, label: "memcpy \((floats * 4) >> 20) MiB",
              text: String(format: "%8.1f GB/s", copy))
        let cols = 8192
        let soft = softmaxBandwidth(rows: floats / cols, cols: cols)
        r.figures.append(("softmax_gbps", soft))
        r.add("softmax_vs_memcpy", soft / copy, label: "softmax Tensor op, rows x \(cols)",
              text: String(format: "%8.1f GB/s  %5.1f%% of memcpy", soft, 100 * soft / copy))
        if let norm = layerNormBandwidth(rows: floats / 1024, cols: 1024) {
            r.figures.append(("layernorm_gbps", norm))
            r.add("layernorm_vs_memcpy", norm / copy, label: "layerNorm Tensor op, rows x 1024",
                  text: String(format: "%8.1f GB/s  %5.1f%% of memcpy", norm, 100 * norm / copy))
        } else {
            r.notes.append("layerNorm not measured: no Tensor.layerNorm op in this build")
        }
        let gelu = geluBandwidth(count: floats)
        r.figures.append(("gelu_gbps", gelu))
        r.add("gelu_vs_memcpy", gelu / copy, label: "gelu (tanh) Tensor op",
              text: String(format: "%8.1f GB/s  %5.1f%% of memcpy", gelu, 100 * gelu / copy))
        return r
    }
}
