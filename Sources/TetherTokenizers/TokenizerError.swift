/// An error in a tokenizer file or input, naming the file (when there is one) and the field.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The file the bad value came from, if any.
    public var file: String?
    /// The JSON path (or other location) of the bad value, e.g. `model.merges[3]`.
    public var path: String
    /// What was wrong and what was expected.
    public var message: String

    /// Creates an error at `path` (and optionally `file`).
    public init(file: String? = nil, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    /// "file: path: message".
    public var description: String {
        let loc = file.map { "\($0): " } ?? ""
        return path.isEmpty ? "\(loc)\(message)" : "\(loc)\(path): \(message)"
    }
}
