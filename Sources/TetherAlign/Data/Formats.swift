import Foundation
import TetherTokenizers

/// TRL's dataset types, each characterised by its columns.
public enum DatasetType: String, Sendable, CaseIterable, Codable {
    /// `text` (standard) or `messages` (conversational).
    case languageModeling = "language_modeling"
    /// `prompt` only.
    case promptOnly = "prompt_only"
    /// `prompt` + `completion`.
    case promptCompletion = "prompt_completion"
    /// `prompt` + `chosen` + `rejected`, or `chosen` + `rejected` with the prompt implicit in both.
    case preference
    /// `prompt` + `completion` + `label` (true for a desirable completion).
    case unpairedPreference = "unpaired_preference"
    /// `prompt` + `completions` + `labels` (one bool per step).
    case stepwiseSupervision = "stepwise_supervision"

    /// The columns this type reads; any other column is kept as an extra.
    public var fields: [String] {
        switch self {
        case .languageModeling: return ["text", "messages"]
        case .promptOnly: return ["prompt"]
        case .promptCompletion: return ["prompt", "completion"]
        case .preference: return ["prompt", "chosen", "rejected"]
        case .unpairedPreference: return ["prompt", "completion", "label"]
        case .stepwiseSupervision: return ["prompt", "completions", "labels"]
        }
    }

    /// The type a record's keys describe (most specific first), or nil if none fits.
    public static func detect(keys: some Collection<String>) -> DatasetType? {
        let k = Set(keys)
        if k.contains("chosen") && k.contains("rejected") { return .preference }
        if k.contains("completions") || k.contains("labels") { return .stepwiseSupervision }
        if k.contains("label") { return .unpairedPreference }
        if k.contains("completion") { return .promptCompletion }
        if k.contains("text") || k.contains("messages") { return .languageModeling }
        if k.contains("prompt") { return .promptOnly }
        return nil
    }
}

/// A field that is either plain text (standard format) or a list of chat messages (conversational).
public enum TextOrMessages: Sendable, Equatable {
    /// Standard: a string.
    case text(String)
    /// Conversational: role/content messages.
    case messages([ChatMessage])

    /// Whether this is a message list.
    public var isConversational: Bool { if case .messages = self { return true } else { return false } }
}

/// One record of some dataset type, parsed from its JSON fields.
public protocol DatasetExample: Sendable, Equatable {
    /// The type this struct holds.
    static var datasetType: DatasetType { get }
    /// Parses a record's fields; throws naming the missing or mistyped field.
    init(fields: [String: JSONValue]) throws(DatasetError)
    /// Columns the type does not read (e.g. `margin`, `id`), kept as they were.
    var extras: [String: JSONValue] { get }
}

/// Language modelling: `{"text": ...}` or `{"messages": [...]}`.
public struct LanguageModelingExample: DatasetExample {
    /// The type this struct holds.
    public static let datasetType = DatasetType.languageModeling
    /// The text, or the conversation.
    public var content: TextOrMessages
    /// Columns this type does not read, kept as they were.
    public var extras: [String: JSONValue]

    /// Creates an example.
    public init(_ content: TextOrMessages, extras: [String: JSONValue] = [:]) {
        self.content = content
        self.extras = extras
    }

    /// Parses a record's fields; throws naming the missing or mistyped field.
    public init(fields f: [String: JSONValue]) throws(DatasetError) {
        switch (f["text"], f["messages"]) {
        case (.some, .some):
            throw DatasetError(field: "messages", "a record has either \"text\" or \"messages\", not both")
        case (.some(let t), nil):
            content = .text(try FieldParser.string(t, field: "text"))
        case (nil, .some(let m)):
            content = .messages(try FieldParser.messages(m, field: "messages"))
        case (nil, nil):
            throw DatasetError(field: "text", "missing (expected \"text\": a string, or \"messages\": a list of messages)")
        }
        extras = FieldParser.extras(f, type: Self.datasetType)
    }
}

