/// Why a model folder, config or checkpoint could not be used: names the file and the
/// field or tensor, and what was expected.
public struct LMError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// A config field is missing, has the wrong type, or an unsupported value.
        case invalidConfig
        /// The architecture (`model_type`, scaling type, ...) is not implemented.
        case unsupported
        /// A tensor the model needs is not in the checkpoint.
        case missingTensor
        /// A tensor in the checkpoint has a different shape than the model needs.
        case shapeMismatch
        /// A file holds a tensor the model has no place for (an adapter for an untargeted layer).
        case unexpectedTensor
        /// A file could not be read or written.
        case io
    }

    /// What went wrong.
    public let kind: Kind
    /// The file involved.
    public let file: String
    /// The config field or tensor name involved, if any.
    public let name: String?
    /// A human-readable explanation.
    public let reason: String

    /// An error about `name` in `file`.
    public init(_ kind: Kind, file: String, name: String? = nil, _ reason: String) {
        self.kind = kind
        self.file = file
        self.name = name
        self.reason = reason
    }

    public var description: String {
        "\(file)" + (name.map { ": '\($0)'" } ?? "") + ": \(reason)"
    }
}
