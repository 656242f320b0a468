import ArgumentParser
import CTetherKernels
import Foundation
import Tether

/// `tether bench ...`: every speed claim has a command.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed against the machine's own limits.",
        subcommands: [KernelsCommand.self, BenchLMCommand.self, BenchTrainCommand.self])

    /// `tether bench kernels`: FMA peak, GEMM, memcpy, softmax, LayerNorm, GELU.
    struct KernelsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernels",
            abstract: "FMA peak, GEMM GFLOP/s as a fraction of it, and memory-bound ops against memcpy.")

        @Flag(help: "Print one JSON object instead of a table.")
        var json = false

        @Option(help: "Kernels to measure: generic, avx2, avx512 or neon (default: the best this CPU runs).")
        var isa: String?

        @Option(help: "Threads in the pool (default: TETHER_NUM_THREADS or one per core).")
        var threads: Int?

        @Flag(help: "Small buffers and three GEMMs only (a smoke test, not a measurement).")
        var quick = false

        @Option(help: "Only the GEMM cases whose name contains this (e.g. 'dA', '4096x768'; '' for none).")
        var gemm: String?

        @Option(help: "Rounds over the GEMM cases; each case reports its best round.")
        var rounds = 2

        @Flag(help: "Instead: square GEMMs on one thread and on all, to place the parallel threshold.")
        var breakEven = false

        func validate() throws {
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
            if rounds < 1 { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
            if let isa, Self.isaNamed(isa) == nil {
                throw ValidationError("--isa must be generic, neon, avx2 or avx512, got '\(isa)'")
            }
        }

        static func isaNamed(_ name: String) -> tk_isa? {
            [TK_ISA_GENERIC, TK_ISA_NEON, TK_ISA_AVX2, TK_ISA_AVX512]
                .first { String(cString: tk_isa_name($0)) == name }
        }

        func run() throws {
            // Before anything touches the pool, so it starts with this many threads.
            if let threads { setenv("TETHER_NUM_THREADS", String(threads), 1) }
            if let isa, let chosen = Self.isaNamed(isa), tk_set_isa(chosen) == 0 {
                throw ValidationError("this CPU cannot run the \(isa) kernels")
            }
            if breakEven {
                let threads = ThreadPool.shared.threadCount
                print("n (GEMM n x n x n)   MFLOP   1 thread GFLOP/s   \(threads) threads GFLOP/s")
                for row in KernelBench.gemmBreakEven(threads: threads) {
                    let mflop = 2.0 * Double(row.n * row.n * row.n) / 1e6
                    print(String(format: "%18d %7.2f %18.1f %19.1f", row.n, mflop, row.one, row.all))
                }
                return
            }
            let report = KernelBench.run(quick: quick, gemmFilter: gemm, rounds: rounds)
            print(json ? report.json() : report.table(), terminator: json ? "\n" : "")
        }
    }
}

/// Named figures of a benchmark run, printed as a table or as one JSON object.
struct BenchFigures {
    private(set) var figures: [(String, Double)] = []
    private(set) var lines: [String] = []

    /// Adds figures and the human-readable line that shows them.
    mutating func add(_ line: String, _ values: [(String, Double)]) {
        lines.append(line)
        figures += values
    }

    /// Prints the lines, or with `json` one object with the ISA, thread count and every figure.
    func print(json: Bool) {
        if json {
            let body = figures.map { "\"\($0.0)\": \(String(format: "%.4g", $0.1))" }.joined(separator: ", ")
            Swift.print("{\"isa\": \"\(String(cString: tk_isa_name(tk_active_isa())))\", \"threads\": \(ThreadPool.shared.threadCount), \(body)}")
        } else {
            Swift.print(lines.joined(separator: "\n"))
        }
    }
}
