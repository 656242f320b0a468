import ArgumentParser
import Foundation
import Tether
import TetherLM

/// `tether bench train`: full training steps in tokens/s, against the FMA peak.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training tokens/s (forward, backward, AdamW) of the tiny and small models at batch 8x128, against the FMA peak of the same run.")

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let peak = KernelBench.fmaPeakAllCores() * 1e9
        var out = BenchFigures()
        out.add(String(format: "FMA peak, all cores: %.1f GFLOP/s", peak / 1e9), [("fma_peak_gflops", peak / 1e9)])
        for size in [LMBench.Size.tiny, .small] {
            let model = CausalLM(config: size.config, seed: 0)
            let tps = LMBench.trainTokensPerSecond(model, batch: 8, length: 128)
            let fraction = tps * 3 * LMBench.forwardFlopsPerToken(size.config, context: 128) / peak
            out.add(String(format: "%@ train step 8x128: %7.0f tokens/s  %5.1f%% of peak", size.name, tps, fraction * 100),
                    [("\(size.name)_train_8x128_tokens_per_s", tps), ("\(size.name)_train_8x128_peak_fraction", fraction)])
        }
        out.print(json: json)
    }
}
