import Foundation
import Testing
import TetherAlign
@testable import TetherServer

@Suite struct ImportParserTests {
    @Test func readsEachRowShape() throws {
        let text = """
        {"prompt": "2+2?", "completions": ["4", "5", "22"], "sources": ["a", null, "c"], "gold": 0}
        {"prompt": "Hi", "chosen": "Hello!", "rejected": "What?", "chosen_source": "m1"}

        {"prompt": [{"role": "user", "content": "Hi"}], "completions": [[{"role": "assistant", "content": "Hey"}], [{"role": "assistant", "content": "Yo"}]]}
        {"prompt": "Write a haiku"}
        """
        let rows = try ImportParser.parse(Data(text.utf8), file: "x.jsonl")
        #expect(rows.count == 4)
        #expect(rows[0].candidates.map(\.source) == ["a", nil, "c"] && rows[0].gold == 0 && rows[0].line == 1)
        #expect(rows[1].candidates == [ImportCandidate(completion: .string("Hello!"), source: "m1"),
                                       ImportCandidate(completion: .string("What?"))])
        #expect(rows[2].line == 4 && rows[2].candidates.count == 2)
        #expect(rows[3].candidates.isEmpty && rows[3].line == 5)
        #expect(rows[0].contentHash != rows[1].contentHash && rows[0].contentHash.count == 64)
    }

    @Test(arguments: [
        ("{\"prompt\": \"p\", \"completions\": [\"only one\"]}", "x.jsonl:2: field \"completions\": expected two or more candidates, got 1"),
        ("{\"prompt\": \"p\", \"completions\": [\"a\", 3]}", "x.jsonl:2: field \"completions[1]\": expected a string or a list of messages, got number"),
        ("{\"prompt\": \"p\", \"completions\": [\"a\", [{\"role\": \"assistant\", \"content\": \"b\"}]]}",
         "x.jsonl:2: field \"completions[1]\": expected a string, as \"prompt\" is, got a list of messages"),
        ("{\"prompt\": \"p\", \"completions\": [\"a\", \"b\"], \"sources\": [\"m\"]}", "x.jsonl:2: field \"sources\": expected a list of 2 strings (one per completion), got a list of 1"),
        ("{\"prompt\": \"p\", \"completions\": [\"a\", \"b\"], \"gold\": 2}", "x.jsonl:2: field \"gold\": expected the index (0 to 1) of the better candidate, got 2"),
        ("{\"prompt\": \"p\", \"chosen\": \"a\"}", "x.jsonl:2: field \"rejected\": missing (expected a string or a list of messages)"),
        ("{\"completions\": [\"a\", \"b\"]}", "x.jsonl:2: field \"prompt\": missing (expected a string or a list of messages)"),
        ("{\"prompt\": \"p\", \"completion\": \"a\"}", "x.jsonl:2: field \"completion\": a label import needs \"completions\" (a list of two or more candidates), not one \"completion\""),
        ("{\"prompt\": \"p\", \"completions\": [\"a\", \"b\"", "x.jsonl:2: not valid JSON"),
        ("[1, 2]", "x.jsonl:2: expected a JSON object, got array"),
    ])
    func rejectsABadLineNamingFileLineAndField(line: String, message: String) {
        let text = "{\"prompt\": \"fine\", \"completions\": [\"a\", \"b\"]}\n" + line + "\n"
        #expect(throws: DatasetError.self) { try ImportParser.parse(Data(text.utf8), file: "x.jsonl") }
        do { _ = try ImportParser.parse(Data(text.utf8), file: "x.jsonl") } catch { #expect(error.description == message) }
    }

    @Test func fuzzedLinesThrowOrParseButNeverCrash() {
        // Mutate valid lines byte by byte (seeded); every outcome must be a row or a DatasetError with the file and line.
        let seeds = pairRows(3, gold: 1).split(separator: "\n").map { Array($0.utf8) }
            + [Array(#"{"prompt": [{"role": "user", "content": "x"}], "chosen": [{"role": "assistant", "content": "y"}], "rejected": [{"role": "assistant", "content": "z"}]}"#.utf8)]
        var rng = SplitMix(seed: 42)
        let alphabet = Array("{}[]\":,0123456789.-+eE \\ntfaluse\u{0}é".utf8)
        var parsed = 0, rejected = 0
        for _ in 0..<3000 {
            var bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(bytes.count + 1))
                switch rng.next() % 3 {
                case 0: if i < bytes.count { bytes.remove(at: i) }
                case 1: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                default: if i < bytes.count { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            do {
                _ = try ImportParser.parse(Data(bytes), file: "fuzz.jsonl")
                parsed += 1
            } catch {
                #expect(error.file == "fuzz.jsonl" && error.line != nil)
                rejected += 1
            }
        }
        #expect(parsed > 100 && rejected > 100, "parsed \(parsed), rejected \(rejected)")
    }
}

/// A tiny deterministic generator for the fuzz test.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ImportStoreTests {
    @Test func importingTwiceAddsNothingTwice() throws {
        let store = try temporaryStore()
        let text = pairRows(4) + #"{"prompt": "three", "completions": ["a", "b", "c"]}"# + "\n"
        #expect(try store.importText(text, project: "p") == ImportSummary(added: 5, duplicates: 0, pairs: 4 + 3))
        #expect(try store.importText(text, project: "p") == ImportSummary(added: 0, duplicates: 5, pairs: 0))
        let c = try store.counts(project: "p")
        #expect(c.items == 5 && c.pairs == 7 && c.labels == 0)
        // The same rows in another project are that project's own.
        #expect(try store.importText(text, project: "q").added == 5)
    }

    @Test func aRowWithoutCandidatesAbortsTheWholeImport() throws {
        let store = try temporaryStore()
        let text = pairRows(2) + #"{"prompt": "needs a model"}"# + "\n"
        #expect { try store.importText(text, project: "p", file: "in.jsonl") } throws: { error in
            (error as? DatasetError)?.description == "in.jsonl:3: field \"completions\": expected two or more candidates, got 0 (a prompt-only row needs --model to sample them)"
        }
        #expect(try store.project(named: "p") == nil, "nothing imported, not even the project")
    }
}
