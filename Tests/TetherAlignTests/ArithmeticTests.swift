import Foundation
import Testing
import TetherAlign

/// The two operands written in a prompt "... a op b ..." (the numbers are the only digits in default templates).
private func operands(_ p: ArithmeticProblem) -> (Int, Int) {
    let nums = p.prompt.split(whereSeparator: { !$0.isNumber }).map { Int($0)! }
    return (nums[0], nums[1])
}

/// The order-free identity of a problem: (op, smaller, larger) for commutative ops, else (op, a, b).
private func key(_ p: ArithmeticProblem) -> String {
    let (a, b) = (p.a, p.b)
    return p.operation.isCommutative ? "\(p.operation.rawValue) \(min(a, b)) \(max(a, b))" : "\(p.operation.rawValue) \(a) \(b)"
}

@Suite struct ArithmeticTests {
    let quickstart = [TaskSpec(.addition, digitsA: 3, digitsB: 3, trainCount: 2000, testCount: 200, seed: 1),
                      TaskSpec(.multiplication, digitsA: 2, digitsB: 1, trainCount: 500, testCount: 200, seed: 2),
                      TaskSpec(.subtraction, digitsA: 2, digitsB: 2, trainCount: 800, testCount: 100, seed: 3)]

    @Test func sameSeedGivesByteIdenticalFilesAndOtherSeedsDiffer() throws {
        let a = try ArithmeticData.make(specs: quickstart, into: tempDir(), seed: 9)
        let b = try ArithmeticData.make(specs: quickstart, into: tempDir(), seed: 9)
        for (x, y) in zip(a, b) { #expect(try Data(contentsOf: x) == Data(contentsOf: y)) }
        #expect(a.map(\.lastPathComponent) == ["train.jsonl", "test.jsonl"])
        // The mixture seed reorders training data only; a spec's seed changes its problems.
        let c = try ArithmeticData.make(specs: quickstart, into: tempDir(), seed: 10)
        #expect(try Data(contentsOf: a[0]) != Data(contentsOf: c[0]))
        #expect(try Data(contentsOf: a[1]) == Data(contentsOf: c[1]))
        var other = quickstart
        other[0].seed = 77
        let d = try ArithmeticData.generate(specs: other, seed: 9)
        let e = try ArithmeticData.generate(specs: quickstart, seed: 9)
        #expect(d.test.filter { $0.task == "add_3x3" } != e.test.filter { $0.task == "add_3x3" })
    }

    @Test func testProblemsAreDisjointFromTrainingEvenCommutedOrEmbedded() throws {
        // Collisions would be certain if the guarantee were missing: with the undelimited template "{a} {op} {b} = ?",
        // the 1x2 test prompt "3 + 45 = ?" sits inside the 2x2 training prompt "13 + 45 = ?".
        let bare = ["{a} {op} {b} = ?"]
        let specs = [TaskSpec(.addition, digitsA: 1, digitsB: 2, trainCount: 300, testCount: 20, seed: 1, phrasings: bare),
                     TaskSpec(.addition, digitsA: 2, digitsB: 2, trainCount: 1200, testCount: 30, seed: 2, phrasings: bare),
                     TaskSpec(.multiplication, digitsA: 2, digitsB: 1, trainCount: 400, testCount: 60, seed: 3),
                     TaskSpec(.multiplication, digitsA: 1, digitsB: 2, trainCount: 300, testCount: 30, seed: 4),
                     TaskSpec(.subtraction, digitsA: 2, digitsB: 2, trainCount: 600, testCount: 50, seed: 5,
                              phrasings: bare, allowNegative: true)]
        let (train, test) = try ArithmeticData.generate(specs: specs, seed: 0)
        #expect(train.count == 2800 && test.count == 190)
        let trainKeys = Set(train.map(key)), testKeys = Set(test.map(key))
        #expect(trainKeys.count == train.count && testKeys.count == test.count)  // no duplicates, a+b == b+a
        #expect(trainKeys.isDisjoint(with: testKeys))
        // 2x1 and 1x2 multiplication overlap only through commutation; both directions were checked above.
        var leaks: [String] = []
        for t in test {
            let swapped = "\(t.b) \(t.operation.symbol) \(t.a)"
            for r in train {
                if r.prompt.contains(t.prompt) { leaks.append("\(t.prompt) inside \(r.prompt)") }
                if t.operation.isCommutative && r.expression.contains(swapped) { leaks.append("\(swapped) inside \(r.prompt)") }
            }
        }
        #expect(leaks.isEmpty, "\(leaks.prefix(5))")
        // The rule had work to do: without it, some 1x2 test prompts would sit inside 2x2 training prompts.
        let twoDigit = try ArithmeticData.generate(specs: [specs[1]]).train
        #expect(test.filter { $0.task == "add_1x2" }.contains { t in twoDigit.contains { $0.prompt.contains(t.prompt) } })
    }

    @Test func answersAreCorrectAndWrittenAsAPersonWrites() throws {
        let specs = [TaskSpec(.addition, digitsA: 3, digitsB: 3, trainCount: 300, testCount: 50, seed: 1),
                     TaskSpec(.multiplication, digitsA: 2, digitsB: 1, trainCount: 300, testCount: 50, seed: 2),
                     TaskSpec(.subtraction, digitsA: 2, digitsB: 2, trainCount: 300, testCount: 50, seed: 3),
                     TaskSpec(.subtraction, digitsA: 2, digitsB: 2, trainCount: 300, testCount: 50, seed: 4,
                              allowNegative: true)]
        let (train, test) = try ArithmeticData.generate(specs: specs, seed: 0)
        var negatives = 0
        for p in train + test {
            let (a, b) = operands(p)
            #expect(a == p.a && b == p.b)
            let expected = p.operation == .addition ? a + b : p.operation == .multiplication ? a * b : a - b
            #expect(p.answerText == "\(expected)")
            #expect(p.answerText == (expected < 0 ? "-" : "") + String(abs(expected)))
            let (da, db) = (String(a).count, String(b).count)
            switch p.task {
            case "add_3x3": #expect(da == 3 && db == 3 && p.prompt.contains(" + "))
            case "mul_2x1": #expect(da == 2 && db == 1 && p.prompt.contains(" * "))
            case "sub_2x2": #expect(da == 2 && db == 2 && p.prompt.contains(" - "))
            default: Issue.record("unexpected task \(p.task)")
            }
            if expected < 0 { negatives += 1 }
        }
        #expect(negatives > 0)
        // Only the spec that allows negatives produces them, and it does (about half its problems), written "-12".
        let strict = try ArithmeticData.generate(specs: [specs[2]])
        #expect((strict.train + strict.test).allSatisfy { $0.answer >= 0 })
        let loose = try ArithmeticData.generate(specs: [specs[3]])
        let negative = (loose.train + loose.test).filter { $0.answer < 0 }
        #expect(negative.count > 100 && negative.allSatisfy { $0.answerText.hasPrefix("-") && Int($0.answerText)! < 0 })
    }

    @Test func everyPhrasingIsUsedAndFilledIn() throws {
        let (train, _) = try ArithmeticData.generate(specs: [TaskSpec(.multiplication, digitsA: 2, digitsB: 2,
                                                                      trainCount: 300, testCount: 0, seed: 5)])
        let p = train.first { $0.prompt.hasPrefix("What is") }!
        #expect(p.prompt == "What is \(p.a) * \(p.b)?")
        #expect(train.contains { $0.prompt == "Compute \($0.a) * \($0.b)." })
        #expect(train.contains { $0.prompt == "Q: \($0.a) * \($0.b) = ?" })
        #expect(train.allSatisfy { !$0.prompt.contains("{") })
    }

    @Test func filesAreTRLFormatsTheLoadersRead() throws {
        let spec = [TaskSpec(.addition, digitsA: 2, digitsB: 2, trainCount: 20, testCount: 5, seed: 1)]
        let urls = try ArithmeticData.make(specs: spec, into: tempDir().appendingPathComponent("new/folder"))
        let train = try DatasetLoader.load(PromptCompletionExample.self, from: urls[0]).examples
        let (problems, _) = try ArithmeticData.generate(specs: spec)
        #expect(train.count == 20)
        #expect(train[0].prompt == .text(problems[0].prompt) && train[0].completion == .text(problems[0].answerText))
        #expect(train[0].extras["task"] == .string("add_2x2"))
        let first = try String(contentsOf: urls[0], encoding: .utf8).split(separator: "\n")[0]
        #expect(first == #"{"prompt":"\#(problems[0].prompt)","completion":"\#(problems[0].answerText)","task":"add_2x2"}"#)

        let text = ArithmeticData.jsonl(problems, format: .text)
        let textURL = write("text.jsonl", [text])
        let lm = try DatasetLoader.load(LanguageModelingExample.self, from: textURL).examples
        #expect(lm[0].content == .text(problems[0].prompt + " " + problems[0].answerText))
        let ro = write("rl.jsonl", [ArithmeticData.jsonl(problems, format: .promptOnly)])
        let rl = try DatasetLoader.load(PromptOnlyExample.self, from: ro).examples
        #expect(rl[0].prompt == .text(problems[0].prompt) && rl[0].extras["answer"] == .string(problems[0].answerText))
        #expect(ArithmeticData.jsonl(problems, format: .promptCompletion, completionPrefix: " ").contains(#""completion":" "#))
    }

    @Test func makeNeverOverwritesAndNamesTheFile() throws {
        let folder = tempDir()
        let spec = [TaskSpec(.addition, digitsA: 1, digitsB: 1, trainCount: 5, testCount: 5, seed: 1)]
        let urls = try ArithmeticData.make(specs: spec, into: folder)
        let before = try Data(contentsOf: urls[0])
        let e = datasetError { try ArithmeticData.make(specs: [TaskSpec(.addition, digitsA: 2, digitsB: 2, seed: 2)],
                                                       into: folder) }
        #expect(e?.file == urls[0].path && e?.message.contains("already exists") == true)
        #expect(try Data(contentsOf: urls[0]) == before)
        // Only test.jsonl left in the way: still refused, and train.jsonl is not written.
        try FileManager.default.removeItem(at: urls[0])
        let e2 = datasetError { try ArithmeticData.make(specs: spec, into: folder) }
        #expect(e2?.file == urls[1].path)
        #expect(!FileManager.default.fileExists(atPath: urls[0].path))
    }

    @Test func specsValidateNameAndRoundTrip() throws {
        let s = try TaskSpec(name: "mul_2x1", trainCount: 10, testCount: 3, seed: 4)
        #expect(s.operation == .multiplication && s.digitsA == 2 && s.digitsB == 1 && s.name == "mul_2x1")
        let json = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(TaskSpec.self, from: json) == s)
        #expect(String(decoding: json, as: UTF8.self).contains("\"digits_a\":2"))
        let minimal = try JSONDecoder().decode(TaskSpec.self, from: Data(#"{"operation":"sub","digits_a":3,"digits_b":2}"#.utf8))
        #expect(minimal == TaskSpec(.subtraction, digitsA: 3, digitsB: 2))

        #expect(datasetError { _ = try TaskSpec(name: "div_2x2") }?.field == "task")
        #expect(datasetError { try TaskSpec(.addition, digitsA: 0, digitsB: 2).validate() }?.field == "digits_a")
        #expect(datasetError { try TaskSpec(.subtraction, digitsA: 1, digitsB: 2).validate() }?.field == "digits_b")
        #expect(datasetError { try TaskSpec(.addition, digitsA: 1, digitsB: 1, trainCount: 50, testCount: 6).validate() }?
            .message.contains("only 55 exist") == true)
        #expect(datasetError { try TaskSpec(.addition, digitsA: 1, digitsB: 1, trainCount: 50, testCount: 5).validate() } == nil)
        for bad in ["What is {a}+{b}?", "What is {a} {op} {b} or 7?", "no placeholders", "{a} {op} {b}{a} {op} {b}"] {
            #expect(datasetError { try TaskSpec(.addition, digitsA: 2, digitsB: 2, phrasings: [bad]).validate() }?
                .field == "phrasings", "\(bad)")
        }
        #expect(TaskSpec(.subtraction, digitsA: 2, digitsB: 2).problemSpace == 90 * 91 / 2)
        #expect(TaskSpec(.subtraction, digitsA: 2, digitsB: 2, allowNegative: true).problemSpace == 8100)
        #expect(TaskSpec(.multiplication, digitsA: 2, digitsB: 1).problemSpace == 900)
        // A full space can be taken exactly, and one more is refused.
        let all = try ArithmeticData.generate(specs: [TaskSpec(.addition, digitsA: 1, digitsB: 1, trainCount: 45, testCount: 10)])
        #expect(Set(all.train.map(key)).union(all.test.map(key)).count == 55)
    }
}
