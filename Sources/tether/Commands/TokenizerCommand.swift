import ArgumentParser
import Foundation
import TetherAlign
import TetherTokenizers

/// `tether tokenizer ...`: train byte-level BPE tokenizers.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train tokenizers.",
        subcommands: [TrainCommand.self])

    /// `tether tokenizer train`: a byte-level BPE tokenizer from text or TRL-format data files.
    struct TrainCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a byte-level BPE tokenizer and write DIR/tokenizer.json (an existing one is never overwritten).")

        @Option(parsing: .upToNextOption,
                help: "Training files: .jsonl/.json in TRL formats (every text, prompt, completion and message is used) or plain text. Required.")
        var files: [String]

        @Option(help: "Vocabulary size, including the 256 byte tokens and the special tokens.")
        var vocabSize = 4096

        @Option(help: "Merge only pairs seen at least this many times.")
        var minFrequency = 2

        @Option(parsing: .upToNextOption, help: "Special tokens, given the first ids.")
        var specialTokens: [String] = ["<|endoftext|>"]

        @Option(help: "How text is split before merging: gpt2, llama3 (digits in groups of up to 3) or qwen2 (one token per digit, best for arithmetic).")
        var preTokenizer: SplitPattern = .gpt2

        @Option(help: "Folder to write tokenizer.json into.")
        var out = "tokenizer"

        /// The pre-tokenizer of each split pattern.
        static let preTokenizers: [SplitPattern: PreTokenizer] = [.gpt2: .gpt2, .llama3: .llama3, .qwen2: .qwen2]

        func validate() throws {
            if files.isEmpty { throw ValidationError("--files: give at least one file") }
            if vocabSize < 256 + specialTokens.count { throw ValidationError("--vocab-size: expected at least \(256 + specialTokens.count) (256 bytes + special tokens), got \(vocabSize)") }
            if minFrequency < 1 { throw ValidationError("--min-frequency: expected at least 1, got \(minFrequency)") }
        }

        func run() throws {
            let url = try train()
            print(url.path)
        }

        /// Trains and writes the tokenizer; returns the path of tokenizer.json.
        func train() throws -> URL {
            let dest = URL(fileURLWithPath: out).appendingPathComponent("tokenizer.json")
            guard !FileManager.default.fileExists(atPath: dest.path) else {
                throw ValidationError("\(dest.path) exists; refusing to overwrite it (choose another --out)")
            }
            var texts: [String] = []
            for file in files { texts += try Self.texts(in: URL(fileURLWithPath: file)) }
            let tokenizer = BPETrainer(vocabSize: vocabSize, minFrequency: minFrequency, specialTokens: specialTokens,
                                       preTokenizer: Self.preTokenizers[preTokenizer]!).train(texts: texts)
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try tokenizer.save(tokenizerJSON: dest)
            return dest
        }

        /// The texts of a file: every string field of TRL records in .jsonl/.json, else the whole file.
        static func texts(in url: URL) throws -> [String] {
            guard ["jsonl", "json"].contains(url.pathExtension.lowercased()) else {
                do { return [try String(contentsOf: url, encoding: .utf8)] } catch {
                    throw ValidationError("\(url.path): cannot read UTF-8 text (\(error.localizedDescription))")
                }
            }
            var texts: [String] = []
            func add(_ t: TextOrMessages) {
                switch t {
                case .text(let s): texts.append(s)
                case .messages(let ms): texts += ms.map(\.content)
                }
            }
            _ = try DatasetLoader.stream(url) { example in
                switch example {
                case .languageModeling(let e): add(e.content)
                case .promptOnly(let e): add(e.prompt)
                case .promptCompletion(let e): add(e.prompt); add(e.completion)
                case .preference(let e): e.prompt.map(add); add(e.chosen); add(e.rejected)
                case .unpairedPreference(let e): add(e.prompt); add(e.completion)
                case .stepwiseSupervision(let e): texts.append(e.prompt); texts += e.completions
                }
            }
            return texts
        }
    }
}

extension SplitPattern: ExpressibleByArgument {}
