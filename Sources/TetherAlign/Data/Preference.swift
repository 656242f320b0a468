import Foundation
import TetherTokenizers

extension PreferenceExample {
    /// The example with an implicit prompt made explicit (TRL's `extract_prompt`): the longest shared start of
    /// `chosen` and `rejected` (whole messages, or characters with a separating space left to the completions).
    public func withExplicitPrompt() -> PreferenceExample {
        guard prompt == nil else { return self }
        switch (chosen, rejected) {
        case (.text(let c), .text(let r)):
            let c = Array(c), r = Array(r)
            var k = 0
            while k < min(c.count, r.count) && c[k] == r[k] { k += 1 }
            if k > 0 && k < min(c.count, r.count) && c[k - 1] == " " { k -= 1 }
            return PreferenceExample(prompt: .text(String(c[..<k])), chosen: .text(String(c[k...])),
                                     rejected: .text(String(r[k...])), extras: extras)
        case (.messages(let c), .messages(let r)):
            var k = 0
            while k < min(c.count, r.count) - 1 && c[k] == r[k] { k += 1 }  // each side keeps a message
            return PreferenceExample(prompt: .messages(Array(c[..<k])), chosen: .messages(Array(c[k...])),
                                     rejected: .messages(Array(r[k...])), extras: extras)
        default:
            return self
        }
    }
}

/// A prompt and a completion tokenized apart, as preference methods (DPO, KTO, ORPO) score completions given a prompt.
public struct PromptCompletionTokens: Sendable, Equatable {
    /// The prompt's ids (for conversations, ending with the assistant's generation prompt).
    public var prompt: [Int32]
    /// The completion's ids (standard: with EOS appended once; conversational: through the end of turn).
    public var completion: [Int32]

    /// Prompt then completion, with only the completion trained.
    public var example: TokenizedExample {
        TokenizedExample(ids: prompt + completion, lossMask: prompt.map { _ in false } + completion.map { _ in true })
    }
}

/// A preference pair tokenized: one prompt, two completions.
public struct PreferenceTokens: Sendable, Equatable {
    /// The prompt's ids.
    public var prompt: [Int32]
    /// The preferred completion's ids.
    public var chosen: [Int32]
    /// The dispreferred completion's ids.
    public var rejected: [Int32]

    /// A tokenized pair.
    public init(prompt: [Int32], chosen: [Int32], rejected: [Int32]) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
    }

    /// Prompt + chosen, training the chosen tokens.
    public var chosenExample: TokenizedExample { PromptCompletionTokens(prompt: prompt, completion: chosen).example }
    /// Prompt + rejected, training the rejected tokens.
    public var rejectedExample: TokenizedExample { PromptCompletionTokens(prompt: prompt, completion: rejected).example }
}

extension ExampleTokenizer {
    /// Tokenizes a prompt and a completion apart; the prompt keeps its last `maxPromptLength` tokens and the
    /// completion its first `maxCompletionLength` (TRL's DPO truncation).
    public func tokenizeApart(prompt: TextOrMessages, completion: TextOrMessages, maxPromptLength: Int? = nil,
                              maxCompletionLength: Int? = nil) throws(DatasetError) -> PromptCompletionTokens {
        var p: [Int32], c: [Int32]
        switch (prompt, completion) {
        case (.text(let pt), .text(let ct)):
            p = tokenizer.encode(pt, addSpecialTokens: addSpecialTokens)
            c = tokenizer.encode(ct, addSpecialTokens: false)
            if let eos = eosId, c.last != eos { c.append(eos) }
        case (.messages(let pm), .messages(let cm)):
            p = try promptIds(prompt)
            var whole = self
            whole.maxLength = nil  // this call truncates the two parts itself, below
            let full = try whole.tokenize(PromptCompletionExample(prompt: .messages(pm), completion: .messages(cm))).ids
            var k = 0
            while k < min(p.count, full.count) && p[k] == full[k] { k += 1 }
            p = Array(p[..<k])
            c = Array(full[k...])
        default:
            throw DatasetError(field: "completion", "prompt and completion must both be strings or both be message lists")
        }
        if let m = maxPromptLength, p.count > m { p = Array(p.suffix(m)) }
        if let m = maxCompletionLength, c.count > m { c = Array(c.prefix(m)) }
        return PromptCompletionTokens(prompt: p, completion: c)
    }

    /// Tokenizes a preference pair (an implicit prompt is extracted first).
    public func tokenize(_ example: PreferenceExample, maxPromptLength: Int? = nil,
                         maxCompletionLength: Int? = nil) throws(DatasetError) -> PreferenceTokens {
        let e = example.withExplicitPrompt()
        guard let prompt = e.prompt else {
            throw DatasetError(field: "rejected", "chosen and rejected must both be strings or both be message lists")
        }
        let c = try tokenizeApart(prompt: prompt, completion: e.chosen, maxPromptLength: maxPromptLength,
                                  maxCompletionLength: maxCompletionLength)
        let r = try tokenizeApart(prompt: prompt, completion: e.rejected, maxPromptLength: maxPromptLength,
                                  maxCompletionLength: maxCompletionLength)
        return PreferenceTokens(prompt: c.prompt, chosen: c.completion, rejected: r.completion)
    }
}
