import ArgumentParser
import Foundation
import Tether
import TetherLM
import TetherTokenizers

/// `tether bench lm`: whole-model speed as a fraction of what the FMA peak allows.
struct BenchLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Forward and generation tokens/s of the tiny and small models against the FMA peak of the same run, and tokenizer encode MB/s.")

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Sizes to measure, comma-separated: tiny, small.")
    var sizes = "tiny,small"

    @Option(help: "What to measure, comma-separated: forward, generate, tokenizer (e.g. only generate, to profile it).")
    var parts = "forward,generate,tokenizer"

    @Flag(help: "Also time generation without the packed-weight cache, interleaved with it (3 rounds, best of each), and print the ratio.")
    var compare = false

    func run() throws {
        let known = ["tiny": LMBench.Size.tiny, "small": .small]
        let chosen = try sizes.split(separator: ",").map { name in
            guard let s = known[String(name)] else { throw ValidationError("--sizes: unknown size '\(name)' (tiny, small)") }
            return s
        }
        let chosenParts = Set(parts.split(separator: ",").map(String.init))
        if let bad = chosenParts.first(where: { !["forward", "generate", "tokenizer"].contains($0) }) {
            throw ValidationError("--parts: unknown part '\(bad)' (forward, generate, tokenizer)")
        }
        let peak = KernelBench.fmaPeakAllCores() * 1e9  // FLOP/s
        var out = BenchFigures()
        out.add(String(format: "FMA peak, all cores: %.1f GFLOP/s", peak / 1e9), [("fma_peak_gflops", peak / 1e9)])
        for size in chosen {
            let model = CausalLM(config: size.config, seed: 0)
            for (batch, length) in [(8, 128), (8, 256)] where chosenParts.contains("forward") {
                let tps = LMBench.forwardTokensPerSecond(model, batch: batch, length: length)
                let fraction = tps * LMBench.forwardFlopsPerToken(size.config, context: length) / peak
                let key = "\(size.name)_forward_\(batch)x\(length)"
                out.add(String(format: "%@ forward %dx%d: %8.0f tokens/s  %5.1f%% of peak",
                               size.name, batch, length, tps, fraction * 100),
                        [(key + "_tokens_per_s", tps), (key + "_peak_fraction", fraction)])
            }
            for batch in [1, 8, 64] where chosenParts.contains("generate") {
                let flops = LMBench.forwardFlopsPerToken(size.config, context: 16 + 32)
                let key = "\(size.name)_generate_b\(batch)"
                guard compare else {
                    let tps = try LMBench.generationTokensPerSecond(model, batch: batch)
                    out.add(String(format: "%@ generate batch %2d, 64 new: %8.0f tokens/s  %5.1f%% of peak",
                                   size.name, batch, tps, tps * flops / peak * 100),
                            [(key + "_tokens_per_s", tps), (key + "_peak_fraction", tps * flops / peak)])
                    continue
                }
                // Interleaved rounds, so load from other processes falls on both alike.
                var (with, without) = (0.0, 0.0)
                for _ in 0..<3 {
                    without = max(without, try LMBench.generationTokensPerSecond(model, batch: batch, packWeights: false, reps: 1))
                    with = max(with, try LMBench.generationTokensPerSecond(model, batch: batch, reps: 1))
                }
                out.add(String(format: "%@ generate batch %2d, 64 new: %8.0f tokens/s  %5.1f%% of peak; without the weight cache %8.0f  %5.1f%%  (x%.2f)",
                               size.name, batch, with, with * flops / peak * 100, without, without * flops / peak * 100,
                               with / without),
                        [(key + "_tokens_per_s", with), (key + "_peak_fraction", with * flops / peak),
                         (key + "_unpacked_tokens_per_s", without), (key + "_unpacked_peak_fraction", without * flops / peak)])
            }
        }
        if chosenParts.contains("tokenizer") { try tokenizer(into: &out) }
        out.print(json: json)
    }

    /// Tokenizer: a 4096-token byte-level BPE trained on 1 MB, encoding 10 MB of mixed text.
    private func tokenizer(into out: inout BenchFigures) throws {
        let trainer = BPETrainer(vocabSize: 4096, specialTokens: ["<|endoftext|>"])
        let tok = trainer.train(texts: [TokenizerBenchmark.syntheticText(bytes: 1_000_000, seed: 2)])
        let text = TokenizerBenchmark.syntheticText(bytes: 10_000_000, seed: 3)
        let (mbps, tokens) = TokenizerBenchmark.encodeThroughput(tok, text: text)
        out.add(String(format: "tokenizer encode (10 MB, vocab 4096): %.1f MB/s, %d tokens", mbps, tokens),
                [("tokenizer_encode_mb_per_s", mbps)])
    }
}
