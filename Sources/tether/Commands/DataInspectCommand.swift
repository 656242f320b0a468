import ArgumentParser
import Foundation
import TetherAlign
import TetherTokenizers

extension DataCommand {
    /// `tether data inspect FILE`: what the loss sees — rendered examples with trained tokens marked, and counts.
    struct InspectCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Print examples as SFT renders them, trained-on tokens marked ([[like this]], or green on a terminal), with trained and masked token counts.")

        @Argument(help: "A JSONL or JSON file in a TRL format (text, messages or prompt+completion).")
        var file: String

        @Option(help: "Tokenizer folder or tokenizer.json. Required.")
        var tokenizer: String

        @Option(help: "Examples to print; the counts cover the whole file.")
        var n = 3

        @Option(help: "Train only on completions of prompt-completion records, true or false, as sft.")
        var completionOnlyLoss = true

        @Option(help: "Train only on assistant turns of conversations, true or false, as sft.")
        var assistantOnlyLoss = true

        @Flag(help: "Mark with [[ ]] even on a terminal (default: color on a terminal, brackets otherwise).")
        var noColor = false

        func run() throws {
            let color = !noColor && isatty(STDOUT_FILENO) == 1
            for line in try outputLines(color: color) { print(line) }
        }

        /// The printed lines: up to `n` rendered examples, then the totals over the file.
        func outputLines(color: Bool = false) throws -> [String] {
            let tok = try Tokenizer(tokenizerJSON: try tokenizerFile(tokenizer))
            var config = SFTConfig()
            config.completionOnlyLoss = completionOnlyLoss
            config.assistantOnlyLoss = assistantOnlyLoss
            config.training.maxLength = Int.max / 2
            let examples = try SFTCommand.tokenized(file, SFTCommand.exampleTokenizer(tok, config: config))
            var lines: [String] = []
            var trained = 0, masked = 0
            for (i, e) in examples.enumerated() {
                let t = e.lossMask.filter { $0 }.count
                trained += t
                masked += e.lossMask.count - t
                guard i < n else { continue }
                lines.append("--- example \(i + 1): \(e.ids.count) tokens, \(t) trained, \(e.ids.count - t) masked")
                lines.append(Self.render(e, tok, color: color))
            }
            lines.append("\(examples.count) examples: \(trained) trained tokens, \(masked) masked tokens")
            return lines
        }

        /// The example's text, each run of trained tokens wrapped in [[ ]] (or colored green).
        static func render(_ e: TokenizedExample, _ tok: Tokenizer, color: Bool) -> String {
            var out = "", start = 0
            while start < e.ids.count {
                var end = start
                while end < e.ids.count && e.lossMask[end] == e.lossMask[start] { end += 1 }
                let text = tok.decode(Array(e.ids[start..<end]))
                if e.lossMask[start] {
                    out += color ? "\u{1B}[32m\(text)\u{1B}[0m" : "[[\(text)]]"
                } else {
                    out += text
                }
                start = end
            }
            return out
        }
    }
}
