import Foundation

/// How a multi-step arithmetic solution is written for a policy and read back: the question and a newline, then one
/// step per line ("17 + 24 = 41"), the last "The answer is z.".
///
/// The process and outcome reward models see the same text: the prompt, then each step followed by the separator
/// `"\n"`, so a sample's lines are exactly the steps they score.
public enum ChainText {
    /// The separator after each step (and after the question).
    public static let separator = "\n"

    /// The policy's prompt for `question` ("What is 17 + 24 - 35?" + newline).
    public static func prompt(_ question: String) -> String { question + separator }

    /// The policy's completion for `steps`: each step and a newline.
    public static func completion(_ steps: [String]) -> String { steps.map { $0 + separator }.joined() }

    /// The non-empty lines of a generated completion, trimmed of surrounding spaces.
    public static func steps(_ completion: String) -> [String] {
        completion.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The final answer: the integer of a last line "The answer is z." (nil if the last line is not of that form).
    public static func finalAnswer(_ completion: String) -> Int? {
        guard let last = steps(completion).last, last.hasPrefix("The answer is ") else { return nil }
        var number = last.dropFirst("The answer is ".count)
        if number.hasSuffix(".") { number = number.dropLast() }
        return Int(number)
    }
}
