import Foundation
import Tether

/// An arithmetic operation of the synthetic task suite.
public enum ArithmeticOperation: String, Sendable, Hashable, Codable, CaseIterable {
    /// `a + b`.
    case addition = "add"
    /// `a - b`.
    case subtraction = "sub"
    /// `a * b`.
    case multiplication = "mul"

    /// The symbol written in prompts.
    public var symbol: String {
        switch self {
        case .addition: return "+"
        case .subtraction: return "-"
        case .multiplication: return "*"
        }
    }

    /// The result's name in words ("sum", "difference", "product").
    public var resultName: String {
        switch self {
        case .addition: return "sum"
        case .subtraction: return "difference"
        case .multiplication: return "product"
        }
    }

    /// Whether `a op b == b op a`, so that both orders count as one problem.
    public var isCommutative: Bool { self != .subtraction }

    /// The exact result of `a op b`.
    public func apply(_ a: Int, _ b: Int) -> Int {
        switch self {
        case .addition: return a + b
        case .subtraction: return a - b
        case .multiplication: return a * b
        }
    }
}

/// One arithmetic task: an operation, operand sizes, how many problems to make, a seed and the prompt phrasings.
///
/// Coded with snake_case keys (`operation`, `digits_a`, `digits_b`, `train`, `test`, `seed`, `phrasings`,
/// `allow_negative`); only `operation`, `digits_a` and `digits_b` are required.
public struct TaskSpec: Sendable, Hashable, Codable {
    /// The operation.
    public var operation: ArithmeticOperation
    /// Digits of the first operand (1...9; 1 digit means 0...9, d > 1 digits means 10^(d-1) ..< 10^d).
    public var digitsA: Int
    /// Digits of the second operand (1...9).
    public var digitsB: Int
    /// Training problems to make.
    public var trainCount: Int
    /// Held-out test problems to make.
    public var testCount: Int
    /// Seed of this task's problems and phrasings.
    public var seed: UInt64
    /// Prompt templates with `{a}`, `{op}` and `{b}`; each problem uses one, chosen by seed.
    public var phrasings: [String]
    /// Whether subtraction may give a negative result (else `a >= b` always); ignored by other operations.
    public var allowNegative: Bool

    /// The default phrasings; every number in them is delimited by a non-digit on both sides.
    public static let defaultPhrasings = ["What is {a} {op} {b}?", "Compute {a} {op} {b}.", "Q: {a} {op} {b} = ?"]

    /// Creates a spec.
    public init(_ operation: ArithmeticOperation, digitsA: Int, digitsB: Int, trainCount: Int = 10_000,
                testCount: Int = 500, seed: UInt64 = 0, phrasings: [String] = TaskSpec.defaultPhrasings,
                allowNegative: Bool = false) {
        self.operation = operation
        self.digitsA = digitsA
        self.digitsB = digitsB
        self.trainCount = trainCount
        self.testCount = testCount
        self.seed = seed
        self.phrasings = phrasings
        self.allowNegative = allowNegative
    }

    /// Parses a task name such as `add_3x3` or `mul_2x1` (see `name`).
    public init(name: String, trainCount: Int = 10_000, testCount: Int = 500, seed: UInt64 = 0,
                allowNegative: Bool = false) throws(DatasetError) {
        let parts = name.split(separator: "_")
        let sizes = parts.count == 2 ? parts[1].split(separator: "x") : []
        guard parts.count == 2, let op = ArithmeticOperation(rawValue: String(parts[0])), sizes.count == 2,
              let a = Int(sizes[0]), let b = Int(sizes[1]) else {
            throw DatasetError(field: "task", "expected a name like add_3x3, sub_2x2 or mul_2x1, got \"\(name)\"")
        }
        self.init(op, digitsA: a, digitsB: b, trainCount: trainCount, testCount: testCount, seed: seed,
                  allowNegative: allowNegative)
        try validate()
    }

    /// The task's name, operation and digit counts: `add_3x3`, `sub_2x2`, `mul_2x1`.
    public var name: String { "\(operation.rawValue)_\(digitsA)x\(digitsB)" }

    enum CodingKeys: String, CodingKey {
        case operation, seed, phrasings, train, test
        case digitsA = "digits_a", digitsB = "digits_b", allowNegative = "allow_negative"
    }

