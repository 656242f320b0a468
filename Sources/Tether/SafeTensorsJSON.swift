import Foundation

/// The small JSON reader and writer behind safetensors headers.
///
/// A dedicated parser (rather than JSONSerialization) keeps integers exact, keeps key order,
/// rejects duplicate keys, bounds nesting depth, and reports the byte where parsing failed.
enum HeaderJSON {
    case object([(key: String, value: HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    /// The number's text as written (converted by whoever needs it).
    case number(String)
    case bool(Bool)
    case null

    /// A short name of the value's kind, for error messages.
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// The value as a non-negative integer, if it is one written without fraction or exponent.
    var nonNegativeInt: Int? {
        guard case .number(let text) = self, !text.isEmpty,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text)
    }

    // MARK: - Parsing

    struct ParseError: Error {
        var offset: Int
        var reason: String
    }

    /// Parses one JSON value filling `bytes` (surrounding whitespace allowed).
    static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 16) throws(ParseError) -> HeaderJSON {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.index < bytes.count {
            throw ParseError(offset: parser.index, reason: "unexpected content after the JSON value")
        }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        let maxDepth: Int
        var index = 0

        init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func fail(_ reason: String) -> ParseError { ParseError(offset: index, reason: reason) }

        var atEnd: Bool { index >= bytes.count }

        var current: UInt8 { bytes[index] }

        mutating func skipWhitespace() {
            while !atEnd, [0x20, 0x09, 0x0A, 0x0D].contains(current) { index += 1 }
        }

        mutating func expect(_ c: UInt8) throws(ParseError) {
            skipWhitespace()
            guard !atEnd else { throw fail("expected '\(Character(Unicode.Scalar(c)))' but the header ended") }
            guard current == c else {
                throw fail("expected '\(Character(Unicode.Scalar(c)))', found '\(Character(Unicode.Scalar(current)))'")
            }
            index += 1
        }

        mutating func value(depth: Int) throws(ParseError) -> HeaderJSON {
            skipWhitespace()
            guard !atEnd else { throw fail("expected a value but the header ended") }
            guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
            switch current {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw fail("unexpected character '\(Character(Unicode.Scalar(current)))'")
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            for c in word.utf8 {
                guard !atEnd, current == c else { throw fail("invalid literal, expected '\(word)'") }
                index += 1
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> HeaderJSON {
            index += 1  // {
            var members: [(key: String, value: HeaderJSON)] = []
            var seen = Set<String>()
            skipWhitespace()
            if !atEnd && current == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard !atEnd, current == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let keyStart = index
                let key = try string()
                guard seen.insert(key).inserted else {
                    throw ParseError(offset: keyStart, reason: "duplicate key '\(key)'")
                }
                try expect(UInt8(ascii: ":"))
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard !atEnd else { throw fail("unterminated object") }
                if current == UInt8(ascii: ",") { index += 1; continue }
                if current == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw fail("expected ',' or '}' in object")
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> HeaderJSON {
            index += 1  // [
            var items: [HeaderJSON] = []
            skipWhitespace()
            if !atEnd && current == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard !atEnd else { throw fail("unterminated array") }
                if current == UInt8(ascii: ",") { index += 1; continue }
                if current == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw fail("expected ',' or ']' in array")
            }
        }

        mutating func number() throws(ParseError) -> String {
            let start = index
            func digits(_ p: inout Parser) -> Int {
                let s = p.index
                while !p.atEnd, p.current >= UInt8(ascii: "0"), p.current <= UInt8(ascii: "9") { p.index += 1 }
                return p.index - s
            }
            if current == UInt8(ascii: "-") { index += 1 }
            let leadingZero = !atEnd && current == UInt8(ascii: "0")
            let intDigits = digits(&self)
            guard intDigits > 0 else { throw fail("invalid number") }
            guard !(leadingZero && intDigits > 1) else { throw fail("number with a leading zero") }
            if !atEnd && current == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw fail("invalid number: no digits after '.'") }
            }
            if !atEnd && (current == UInt8(ascii: "e") || current == UInt8(ascii: "E")) {
                index += 1
                if !atEnd && (current == UInt8(ascii: "+") || current == UInt8(ascii: "-")) { index += 1 }
                guard digits(&self) > 0 else { throw fail("invalid number: no exponent digits") }
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = current
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw fail("invalid hex digit in \\u escape")
                }
                v = v << 4 | d
                index += 1
            }
            return v
        }

        mutating func string() throws(ParseError) -> String {
            index += 1  // opening quote
            var out: [UInt8] = []
            while true {
                guard !atEnd else { throw fail("unterminated string") }
                let c = current
                index += 1
                switch c {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else {
                        throw fail("string is not valid UTF-8")
                    }
                    return s
                case UInt8(ascii: "\\"):
                    guard !atEnd else { throw fail("unterminated escape") }
                    let e = current
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard index + 2 <= bytes.count, current == UInt8(ascii: "\\"),
                                  bytes[index + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate in \\u escape") }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("unpaired surrogate in \\u escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                    }
                case 0..<0x20: throw fail("unescaped control character in string")
                default: out.append(c)
                }
            }
        }
    }
}