/// Prompt only: `{"prompt": ...}` (for online methods that generate the completion).
public struct PromptOnlyExample: DatasetExample {
    /// The type this struct holds.
    public static let datasetType = DatasetType.promptOnly
    /// The prompt.
    public var prompt: TextOrMessages
    /// Columns this type does not read, kept as they were.
    public var extras: [String: JSONValue]

    /// Creates an example.
    public init(prompt: TextOrMessages, extras: [String: JSONValue] = [:]) {
        self.prompt = prompt
        self.extras = extras
    }

    /// Parses a record's fields; throws naming the missing or mistyped field.
    public init(fields f: [String: JSONValue]) throws(DatasetError) {
        prompt = try FieldParser.textOrMessages(f, "prompt")
        extras = FieldParser.extras(f, type: Self.datasetType)
    }
}

/// Prompt-completion: `{"prompt": ..., "completion": ...}`, both strings or both message lists.
public struct PromptCompletionExample: DatasetExample {
    /// The type this struct holds.
    public static let datasetType = DatasetType.promptCompletion
    /// The prompt.
    public var prompt: TextOrMessages
    /// The completion the model learns to write.
    public var completion: TextOrMessages
    /// Columns this type does not read, kept as they were.
    public var extras: [String: JSONValue]

    /// Creates an example.
    public init(prompt: TextOrMessages, completion: TextOrMessages, extras: [String: JSONValue] = [:]) {
        self.prompt = prompt
        self.completion = completion
        self.extras = extras
    }

    /// Parses a record's fields; throws naming the missing or mistyped field.
    public init(fields f: [String: JSONValue]) throws(DatasetError) {
        prompt = try FieldParser.textOrMessages(f, "prompt")
        completion = try FieldParser.textOrMessages(f, "completion", like: (prompt, "prompt"))
        extras = FieldParser.extras(f, type: Self.datasetType)
    }
}

/// Preference: `{"prompt", "chosen", "rejected"}`, or implicit prompt `{"chosen", "rejected"}`.
public struct PreferenceExample: DatasetExample {
    /// The type this struct holds.
    public static let datasetType = DatasetType.preference
    /// The prompt; nil when it is implicit (a shared start of `chosen` and `rejected`).
    public var prompt: TextOrMessages?
    /// The preferred completion.
    public var chosen: TextOrMessages
    /// The dispreferred completion.
    public var rejected: TextOrMessages
    /// Columns this type does not read, kept as they were.
    public var extras: [String: JSONValue]

    /// Creates an example.
    public init(prompt: TextOrMessages?, chosen: TextOrMessages, rejected: TextOrMessages, extras: [String: JSONValue] = [:]) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.extras = extras
    }

    /// The optional `margin` column (how much better `chosen` is), if present and a number.
    public var margin: Double? { extras["margin"]?.number }

    /// Parses a record's fields; throws naming the missing or mistyped field.
    public init(fields f: [String: JSONValue]) throws(DatasetError) {
        prompt = f["prompt"] == nil ? nil : try FieldParser.textOrMessages(f, "prompt")
        chosen = try FieldParser.textOrMessages(f, "chosen", like: prompt.map { ($0, "prompt") })
        rejected = try FieldParser.textOrMessages(f, "rejected", like: (chosen, "chosen"))
        extras = FieldParser.extras(f, type: Self.datasetType)
        if let m = f["margin"], m.number == nil {
            throw DatasetError(field: "margin", "expected a number, got \(m.typeName)")
        }
    }
}

/// Unpaired preference: `{"prompt", "completion", "label"}` with `label` true for a desirable completion.
public struct UnpairedPreferenceExample: DatasetExample {
    /// The type this struct holds.
    public static let datasetType = DatasetType.unpairedPreference
    /// The prompt.
    public var prompt: TextOrMessages
    /// The completion being judged.
    public var completion: TextOrMessages
    /// Whether the completion is desirable.
    public var label: Bool
    /// Columns this type does not read, kept as they were.
    public var extras: [String: JSONValue]

