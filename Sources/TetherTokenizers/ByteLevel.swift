/// GPT-2's reversible byte-to-character map: every byte gets a printable Unicode character.
///
/// Bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` map to themselves; the other 68 bytes map to U+0100
/// onwards, in byte order. Vocabulary entries of byte-level models are strings over these
/// 256 characters.
public enum ByteLevel {
    /// The character that stands for each byte, indexed by byte value.
    public static let byteToChar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each mapped character stands for (inverse of ``byteToChar``).
    public static let charToByte: [Unicode.Scalar: UInt8] = {
        var d: [Unicode.Scalar: UInt8] = [:]
        for (b, c) in byteToChar.enumerated() { d[c] = UInt8(b) }
        return d
    }()

    /// The 256 characters of the byte-level alphabet, in byte order.
    public static var alphabet: [String] { byteToChar.map { String(Character($0)) } }

    /// Maps raw bytes to their byte-level string.
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToChar[Int(b)]) }
        return String(s)
    }

    /// Maps a byte-level string back to bytes; nil if a character is outside the alphabet.
    public static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for c in token.unicodeScalars {
            guard let b = charToByte[c] else { return nil }
            out.append(b)
        }
        return out
    }
}
