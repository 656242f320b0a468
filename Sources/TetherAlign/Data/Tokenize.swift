import Foundation
import TetherTokenizers

/// Token ids of one example and, per position, whether the loss trains on that token.
///
/// `lossMask[i]` says token `i` is a target (predicted from position `i - 1`); token 0 is never a target.
public struct TokenizedExample: Sendable, Equatable, Codable {
    /// Token ids.
    public var ids: [Int32]
    /// True where the token is trained on.
    public var lossMask: [Bool]

    /// An example; `ids` and `lossMask` have one entry per token.
    public init(ids: [Int32], lossMask: [Bool]) {
        precondition(ids.count == lossMask.count, "TokenizedExample: \(ids.count) ids, \(lossMask.count) mask entries")
        self.ids = ids
        self.lossMask = lossMask
    }

    /// Hugging Face-style unshifted labels: the id where trained, -100 elsewhere.
    public var labels: [Int32] { zip(ids, lossMask).map { $1 ? $0 : -100 } }

    /// Tokens the loss trains on (targets at positions 1...).
    public var trainedTokens: Int { lossMask.dropFirst().filter { $0 }.count }

    /// At most `maxLength` tokens, keeping the start or the end.
    public func truncated(to maxLength: Int, keeping side: TruncationSide = .keepStart) -> TokenizedExample {
        precondition(maxLength > 0, "truncated: maxLength \(maxLength) must be positive")
        guard ids.count > maxLength else { return self }
        switch side {
        case .keepStart: return TokenizedExample(ids: Array(ids.prefix(maxLength)), lossMask: Array(lossMask.prefix(maxLength)))
        case .keepEnd: return TokenizedExample(ids: Array(ids.suffix(maxLength)), lossMask: Array(lossMask.suffix(maxLength)))
        }
    }
}

/// Which end of a too-long sequence survives truncation (TRL's `truncation_mode`).
public enum TruncationSide: String, Sendable, Codable, CaseIterable {
    /// Keep the first tokens (SFT's default).
    case keepStart = "keep_start"
    /// Keep the last tokens (for prompts, whose end matters most).
    case keepEnd = "keep_end"
}

/// Turns SFT-style examples into ids and loss masks, as TRL's SFT trainer does.
///
/// - Standard `text`: the text's tokens plus EOS, all trained.
/// - Conversational `messages`: the chat template; with `assistantOnlyLoss`, only assistant content and end-of-turn tokens train.
/// - Prompt-completion: prompt then completion; with `completionOnlyLoss`, only completion tokens train. A standard
///   completion gets EOS appended once (not if it already ends with it); a conversational one ends with the template's end of turn.
public struct ExampleTokenizer: Sendable {
    /// The tokenizer.
    public var tokenizer: Tokenizer
    /// Chat template for conversational data (nil: conversational examples are an error).
    public var template: ChatTemplate?
    /// EOS appended to standard text and completions (nil: none).
    public var eosId: Int32?
    /// Train only on completion tokens of prompt-completion data (TRL's `completion_only_loss`, default on).
    public var completionOnlyLoss: Bool
    /// Train only on assistant tokens of conversations (TRL's `assistant_only_loss`, default off).
    public var assistantOnlyLoss: Bool
    /// Let the tokenizer's post-processor add its special tokens (e.g. BOS).
    public var addSpecialTokens: Bool
    /// Longest sequence kept (nil: no limit).
    public var maxLength: Int?
    /// Which end survives truncation.
    public var truncation: TruncationSide

    /// A tokenizer for SFT data with TRL's defaults.
    public init(tokenizer: Tokenizer, template: ChatTemplate? = nil, eosId: Int32? = nil, completionOnlyLoss: Bool = true,
                assistantOnlyLoss: Bool = false, addSpecialTokens: Bool = true, maxLength: Int? = nil,
                truncation: TruncationSide = .keepStart) {
        self.tokenizer = tokenizer
        self.template = template
        self.eosId = eosId
        self.completionOnlyLoss = completionOnlyLoss
        self.assistantOnlyLoss = assistantOnlyLoss
        self.addSpecialTokens = addSpecialTokens
        self.maxLength = maxLength
        self.truncation = truncation
    }

    /// Tokenizes a language-modelling or prompt-completion example; other types are an error.
    public func tokenize(_ example: AnyExample) throws(DatasetError) -> TokenizedExample {
        switch example {
        case .languageModeling(let e): return try tokenize(e)
        case .promptCompletion(let e): return try tokenize(e)
        default:
            throw DatasetError(field: nil, "SFT takes language-modelling or prompt-completion data, got \(example.datasetType.rawValue)")
        }
    }

