import Foundation
import Tether

/// A multi-step arithmetic solution with one label per step (TRL's stepwise supervision).
public struct StepwiseSolution: Sendable, Hashable {
    /// The question, e.g. "What is 17 + 24 - 35?".
    public var prompt: String
    /// The steps: one "x op y = z" per operation (left to right), then "The answer is z.".
    public var steps: [String]
    /// Whether each step is right: true before the injected wrong step, false from it on (TRL's convention:
    /// a step built on a wrong one is wrong too), unless label noise moved the first false label.
    public var labels: [Bool]
    /// The index of the injected wrong step, or nil for a fully correct solution.
    public var wrongStep: Int?
    /// Whether label noise put the first false label somewhere other than `wrongStep` (or "none").
    public var mislabeled: Bool
}

/// Makes multi-step addition and subtraction problems with worked solutions, some with one injected wrong step.
///
/// Operands are drawn from `operands` (two digits unless set) and problems have 3 or 4 of them, computed left to
/// right. A wrong step's result is off by 1 to 9; the steps after it compute correctly from the wrong value, so only the injected step is an error and
/// the final answer is wrong.
public struct StepwiseLabeler: Sendable, Hashable {
    /// Share of solutions with an injected wrong step (the rest are fully correct).
    public var errorFraction: Double
    /// Probability that the rater misplaces the first wrong step: the first false label moves to a uniformly
    /// chosen other step, or away entirely ("all correct"), keeping labels true-then-false.
    public var noise: Double
    /// The range every operand is drawn from, uniformly (10...99: two digits).
    public var operands: ClosedRange<Int>

    /// A labeler.
    public init(errorFraction: Double = 0.5, noise: Double = 0, operands: ClosedRange<Int> = 10...99) {
        self.errorFraction = errorFraction
        self.noise = noise
        self.operands = operands
    }

    /// Throws naming the field if a probability is out of range.
    public func validate() throws(DatasetError) {
        guard (0...1).contains(errorFraction) else {
            throw DatasetError(field: "error_fraction", "expected a probability in 0...1, got \(errorFraction)")
        }
        guard (0...1).contains(noise) else { throw DatasetError(field: "noise", "expected a probability in 0...1, got \(noise)") }
        guard operands.lowerBound >= 0 else {
            throw DatasetError(field: "operands", "expected non-negative operands, got \(operands.lowerBound)...\(operands.upperBound)")
        }
    }

    /// `count` distinct problems whose text contains none of `avoid` (the held-out "a op b" expressions).
    public func make(count: Int, avoid: Set<String> = [], rng: inout RandomGenerator) -> [StepwiseSolution] {
        var out: [StepwiseSolution] = []
        var seen = Set<String>()
        var attempts = 0
        while out.count < count && attempts < 20 * count + 100 {
            attempts += 1
            let s = solution(rng: &rng)
            guard !seen.contains(s.prompt), !avoid.contains(where: { s.prompt.contains($0) }) else { continue }
            seen.insert(s.prompt)
            out.append(s)
        }
        return out
    }

    /// One problem and its solution, with a wrong step injected with probability `errorFraction`.
    public func solution(rng: inout RandomGenerator) -> StepwiseSolution {
        let n = 3 + rng.nextInt(below: 2)
        func draw() -> Int { self.operands.lowerBound + rng.nextInt(below: self.operands.count) }
        var operands = [draw()]
        var ops: [ArithmeticOperation] = []
        var exact = operands[0]
        for _ in 1..<n {
            let b = draw()
            // Subtract only when the running value stays non-negative, so every step reads naturally.
            let op: ArithmeticOperation = exact >= b && rng.nextInt(below: 2) == 0 ? .subtraction : .addition
            ops.append(op)
            operands.append(b)
            exact = op.apply(exact, b)
        }
        let prompt = "What is " + zip(ops, operands.dropFirst()).reduce(String(operands[0])) { "\($0) \($1.0.symbol) \($1.1)" } + "?"
        let wrong: Int? = Double(rng.nextFloat()) < errorFraction ? rng.nextInt(below: ops.count) : nil
        var steps: [String] = []
        var value = operands[0]
        for (k, (op, b)) in zip(ops, operands.dropFirst()).enumerated() {
            var next = op.apply(value, b)
            if k == wrong {
                let delta = 1 + rng.nextInt(below: 9)
                next += next - delta >= 0 && rng.nextInt(below: 2) == 0 ? -delta : delta
            }
            steps.append("\(value) \(op.symbol) \(b) = \(next)")
            value = next
        }
        steps.append("The answer is \(value).")
        // The first false label: the wrong step, or steps.count for "all correct"; noise picks another position.
        var firstFalse = wrong ?? steps.count
        let mislabeled = Double(rng.nextFloat()) < noise
        if mislabeled {
            let other = rng.nextInt(below: steps.count)  // one of the steps.count positions other than firstFalse
            firstFalse = other >= firstFalse ? other + 1 : other
        }
        let labels = steps.indices.map { $0 < firstFalse }
        return StepwiseSolution(prompt: prompt, steps: steps, labels: labels, wrongStep: wrong, mislabeled: mislabeled)
    }
}
