/// Writing JSON text by hand where the exact bytes matter (safetensors headers that must
/// equal the reference writer's, JSONL files that must be byte-identical for a seed).
public enum JSONText {
    /// `s` as a JSON string literal, escaped as serde_json does: quote, backslash and
    /// control characters only (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
