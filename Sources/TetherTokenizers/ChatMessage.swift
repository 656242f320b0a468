import Foundation

/// One chat message (TRL's `messages` format): a role and its text.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// The speaker.
    public enum Role: String, Sendable, Codable, CaseIterable {
        case system, user, assistant
    }
    /// Who speaks.
    public var role: Role
    /// What is said.
    public var content: String

    /// Creates a message.
    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }

    /// Validates a decoded JSON `messages` value (array of {"role", "content"} objects);
    /// errors name the path (e.g. `messages[2].role`) and what was expected.
    public static func parse(_ json: Any, path: String = "messages") throws(TokenizerError) -> [ChatMessage] {
        guard let items = json as? [Any] else { throw TokenizerError(path: path, message: "expected an array of messages") }
        var out: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            guard let o = item as? [String: Any] else {
                throw TokenizerError(path: p, message: "expected an object with \"role\" and \"content\"")
            }
            guard let r = o["role"] as? String else {
                throw TokenizerError(path: "\(p).role", message: "missing or not a string (expected system, user or assistant)")
            }
            guard let role = Role(rawValue: r) else {
                throw TokenizerError(path: "\(p).role", message: "unknown role \"\(r)\" (expected system, user or assistant)")
            }
            guard let content = o["content"] as? String else {
                throw TokenizerError(path: "\(p).content", message: "missing or not a string")
            }
            out.append(ChatMessage(role, content))
        }
        return out
    }

    /// Parses a JSON `messages` array from data.
    public static func parse(jsonData: Data, path: String = "messages") throws(TokenizerError) -> [ChatMessage] {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: jsonData, options: [.fragmentsAllowed]) } catch {
            throw TokenizerError(path: path, message: "not valid JSON: \(error.localizedDescription)")
        }
        return try parse(any, path: path)
    }
}
