import Foundation

/// A built-in chat template (ChatML, Llama-3 or Zephyr), rendered in Swift rather than Jinja.
///
/// Rendering yields text segments, each marked trainable or not: an assistant message's
/// content and its end-of-turn token are trainable, everything else (headers, system and
/// user turns, the generation prompt) is not.
public struct ChatTemplate: Sendable, Equatable {
    /// The layout.
    public enum Style: String, Sendable, CaseIterable {
        /// `<|im_start|>{role}\n{content}<|im_end|>\n` (Qwen, SmolLM).
        case chatML
        /// `<|begin_of_text|>` once, then `<|start_header_id|>{role}<|end_header_id|>\n\n{content trimmed}<|eot_id|>`.
        case llama3
        /// `<|{role}|>\n{content}{eos}\n` (Zephyr); the generation prompt is `<|assistant|>\n`.
        case zephyr
    }

    /// The layout.
    public var style: Style
    /// Begin-of-text token the template writes once at the start (Llama-3 only; nil for none).
    public var bosToken: String?
    /// End-of-turn token (ChatML `<|im_end|>`, Llama-3 `<|eot_id|>`, Zephyr the EOS `</s>`).
    public var endOfTurn: String

    /// A template with the style's usual tokens.
    public init(style: Style, bosToken: String? = nil, endOfTurn: String? = nil) {
        self.style = style
        switch style {
        case .chatML:
            self.bosToken = bosToken
            self.endOfTurn = endOfTurn ?? "<|im_end|>"
        case .llama3:
            self.bosToken = bosToken ?? "<|begin_of_text|>"
            self.endOfTurn = endOfTurn ?? "<|eot_id|>"
        case .zephyr:
            self.bosToken = bosToken
            self.endOfTurn = endOfTurn ?? "</s>"
        }
    }

    /// The built-in template a Jinja `chat_template` (from `tokenizer_config.json`) is written for,
    /// recognised by its markers; nil if none matches.
    public init?(jinja: String, eosToken: String? = nil) {
        if jinja.contains("<|im_start|>") {
            self.init(style: .chatML)
        } else if jinja.contains("<|start_header_id|>") {
            self.init(style: .llama3)
        } else if jinja.contains("<|assistant|>") {
            self.init(style: .zephyr, endOfTurn: eosToken)
        } else {
            return nil
        }
    }

    /// The built-in template whose special tokens `tokenizer` has (ChatML, then Llama-3), or nil.
    public init?(for tokenizer: Tokenizer) {
        for style in [Style.chatML, .llama3] {
            let t = ChatTemplate(style: style)
            if t.requiredTokens.allSatisfy({ tokenizer.tokenToId($0) != nil && tokenizer.addedByContent[$0] != nil }) {
                self = t
                return
            }
        }
        return nil
    }

    /// Special tokens this template needs the tokenizer to have as added tokens.
    public var requiredTokens: [String] {
        switch style {
        case .chatML: return (bosToken.map { [$0] } ?? []) + ["<|im_start|>", endOfTurn]
        case .llama3: return (bosToken.map { [$0] } ?? []) + ["<|start_header_id|>", "<|end_header_id|>", endOfTurn]
        case .zephyr: return (bosToken.map { [$0] } ?? []) + [endOfTurn]
        }
    }

    /// The rendered conversation as (text, trainable) segments.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = false) -> [(text: String, trainable: Bool)] {
        var out: [(text: String, trainable: Bool)] = []
        if let bos = bosToken { out.append((bos, false)) }
        for m in messages {
            let (header, content) = parts(m)
            out.append((header, false))
            if m.role == .assistant {
                out.append((content + endOfTurn, true))
            } else {
                out.append((content + endOfTurn, false))
            }
            if style != .llama3 { out.append(("\n", false)) }
        }
        if addGenerationPrompt { out.append((parts(ChatMessage(.assistant, "")).header, false)) }
        return out.filter { !$0.text.isEmpty }
    }

    /// The rendered conversation as one string.
    public func renderText(_ messages: [ChatMessage], addGenerationPrompt: Bool = false) -> String {
        render(messages, addGenerationPrompt: addGenerationPrompt).map(\.text).joined()
    }

    private func parts(_ m: ChatMessage) -> (header: String, content: String) {
        switch style {
        case .chatML: return ("<|im_start|>\(m.role.rawValue)\n", m.content)
        case .llama3:
            return ("<|start_header_id|>\(m.role.rawValue)<|end_header_id|>\n\n", m.content.trimmingCharacters(in: .whitespacesAndNewlines))
        case .zephyr: return ("<|\(m.role.rawValue)|>\n", m.content)
        }
    }
}

