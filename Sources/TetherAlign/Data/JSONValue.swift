import Foundation

/// A decoded JSON value that keeps booleans and numbers apart (`true` is never the number 1).
public enum JSONValue: Sendable, Equatable, Codable {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Decodes any JSON value.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null
        } else if let b = try? c.decode(Bool.self) { self = .bool(b)
        } else if let d = try? c.decode(Double.self) { self = .number(d)
        } else if let s = try? c.decode(String.self) { self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) { self = .array(a)
        } else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Encodes the value as JSON.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The JSON type's name, as error messages say it ("string", "number", "bool", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The number, if this is one.
    public var number: Double? { if case .number(let d) = self { return d } else { return nil } }
    /// The string, if this is one.
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The bool, if this is one.
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
}
