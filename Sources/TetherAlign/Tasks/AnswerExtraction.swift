/// Finds the integer answer in a model's free-form output.
///
/// The rule, applied left to right:
/// - The answer is the **first number** in the output: a run of ASCII digits. Any text may come before or after
///   it ("The answer is 408.", "408\nQ: ...", "= 408 apples").
/// - A `-` (or the Unicode minus `−`) or `+` directly before the digits is its sign: "-12" is -12,
///   "is -12" is -12, but "- 12" (sign separated by a space) is 12.
/// - Thousands separators: a `,` followed by exactly three digits (and then no further digit) continues the
///   number, only after a first group of one to three digits: "1,234" and "12,345,678" are one number, while in
///   "17,24" or "1,2345" the number ends at the comma (17, 1).
/// - A decimal point followed by digits makes it a decimal: "408.0" (all zeros after the point) is 408, but a
///   first number with a non-zero fraction ("408.5") is not an integer, so the result is nil. A point not followed
///   by a digit ("408.") is punctuation.
/// - No digits at all, or a value that does not fit in `Int`, gives nil.
public enum AnswerExtractor {
    /// The first integer in `output` by the rule above, or nil.
    public static func extract(_ output: String) -> Int? {
        let s = Array(output.unicodeScalars)
        guard let start = s.firstIndex(where: isDigit) else { return nil }
        var negative = false
        if start > 0 {
            let c = s[start - 1]
            negative = c == "-" || c == "\u{2212}"
        }
        var digits: [Unicode.Scalar] = []
        var i = start
        var groupLength = 0
        while i < s.count && isDigit(s[i]) { digits.append(s[i]); i += 1; groupLength += 1 }
        // Thousands groups: only after a first group of 1-3 digits, each exactly three digits.
        if groupLength <= 3 {
            while i + 3 < s.count, s[i] == ",", s[(i + 1)...(i + 3)].allSatisfy(isDigit),
                  !(i + 4 < s.count && isDigit(s[i + 4])) {
                digits += s[(i + 1)...(i + 3)]
                i += 4
            }
        }
        // A decimal fraction: "408.0" stays 408; "408.5" is not an integer.
        if i + 1 < s.count && s[i] == "." && isDigit(s[i + 1]) {
            var j = i + 1
            while j < s.count && isDigit(s[j]) {
                if s[j] != "0" { return nil }
                j += 1
            }
        }
        var value = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (v, o2) = m.addingReportingOverflow(Int(d.value - 48))
            if o1 || o2 { return nil }
            value = v
        }
        return negative ? -value : value
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }
}
