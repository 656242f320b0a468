import ArgumentParser
import Foundation
import TetherTokenizers

/// `tether tokenize`: text to token ids (a JSON array), or ids back to text.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text to token ids (printed as a JSON array), or decode ids with --decode.")

    @Option(help: "A tokenizer.json file, or a model folder that holds one.")
    var tokenizer: String

    @Flag(help: "Decode: TEXT is a JSON array of ids (or ids separated by spaces or commas).")
    var decode = false

    @Flag(help: "Do not add the post-processor's special tokens (BOS/EOS) when encoding.")
    var noSpecialTokens = false

    @Argument(help: "The text to encode, or the ids to decode.")
    var text: String

    func run() throws {
        print(try output())
    }

    /// What `run` prints: the ids as a JSON array, or the decoded text.
    func output() throws -> String {
        let tok = try Tokenizer(tokenizerJSON: tokenizerFile(tokenizer))
        if decode {
            let fields = text.split(whereSeparator: { "[], \n\t".contains($0) })
            let ids = try fields.map { field -> Int32 in
                guard let id = Int32(field), id >= 0, Int(id) < tok.vocabSize else {
                    throw ValidationError("not a token id of this tokenizer (0..<\(tok.vocabSize)): '\(field)'")
                }
                return id
            }
            return tok.decode(ids)
        }
        let ids = tok.encode(text, addSpecialTokens: !noSpecialTokens)
        return "[" + ids.map(String.init).joined(separator: ", ") + "]"
    }
}

/// The tokenizer.json for `path`: the file itself, or `path/tokenizer.json` for a folder.
func tokenizerFile(_ path: String) throws -> URL {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ValidationError("no such file or folder: \(path)")
    }
    let url = URL(fileURLWithPath: path)
    return isDirectory.boolValue ? url.appendingPathComponent("tokenizer.json") : url
}
