// Encode throughput (MB/s) on a generated ~10 MB text, batch encode on its lines, and BPE
// training time. Usage: swift run -c release TokenizerBench [--write-text FILE]
// (--write-text saves the text so hf_peer.py can time the HF `tokenizers` library on it.)
import Foundation
import TetherTokenizers

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let fixtures = here.appendingPathComponent("../../../../Tests/TetherTokenizersTests/Fixtures").standardized
let text = TokenizerBenchmark.syntheticText(bytes: 10_000_000, seed: 1)
let args = CommandLine.arguments
if let i = args.firstIndex(of: "--write-text"), i + 1 < args.count {
    try text.write(toFile: args[i + 1], atomically: true, encoding: .utf8)
}
print("text: \(text.utf8.count) bytes")
for name in ["gpt2.json", "llama3.json", "qwen2.json"] {
    let tok = try Tokenizer(tokenizerJSON: fixtures.appendingPathComponent(name))
    let r = TokenizerBenchmark.encodeThroughput(tok, text: text, repeats: 3)
    print("encode \(name): \(String(format: "%.1f", r.mbPerSecond)) MB/s (\(r.tokens) tokens)")
}
let gpt2 = try Tokenizer(tokenizerJSON: fixtures.appendingPathComponent("gpt2.json"))
let lines = text.split(separator: "\n").map(String.init)
for threads in [1, 2] {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let ids = gpt2.encodeBatch(lines, addSpecialTokens: false, threads: threads)
    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    print("encodeBatch gpt2.json, \(lines.count) lines, \(threads) thread(s): \(String(format: "%.1f", Double(text.utf8.count) / 1e6 / dt)) MB/s (\(ids.reduce(0) { $0 + $1.count }) tokens)")
}
// Training corpus with a large vocabulary: ~4 MB of pseudo-words built from syllables (60k-word
// lexicon, 70% of draws from its 500 most common words), so merges do not run out early.
var state: UInt64 = 99
@MainActor func rnd() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
let syllables = ["ka", "to", "ri", "sen", "mo", "la", "pre", "qui", "zu", "el", "an", "dor", "ve", "thi", "ng", "str",
                 "ow", "ei", "ph", "ux", "é", "ö", "ни", "ка", "の", "語"]
let lexicon = (0..<60_000).map { _ in (0...(rnd() % 4)).map { _ in syllables[rnd() % syllables.count] }.joined() }
var corpus = ""
while corpus.utf8.count < 4_000_000 {
    corpus += (rnd() % 15 == 0 ? ".\n" : " ") + lexicon[rnd() % 1000 < 700 ? rnd() % 500 : rnd() % lexicon.count]
}
for (vocab, pre) in [(2048, PreTokenizer.gpt2), (8192, PreTokenizer.llama3)] {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let t = BPETrainer(vocabSize: vocab, specialTokens: ["<|endoftext|>"], preTokenizer: pre).train(texts: [corpus])
    let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    print("train vocab \(vocab) (\(pre.split?.rawValue ?? "gpt2") split) on \(corpus.utf8.count) bytes: \(String(format: "%.2f", dt)) s, \(t.model.merges.count) merges")
}
