import ArgumentParser
import Foundation
import Tether
import TetherLM
import TetherTokenizers

/// `tether generate`: sample continuations of a prompt from a Hugging Face model folder.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Sample from a model folder (config.json, model.safetensors, tokenizer.json).")

    @Option(help: "The model folder.")
    var model: String

    @Option(help: "The prompt. Special tokens written in it (e.g. <|im_start|>) are recognised.")
    var prompt: String

    @Flag(help: "Wrap the prompt as a user message in the model's chat template, with the generation prompt.")
    var chat = false

    @Option(help: "Samples to draw for the prompt.")
    var n = 1

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 1

    @Option(help: "Keep the smallest set of tokens whose probability reaches this (1 = off).")
    var topP: Float = 1

    @Option(help: "Keep only the k most likely tokens (default: off).")
    var topK: Int?

    @Option(help: "Drop tokens less likely than this fraction of the most likely one (0 = off).")
    var minP: Float = 0

    @Option(help: "Most tokens to generate per sample.")
    var maxNewTokens = 64

    @Option(help: "Stop when this text appears (repeatable).")
    var stop: [String] = []

    @Option(help: "Random seed: the same seed gives the same samples.")
    var seed: UInt64 = 0

    @Flag(help: "Print one JSON object per sample: prompt, text, token_ids, logprobs, finish_reason.")
    var json = false

    func run() throws {
        for line in try outputLines() { print(line) }
    }

    /// What `run` prints: one line (JSON object or text) per sample.
    func outputLines() throws -> [String] {
        let folder = URL(fileURLWithPath: model)
        let lm = try CausalLM(contentsOf: folder)
        let tokenizer = try Tokenizer(tokenizerJSON: try tokenizerFile(model))
        let ids = try promptIds(tokenizer, folder: folder)
        let config = SamplingConfig(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                    maxNewTokens: maxNewTokens, stopStrings: stop, seed: seed)
        let samples = try generate(model: lm, prompts: Array(repeating: ids, count: n), config: config,
                                   decode: { tokenizer.decode($0, skipSpecialTokens: true) })
        return try samples.map { s in
            guard json else { return (s.text ?? "") + (n > 1 ? "\n---" : "") }
            let object: [String: Any] = [
                "prompt": prompt, "text": s.text ?? "", "token_ids": s.tokenIds.map(Int.init),
                "logprobs": s.logprobs.map(Double.init), "finish_reason": s.finishReason.rawValue,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// The prompt's ids: as written, or rendered by the model's chat template with --chat.
    func promptIds(_ tokenizer: Tokenizer, folder: URL) throws -> [Int32] {
        guard chat else { return tokenizer.encode(prompt) }
        guard let template = chatTemplate(tokenizer, folder: folder) else {
            throw ValidationError("--chat: no chat template found for \(model) (tokenizer_config.json chat_template or known special tokens)")
        }
        return try tokenizer.applyChatTemplate([ChatMessage(.user, prompt)], template: template,
                                               addGenerationPrompt: true).ids
    }

    /// The template named by tokenizer_config.json's `chat_template`, else one recognised
    /// from the tokenizer's special tokens.
    func chatTemplate(_ tokenizer: Tokenizer, folder: URL) -> ChatTemplate? {
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        if let data = try? Data(contentsOf: configURL),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let jinja = object["chat_template"] as? String,
           let template = ChatTemplate(jinja: jinja, eosToken: object["eos_token"] as? String) {
            return template
        }
        return ChatTemplate(for: tokenizer)
    }
}