    /// Decodes a spec; missing optional fields take the defaults of `init`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(ArithmeticOperation.self, forKey: .operation),
                  digitsA: try c.decode(Int.self, forKey: .digitsA), digitsB: try c.decode(Int.self, forKey: .digitsB),
                  trainCount: try c.decodeIfPresent(Int.self, forKey: .train) ?? 10_000,
                  testCount: try c.decodeIfPresent(Int.self, forKey: .test) ?? 500,
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0,
                  phrasings: try c.decodeIfPresent([String].self, forKey: .phrasings) ?? TaskSpec.defaultPhrasings,
                  allowNegative: try c.decodeIfPresent(Bool.self, forKey: .allowNegative) ?? false)
    }

    /// Encodes every field with snake_case keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(operation, forKey: .operation)
        try c.encode(digitsA, forKey: .digitsA)
        try c.encode(digitsB, forKey: .digitsB)
        try c.encode(trainCount, forKey: .train)
        try c.encode(testCount, forKey: .test)
        try c.encode(seed, forKey: .seed)
        try c.encode(phrasings, forKey: .phrasings)
        try c.encode(allowNegative, forKey: .allowNegative)
    }

    /// Smallest and largest operand with `digits` digits.
    static func range(_ digits: Int) -> ClosedRange<Int> {
        var hi = 1
        for _ in 0..<digits { hi *= 10 }
        return (digits == 1 ? 0 : hi / 10)...(hi - 1)
    }

    /// Throws naming the field if the spec cannot make its problems (bad digits, counts or phrasings).
    public func validate() throws(DatasetError) {
        let where_ = "task \(name): "
        guard (1...9).contains(digitsA) else { throw DatasetError(field: "digits_a", where_ + "expected 1...9, got \(digitsA)") }
        guard (1...9).contains(digitsB) else { throw DatasetError(field: "digits_b", where_ + "expected 1...9, got \(digitsB)") }
        guard trainCount >= 0 else { throw DatasetError(field: "train", where_ + "expected a count >= 0, got \(trainCount)") }
        guard testCount >= 0 else { throw DatasetError(field: "test", where_ + "expected a count >= 0, got \(testCount)") }
        if operation == .subtraction && !allowNegative && digitsA < digitsB {
            throw DatasetError(field: "digits_b", where_ + "with allow_negative false, b may not have more digits than a")
        }
        guard !phrasings.isEmpty else { throw DatasetError(field: "phrasings", where_ + "expected at least one template") }
        for p in phrasings {
            // Numbers must be delimited so that one problem's prompt can never sit inside another's.
            let parts = p.components(separatedBy: "{a} {op} {b}")
            guard parts.count == 2,
                  !(parts[0] + parts[1]).contains(where: { $0.isNumber || "+-*{}".contains($0) }),
                  !(parts[0].last?.isNumber ?? false), !(parts[1].first?.isNumber ?? false) else {
                throw DatasetError(field: "phrasings", where_ + "a template needs \"{a} {op} {b}\" exactly once and no "
                                   + "other digits, operators or braces, got \"\(p)\"")
            }
        }
        let space = problemSpace
        guard trainCount + testCount <= space else {
            throw DatasetError(field: "train", where_ + "asks for \(trainCount + testCount) distinct problems but only "
                               + "\(space) exist")
        }
    }

    /// How many distinct problems exist (commutative orders counted once; no negatives if not allowed).
    public var problemSpace: Int {
        let ra = Self.range(digitsA), rb = Self.range(digitsB)
        let na = ra.count, nb = rb.count
        let overlap = max(0, min(ra.upperBound, rb.upperBound) - max(ra.lowerBound, rb.lowerBound) + 1)
        switch operation {
        case .addition, .multiplication:
            return na * nb - overlap * (overlap - 1) / 2  // pairs {x, y} with both orders in range count once
        case .subtraction:
            if allowNegative { return na * nb }
            // Pairs with a >= b: all when a's range is above b's; for equal ranges, half plus the diagonal.
            return digitsA > digitsB ? na * nb : na * (na + 1) / 2
        }
    }
}

/// One generated problem: operands, operation, its prompt and its answer.
public struct ArithmeticProblem: Sendable, Hashable, Codable {
    /// First operand, as written.
    public var a: Int
    /// Second operand, as written.
    public var b: Int
    /// The operation.
    public var operation: ArithmeticOperation
    /// The task's name (`TaskSpec.name`).
    public var task: String
    /// The question, e.g. "What is 17 * 24?".
    public var prompt: String

    /// The exact answer.
    public var answer: Int { operation.apply(a, b) }
    /// The answer as a person writes it: normal digit order, a leading "-" if negative ("408", "-12").
    public var answerText: String { String(answer) }
    /// The problem as written inside the prompt: "17 * 24".
    public var expression: String { "\(a) \(operation.symbol) \(b)" }
    /// The fact in words, as pretraining text states it: "The product of 17 and 24 is 408."
    public var statement: String { "The \(operation.resultName) of \(a) and \(b) is \(answerText)." }
}

/// The key that identifies a problem: both orders of a commutative operation give the same key.
struct ProblemKey: Hashable {
    var op: ArithmeticOperation
    var x: Int
    var y: Int

    init(_ op: ArithmeticOperation, _ a: Int, _ b: Int) {
        self.op = op
        (x, y) = op.isCommutative && b < a ? (b, a) : (a, b)
    }
}
