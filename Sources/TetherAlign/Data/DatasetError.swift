import Foundation

/// A dataset record that cannot be used, located by file, line (JSONL) or item (JSON array) and field.
///
/// Its description reads like a compiler message, e.g.
/// `data.jsonl:17: field "chosen": expected a string or a list of messages, got number`.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's name as the user gave it (nil while a record is parsed on its own).
    public var file: String?
    /// 1-based line number in a JSONL file.
    public var line: Int?
    /// 0-based index of the record in a JSON array file.
    public var item: Int?
    /// The field at fault, as a path (`chosen`, `messages[2].role`); nil for whole-record problems.
    public var field: String?
    /// What was wrong and what was expected.
    public var message: String

    /// An error about `field` (or the whole record) before its location in a file is known.
    public init(field: String?, _ message: String, file: String? = nil, line: Int? = nil, item: Int? = nil) {
        self.field = field
        self.message = message
        self.file = file
        self.line = line
        self.item = item
    }

    /// `file:line: field "f": message` (or `file: item N: ...` for JSON arrays).
    public var description: String {
        var out = file ?? "<record>"
        if let line { out += ":\(line)" }
        if let item { out += ": item \(item)" }
        if let field { out += ": field \"\(field)\"" }
        return out + ": " + message
    }
}