    /// Creates an example.
    public init(prompt: TextOrMessages, completion: TextOrMessages, label: Bool, extras: [String: JSONValue] = [:]) {
        self.prompt = prompt
        self.completion = completion
        self.label = label
        self.extras = extras
    }

    /// Parses a record's fields; throws naming the missing or mistyped field.
    public init(fields f: [String: JSONValue]) throws(DatasetError) {
        prompt = try FieldParser.textOrMessages(f, "prompt")
        completion = try FieldParser.textOrMessages(f, "completion", like: (prompt, "prompt"))
        label = try FieldParser.bool(f["label"], field: "label")
        extras = FieldParser.extras(f, type: Self.datasetType)
    }
}

/// Stepwise supervision: `{"prompt", "completions": [step, ...], "labels": [bool, ...]}`, one label per step.
public struct StepwiseSupervisionExample: DatasetExample {
    /// The type this struct holds.
    public static let datasetType = DatasetType.stepwiseSupervision
    /// The problem.
    public var prompt: String
    /// The reasoning steps, in order.
    public var completions: [String]
    /// Whether each step is correct.
    public var labels: [Bool]
    /// Columns this type does not read, kept as they were.
    public var extras: [String: JSONValue]

    /// Creates an example.
    public init(prompt: String, completions: [String], labels: [Bool], extras: [String: JSONValue] = [:]) {
        precondition(completions.count == labels.count, "stepwise: \(completions.count) completions, \(labels.count) labels")
        self.prompt = prompt
        self.completions = completions
        self.labels = labels
        self.extras = extras
    }

    /// Parses a record's fields; throws naming the missing or mistyped field.
    public init(fields f: [String: JSONValue]) throws(DatasetError) {
        guard let p = f["prompt"] else { throw DatasetError(field: "prompt", "missing (expected a string)") }
        prompt = try FieldParser.string(p, field: "prompt")
        guard case .array(let cs)? = f["completions"] else {
            throw DatasetError(field: "completions", FieldParser.problem(f["completions"], expected: "a list of strings"))
        }
        var completions: [String] = []
        for (i, c) in cs.enumerated() { completions.append(try FieldParser.string(c, field: "completions[\(i)]")) }
        guard case .array(let ls)? = f["labels"] else {
            throw DatasetError(field: "labels", FieldParser.problem(f["labels"], expected: "a list of bools"))
        }
        var labels: [Bool] = []
        for (i, l) in ls.enumerated() { labels.append(try FieldParser.bool(l, field: "labels[\(i)]")) }
        guard labels.count == completions.count else {
            throw DatasetError(field: "labels", "expected one bool per completion (\(completions.count)), got \(labels.count)")
        }
        self.completions = completions
        self.labels = labels
        extras = FieldParser.extras(f, type: Self.datasetType)
    }
}

/// A record of any dataset type (what a loader returns when it detects the type from the keys).
public enum AnyExample: Sendable, Equatable {
    /// `text` or `messages`.
    case languageModeling(LanguageModelingExample)
    /// `prompt`.
    case promptOnly(PromptOnlyExample)
    /// `prompt` + `completion`.
    case promptCompletion(PromptCompletionExample)
    /// `prompt` + `chosen` + `rejected` (prompt optional).
    case preference(PreferenceExample)
    /// `prompt` + `completion` + `label`.
    case unpairedPreference(UnpairedPreferenceExample)
    /// `prompt` + `completions` + `labels`.
    case stepwiseSupervision(StepwiseSupervisionExample)

