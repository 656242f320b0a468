import Testing
import TetherAlign

@Suite struct AnswerExtractionTests {
    @Test(arguments: [
        ("408", 408), ("-12", -12), (" 408", 408), ("The answer is 408.", 408), ("408\nQ: What is 1 + 2?", 408),
        ("is -12, surely", -12), ("x = \u{2212}7", -7), ("+5", 5), ("- 12", 12), ("1,234", 1234),
        ("It is 12,345,678 exactly", 12_345_678), ("-1,000", -1000), ("17,24", 17), ("1,2345", 1), ("1234,567", 1234),
        ("3 and 4", 3), ("12 * 3 = 36", 12), ("408.0", 408), ("408.", 408), ("0408", 408), ("abc7def", 7),
        ("1,234.00 dollars", 1234), ("9223372036854775807", Int.max),
    ] as [(String, Int)])
    func findsTheFirstInteger(output: String, expected: Int) {
        #expect(AnswerExtractor.extract(output) == expected, "\(output)")
    }

    @Test(arguments: ["", "no number here", "-", "minus twelve", "408.5", "3.14 or 3", "99999999999999999999"])
    func givesNilWithoutAnInteger(output: String) {
        #expect(AnswerExtractor.extract(output) == nil, "\(output)")
    }
}
