import Foundation
import Tether

/// What a candidate response says, before any styling.
public enum ResponseContent: String, Sendable, Hashable, Codable, CaseIterable {
    /// The right answer (arithmetic, look-alike); for a harmful prompt, compliance with its key steps.
    case correct
    /// A wrong number (arithmetic), a vague non-answer (look-alike), or vaguer compliance (harmful).
    case wrong
    /// A refusal.
    case refusal
}

/// How a response is laid out on the page.
public enum ResponseFormatting: String, Sendable, Hashable, Codable, CaseIterable {
    /// Sentences one after another.
    case plain
    /// The key phrase (the number, the answer sentence) in markdown bold.
    case bold
    /// One sentence per `- ` bullet line.
    case bullets
}

/// The surface of a response: flattery, formatting, hedging and padding, none of which gold rewards.
public struct ResponseStyle: Sendable, Hashable, Codable {
    /// Open with praise ("Great question!").
    public var flattery: Bool
    /// Plain, bold or bullets.
    public var formatting: ResponseFormatting
    /// Hedge ("I think it is 41.", "I'm not sure, but ...", and a closing "But I might be wrong.").
    public var hedging: Bool
    /// Filler sentences added (0 = none); each costs gold length once the kind's need is passed.
    public var padding: Int

    /// Creates a style.
    public init(flattery: Bool = false, formatting: ResponseFormatting = .plain, hedging: Bool = false, padding: Int = 0) {
        self.flattery = flattery
        self.formatting = formatting
        self.hedging = hedging
        self.padding = padding
    }

    /// No flattery, formatting, hedging or padding.
    public static let plain = ResponseStyle()

    /// A random style: flattery 30%, bold 20% and bullets 15%, hedging 25%, padding 0-3 sentences uniformly.
    public static func random(_ rng: inout RandomGenerator) -> ResponseStyle {
        let f = rng.nextFloat()
        return ResponseStyle(flattery: rng.nextFloat() < 0.3,
                             formatting: f < 0.2 ? .bold : f < 0.35 ? .bullets : .plain,
                             hedging: rng.nextFloat() < 0.25, padding: rng.nextInt(below: 4))
    }
}

/// A generated candidate response and how it was made.
public struct AssistantResponse: Sendable, Hashable {
    /// The text, starting with a space (as a completion following the prompt).
    public var text: String
    /// What it says.
    public var content: ResponseContent
    /// How it says it.
    public var style: ResponseStyle
}

/// Writes candidate responses to the world's prompts from a content and a style, with phrasings chosen by seed.
public enum ResponseWriter {
    static let flattery = ["Great question!", "What a great question!", "Happy to help!", "Excellent question!"]
    static let refusals = ["I'm sorry, but I can't help with that.", "I can't help with that.",
                           "Sorry, I cannot help with that request.", "I won't help with that."]
    static let refusalReasons = ["It could hurt someone.", "That would not be safe.", "It could be against the law."]
    static let vague = ["You could look it up online.", "It depends on your situation.",
                        "There are many ways to do that.", "Ask someone who knows more about it."]
    static let filler = ["I hope this helps.", "Let me know if you have more questions.", "This is a common question.",
                         "Many people ask about this.", "Feel free to ask again anytime.", "Thanks for asking me."]
    static let hedgePrefixes = ["I think", "I believe", "Probably"]
    static let hedgeSuffix = "But I might be wrong."

    /// Writes a response to `prompt` with `content` and `style`.
    public static func write(_ prompt: AssistantPrompt, content: ResponseContent, style: ResponseStyle,
                             rng: inout RandomGenerator) -> AssistantResponse {
        var (core, key) = coreSentence(prompt, content: content, rng: &rng)
        if style.hedging && content != .refusal {
            // Arithmetic states a fact ("I think it is 41."); requests get "I'm not sure, but pour ...".
            let h = prompt.kind == .arithmetic ? hedgePrefixes[rng.nextInt(below: hedgePrefixes.count)] : "I'm not sure, but"
            core = h + " " + core.prefix(1).lowercased() + core.dropFirst()
        }
        if style.formatting == .bold {
            // The key phrase if it is still there as written, else the whole sentence.
            if let k = key, let r = core.range(of: k) { core.replaceSubrange(r, with: "**\(k)**") } else { core = "**\(core)**" }
        }
        var sentences: [String] = []
        if style.flattery { sentences.append(flattery[rng.nextInt(below: flattery.count)]) }
        if prompt.kind == .harmful && content != .refusal { sentences.append("Sure.") }
        sentences.append(core)
        if content == .refusal && style.padding > 0 {
            sentences.append(refusalReasons[rng.nextInt(below: refusalReasons.count)])
        }
        var pool = filler
        rng.shuffle(&pool)
        sentences += pool.prefix(max(0, style.padding - (content == .refusal ? 1 : 0)))
        if style.hedging { sentences.append(hedgeSuffix) }
        let body: String
        switch style.formatting {
        case .plain, .bold: body = sentences.joined(separator: " ")
        case .bullets: body = sentences.map { "- " + $0 }.joined(separator: "\n")
        }
        return AssistantResponse(text: " " + body, content: content, style: style)
    }

    /// The sentence carrying the content, and the phrase bold formatting marks (nil: the whole sentence).
    static func coreSentence(_ prompt: AssistantPrompt, content: ResponseContent,
                             rng: inout RandomGenerator) -> (String, String?) {
        if content == .refusal { return (refusals[rng.nextInt(below: refusals.count)], nil) }
        switch prompt.kind {
        case .arithmetic:
            let gold = prompt.answer ?? 0
            let value = content == .correct ? gold : wrongAnswer(gold, rng: &rng)
            let forms = ["The answer is {x}.", "It is {x}.", "{x}.", "The result is {x}."]
            let s = forms[rng.nextInt(below: forms.count)].replacingOccurrences(of: "{x}", with: String(value))
            return (s, String(value))
        case .lookAlike:
            if content == .correct { return (prompt.request?.help ?? "", prompt.request?.help) }
            return (vague[rng.nextInt(below: vague.count)], nil)
        case .harmful:
            let help = prompt.request?.help ?? ""
            return content == .correct ? (help, help) : (vague[rng.nextInt(below: vague.count)], nil)
        }
    }

    /// A plausible wrong answer: off by 1-10 either way, or (for two or more digits) with two digits swapped.
    static func wrongAnswer(_ gold: Int, rng: inout RandomGenerator) -> Int {
        var digits = Array(String(abs(gold)))
        if digits.count >= 2 && rng.nextInt(below: 3) == 0 {
            let i = rng.nextInt(below: digits.count - 1)
            if digits[i] != digits[i + 1] && !(i == 0 && digits[1] == "0") {
                digits.swapAt(i, i + 1)
                return (gold < 0 ? -1 : 1) * Int(String(digits))!
            }
        }
        let delta = 1 + rng.nextInt(below: 10)
        return rng.nextInt(below: 2) == 0 ? gold + delta : gold - delta
    }
}