    /// Parses `fields` as `type`.
    public init(fields: [String: JSONValue], as type: DatasetType) throws(DatasetError) {
        switch type {
        case .languageModeling: self = .languageModeling(try .init(fields: fields))
        case .promptOnly: self = .promptOnly(try .init(fields: fields))
        case .promptCompletion: self = .promptCompletion(try .init(fields: fields))
        case .preference: self = .preference(try .init(fields: fields))
        case .unpairedPreference: self = .unpairedPreference(try .init(fields: fields))
        case .stepwiseSupervision: self = .stepwiseSupervision(try .init(fields: fields))
        }
    }

    /// This record's type.
    public var datasetType: DatasetType {
        switch self {
        case .languageModeling: return .languageModeling
        case .promptOnly: return .promptOnly
        case .promptCompletion: return .promptCompletion
        case .preference: return .preference
        case .unpairedPreference: return .unpairedPreference
        case .stepwiseSupervision: return .stepwiseSupervision
        }
    }
}

/// Field-by-field validation shared by the example types; every error names its field path.
enum FieldParser {
    static let roles = "system, user or assistant"

    /// "missing (expected X)" or "expected X, got T".
    static func problem(_ v: JSONValue?, expected: String) -> String {
        guard let v else { return "missing (expected \(expected))" }
        return "expected \(expected), got \(v.typeName)"
    }

    static func string(_ v: JSONValue, field: String) throws(DatasetError) -> String {
        guard case .string(let s) = v else { throw DatasetError(field: field, problem(v, expected: "a string")) }
        return s
    }

    static func bool(_ v: JSONValue?, field: String) throws(DatasetError) -> Bool {
        guard case .bool(let b)? = v else { throw DatasetError(field: field, problem(v, expected: "a bool (true or false)")) }
        return b
    }

    /// A required field holding a string or a message list; with `like`, it must be of the same kind as that field.
    static func textOrMessages(_ f: [String: JSONValue], _ field: String,
                               like other: (TextOrMessages, String)? = nil) throws(DatasetError) -> TextOrMessages {
        let expected: String
        switch other {
        case nil: expected = "a string or a list of messages"
        case (.text, let name)?: expected = "a string, as \"\(name)\" is"
        case (.messages, let name)?: expected = "a list of messages, as \"\(name)\" is"
        }
        let value: TextOrMessages
        switch f[field] {
        case .string(let s)?: value = .text(s)
        case .array?: value = .messages(try messages(f[field]!, field: field))
        case let v: throw DatasetError(field: field, problem(v, expected: "a string or a list of messages"))
        }
        if let (o, _) = other, o.isConversational != value.isConversational {
            throw DatasetError(field: field, "expected \(expected), got \(value.isConversational ? "a list of messages" : "a string")")
        }
        return value
    }

    /// A non-empty list of `{"role", "content"}` objects; errors name `field[i].role` or `field[i].content`.
    static func messages(_ v: JSONValue, field: String) throws(DatasetError) -> [ChatMessage] {
        guard case .array(let items) = v else { throw DatasetError(field: field, problem(v, expected: "a list of messages")) }
        guard !items.isEmpty else { throw DatasetError(field: field, "expected at least one message, got an empty list") }
        var out: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            let p = "\(field)[\(i)]"
            guard case .object(let o) = item else {
                throw DatasetError(field: p, problem(item, expected: "an object with \"role\" and \"content\""))
            }
            guard case .string(let r)? = o["role"] else {
                throw DatasetError(field: "\(p).role", problem(o["role"], expected: "a string (\(roles))"))
            }
            guard let role = ChatMessage.Role(rawValue: r) else {
                throw DatasetError(field: "\(p).role", "unknown role \"\(r)\" (expected \(roles))")
            }
            guard case .string(let content)? = o["content"] else {
                throw DatasetError(field: "\(p).content", problem(o["content"], expected: "a string"))
            }
            out.append(ChatMessage(role, content))
        }
        return out
    }

    /// The columns `type` does not read.
    static func extras(_ f: [String: JSONValue], type: DatasetType) -> [String: JSONValue] {
        f.filter { !type.fields.contains($0.key) }
    }
}
