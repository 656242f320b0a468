import ArgumentParser
import Foundation
import TetherAlign
import TetherLM
import TetherServer
import TetherTokenizers

/// `tether label import`: add TRL rows to a project, in one transaction; a second import of the same rows adds nothing.
struct LabelImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import prompt+completions, prompt+chosen+rejected, or prompt-only rows (with --model) into a project.",
        discussion: """
        Optional columns: "sources" (one name or null per completion), "chosen_source"/"rejected_source", and
        "gold" (index of the known better candidate; 0 is "chosen" for chosen/rejected rows). A bad line stops the
        import with its file, line and field, and nothing is imported.
        """)

    @OptionGroup var database: LabelDatabaseOption

    @Option(help: "The project (created if missing).")
    var project: String

    @Argument(help: "The JSONL file.")
    var file: String

    @Option(help: "For prompt-only rows: a model folder to sample the candidates from.")
    var model: String?

    @Option(help: "Candidates to sample per prompt-only row (with --model).")
    var n = 2

    @Option(help: "Sampling temperature for --model.")
    var temperature: Float = 1

    @Option(help: "Most new tokens per sampled candidate.")
    var maxNewTokens = 128

    @Option(help: "Random seed for --model.")
    var seed: UInt64 = 0

    @Option(help: "For a new project: how many annotators see each pair.")
    var annotatorsPerPair = 3

    @Option(help: "For a new project: share of each annotator's labels that repeat earlier pairs (self-consistency).")
    var repeatShare = 0.1

    func validate() throws {
        guard n >= 2 else { throw ValidationError("--n: expected 2 or more candidates, got \(n)") }
    }

    func run() throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw ValidationError("\(file): cannot read: \(error.localizedDescription)")
        }
        var rows = try ImportParser.parse(data, file: file)
        if rows.contains(where: { $0.candidates.isEmpty }) {
            guard let model else {
                let line = rows.first { $0.candidates.isEmpty }!.line
                throw DatasetError(field: "prompt", "a prompt-only row needs --model DIR to sample its candidates", file: file, line: line)
            }
            rows = try sample(rows, modelPath: model)
        }
        let store = try LabelStore(path: database.db)
        if try store.project(named: project) == nil {
            try store.createProject(project, annotatorsPerPair: annotatorsPerPair, repeatShare: repeatShare)
        }
        let summary = try store.importRows(rows, project: project, file: file)
        print("\(file) -> \(project): \(summary)")
    }

    /// Fills prompt-only rows with `n` samples each from the model, sources named after the model folder.
    func sample(_ rows: [ImportRow], modelPath: String) throws -> [ImportRow] {
        let folder = URL(fileURLWithPath: modelPath)
        let lm = try CausalLM(contentsOf: folder)
        let tokenizer = try Tokenizer(tokenizerJSON: try tokenizerFile(modelPath))
        let template = chatTemplate(tokenizer, folder: folder)
        let source = folder.standardizedFileURL.lastPathComponent
        var out = rows
        for (r, row) in rows.enumerated() where row.candidates.isEmpty {
            let ids: [Int32]
            let conversational: Bool
            switch row.prompt {
            case .string(let s):
                ids = tokenizer.encode(s)
                conversational = false
            default:
                let prompt = try PromptOnlyExample(fields: ["prompt": row.prompt])
                guard case .messages(let messages) = prompt.prompt, let template else {
                    throw DatasetError(field: "prompt", "a conversational prompt needs a chat template in \(modelPath)", file: file, line: row.line)
                }
                ids = try tokenizer.applyChatTemplate(messages, template: template, addGenerationPrompt: true).ids
                conversational = true
            }
            let config = SamplingConfig(temperature: temperature, maxNewTokens: maxNewTokens, seed: seed &+ UInt64(r))
            let samples = try generate(model: lm, prompts: Array(repeating: ids, count: n), config: config,
                                       decode: { tokenizer.decode($0, skipSpecialTokens: true) })
            out[r].candidates = samples.map { s in
                let text = JSONValue.string(s.text ?? "")
                let completion: JSONValue = conversational
                    ? .array([.object(["role": .string("assistant"), "content": text])]) : text
                return ImportCandidate(completion: completion, source: source)
            }
        }
        return out
    }

    /// tokenizer_config.json's `chat_template`, else one recognised from the special tokens (as `tether generate --chat`).
    func chatTemplate(_ tokenizer: Tokenizer, folder: URL) -> ChatTemplate? {
        if let data = try? Data(contentsOf: folder.appendingPathComponent("tokenizer_config.json")),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let jinja = object["chat_template"] as? String,
           let template = ChatTemplate(jinja: jinja, eosToken: object["eos_token"] as? String) {
            return template
        }
        return ChatTemplate(for: tokenizer)
    }
}