/// Token ids of a rendered conversation and, per position, whether the loss trains on it.
public struct ChatEncoding: Sendable, Equatable {
    /// Token ids.
    public var ids: [Int32]
    /// True at assistant-content and assistant end-of-turn positions.
    public var assistantMask: [Bool]
}

extension Tokenizer {
    /// Renders `messages` with `template`, tokenizes the whole text once and marks the tokens
    /// that overlap an assistant span (by byte offsets, so the mask is by position, never by id).
    ///
    /// The template writes any BOS itself; the post-processor runs only if `addSpecialTokens`,
    /// and it never adds a BOS the ids already start with. Throws if a token the template
    /// needs is not an added token of this tokenizer.
    public func applyChatTemplate(_ messages: [ChatMessage], template: ChatTemplate, addGenerationPrompt: Bool = false,
                                  addSpecialTokens: Bool = false) throws(TokenizerError) -> ChatEncoding {
        for t in template.requiredTokens where addedByContent[t] == nil {
            throw TokenizerError(path: "chat_template", message: "the \(template.style.rawValue) template needs the token \"\(t)\", which this tokenizer does not have as an added token")
        }
        let segments = template.render(messages, addGenerationPrompt: addGenerationPrompt)
        var text = "", spans: [Range<Int>] = []
        for s in segments {
            let start = text.utf8.count
            text += s.text
            if s.trainable { spans.append(start..<text.utf8.count) }
        }
        let (ids, starts) = encodeWithOffsets(text)
        var mask = [Bool](repeating: false, count: ids.count)
        var k = 0
        for (i, id) in ids.enumerated() {
            let lo = starts[i], hi = lo + max(idBytes[Int(id)]?.count ?? 1, 1)
            while k < spans.count && spans[k].upperBound <= lo { k += 1 }
            if k < spans.count && spans[k].lowerBound < hi { mask[i] = true }
        }
        guard addSpecialTokens, let post = postProcessor else { return ChatEncoding(ids: ids, assistantMask: mask) }
        let (prefix, suffix) = post.singlePrefixSuffix
        let addPrefix = !prefix.isEmpty && !ids.starts(with: prefix)
        return ChatEncoding(ids: (addPrefix ? prefix : []) + ids + suffix,
                            assistantMask: [Bool](repeating: false, count: addPrefix ? prefix.count : 0) + mask
                                + [Bool](repeating: false, count: suffix.count))
    }
}

/// A right-padded batch with explicit masks (padding is found by position, not by id,
/// so a pad id equal to EOS never hides a real EOS from the loss).
public struct PaddedBatch: Sendable, Equatable {
    /// (batch, length) ids, padded with the pad id.
    public var ids: [[Int32]]
    /// (batch, length) true at real tokens.
    public var attentionMask: [[Bool]]
    /// (batch, length) true where the loss trains (assistant tokens; never padding).
    public var lossMask: [[Bool]]

    /// Pads encodings to the longest one with `padId`.
    public init(_ encodings: [ChatEncoding], padId: Int32) {
        let length = encodings.map(\.ids.count).max() ?? 0
        ids = encodings.map { $0.ids + [Int32](repeating: padId, count: length - $0.ids.count) }
        attentionMask = encodings.map { [Bool](repeating: true, count: $0.ids.count) + [Bool](repeating: false, count: length - $0.ids.count) }
        lossMask = encodings.map { $0.assistantMask + [Bool](repeating: false, count: length - $0.ids.count) }
    }
}