    /// Tokenizes `text` or `messages`.
    public func tokenize(_ example: LanguageModelingExample) throws(DatasetError) -> TokenizedExample {
        switch example.content {
        case .text(let text):
            guard !assistantOnlyLoss else {
                throw DatasetError(field: "text", "assistant-only loss needs conversational data (\"messages\"), got plain text")
            }
            var ids = tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
            if let eos = eosId, ids.last != eos { ids.append(eos) }
            return finish(TokenizedExample(ids: ids, lossMask: [Bool](repeating: true, count: ids.count)))
        case .messages(let messages):
            let enc = try chat(messages, generationPrompt: false, field: "messages")
            let mask = assistantOnlyLoss ? enc.assistantMask : [Bool](repeating: true, count: enc.ids.count)
            return finish(TokenizedExample(ids: enc.ids, lossMask: mask))
        }
    }

    /// Tokenizes `prompt` + `completion`, marking the completion's tokens.
    public func tokenize(_ example: PromptCompletionExample) throws(DatasetError) -> TokenizedExample {
        switch (example.prompt, example.completion) {
        case (.text(let prompt), .text(let completion)):
            guard !assistantOnlyLoss else {
                throw DatasetError(field: "prompt", "assistant-only loss needs conversational data, got plain text")
            }
            var (ids, isCompletion) = standardPromptCompletion(prompt, completion)
            if let eos = eosId {
                if ids.last == eos { isCompletion[isCompletion.count - 1] = true } else { ids.append(eos); isCompletion.append(true) }
            }
            return finish(TokenizedExample(ids: ids, lossMask: completionOnlyLoss ? isCompletion : isCompletion.map { _ in true }))
        case (.messages(let prompt), .messages(let completion)):
            let full = try chat(prompt + completion, generationPrompt: false, field: "completion")
            let head = try chat(prompt, generationPrompt: true, field: "prompt")
            // The prompt's tokens are a prefix of the whole conversation's, up to merges across the boundary.
            var k = 0
            while k < min(full.ids.count, head.ids.count) && full.ids[k] == head.ids[k] { k += 1 }
            var mask = full.ids.indices.map { !completionOnlyLoss || $0 >= k }
            if assistantOnlyLoss { mask = zip(mask, full.assistantMask).map { $0 && $1 } }
            return finish(TokenizedExample(ids: full.ids, lossMask: mask))
        default:
            throw DatasetError(field: "completion", "prompt and completion must both be strings or both be message lists")
        }
    }

    /// The ids a model continues from: the prompt, or the conversation with the assistant's generation prompt.
    public func promptIds(_ prompt: TextOrMessages) throws(DatasetError) -> [Int32] {
        switch prompt {
        case .text(let t): return tokenizer.encode(t, addSpecialTokens: addSpecialTokens)
        case .messages(let m): return try chat(m, generationPrompt: true, field: "prompt").ids
        }
    }

    private func finish(_ e: TokenizedExample) -> TokenizedExample {
        guard let maxLength else { return e }
        return e.truncated(to: maxLength, keeping: truncation)
    }

    private func chat(_ messages: [ChatMessage], generationPrompt: Bool, field: String) throws(DatasetError) -> ChatEncoding {
        guard let template else {
            throw DatasetError(field: field, "conversational data needs a chat template, and none was given")
        }
        do {
            return try tokenizer.applyChatTemplate(messages, template: template, addGenerationPrompt: generationPrompt,
                                                   addSpecialTokens: addSpecialTokens)
        } catch {
            throw DatasetError(field: field, error.description)
        }
    }

    /// Ids of `prompt + completion` tokenized as one text, and which tokens overlap the completion's bytes.
    private func standardPromptCompletion(_ prompt: String, _ completion: String) -> ([Int32], [Bool]) {
        let text = prompt + completion
        let (plain, starts) = tokenizer.encodeWithOffsets(text)
        let boundary = prompt.utf8.count, total = text.utf8.count
        let inner = plain.indices.map { i in (i + 1 < starts.count ? starts[i + 1] : total) > boundary }
        guard addSpecialTokens else { return (plain, inner) }
        // Place the plain ids inside the post-processed ones to find the added prefix and suffix.
        let full = tokenizer.encode(text, addSpecialTokens: true)
        var k = 0
        while k + plain.count <= full.count && !full[k..<(k + plain.count)].elementsEqual(plain) { k += 1 }
        guard k + plain.count <= full.count else { return (plain, inner) }
        var mask = [Bool](repeating: false, count: full.count)
        for i in inner.indices { mask[k + i] = inner[i] }
        return (full, mask)
    }
}
