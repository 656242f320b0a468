import Foundation
import Testing
@testable import TetherTokenizers

@Suite struct ErrorTests {
    /// The llama3 fixture as a mutable dictionary.
    func fixtureJSON() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("llama3.json"))) as! [String: Any]
    }

    func error(_ j: [String: Any]) -> TokenizerError? {
        do {
            _ = try Tokenizer(tokenizerJSONData: JSONSerialization.data(withJSONObject: j), file: "bad.json")
            return nil
        } catch let e as TokenizerError { return e } catch { return nil }
    }

    @Test func unknownSplitRegexNamesTheField() throws {
        var j = try fixtureJSON()
        var pre = j["pre_tokenizer"] as! [String: Any]
        var items = pre["pretokenizers"] as! [[String: Any]]
        items[0]["pattern"] = ["Regex": "\\w+|\\s+"]
        pre["pretokenizers"] = items
        j["pre_tokenizer"] = pre
        let e = try #require(error(j))
        #expect(e.file == "bad.json")
        #expect(e.path == "pre_tokenizer.pretokenizers[0].pattern.Regex")
        #expect(e.description.contains("unknown split regex"))
    }

    @Test func badFieldsNameTheirPaths() throws {
        var j = try fixtureJSON()
        var model = j["model"] as! [String: Any]
        var merges = model["merges"] as! [Any]
        merges[1] = "abc"
        model["merges"] = merges
        j["model"] = model
        #expect(error(j)?.path == "model.merges[1]")

        merges[1] = ["h", "zzz-not-a-token"]
        model["merges"] = merges
        j["model"] = model
        #expect(error(j)?.path == "model.merges[1]")

        j = try fixtureJSON()
        model = j["model"] as! [String: Any]
        model["type"] = "WordPiece"
        j["model"] = model
        #expect(error(j)?.path == "model.type")

        j = try fixtureJSON()
        var added = j["added_tokens"] as! [[String: Any]]
        added[2]["id"] = "seven"
        j["added_tokens"] = added
        #expect(error(j)?.path == "added_tokens[2].id")

        j = try fixtureJSON()
        j["decoder"] = ["type": "WordPiece"]
        #expect(error(j)?.path == "decoder.type")

        j = try fixtureJSON()
        j["pre_tokenizer"] = NSNull()
        #expect(error(j)?.path == "pre_tokenizer")
    }

    @Test func unreadableFilesNameTheFile() throws {
        do {
            _ = try Tokenizer(tokenizerJSONData: Data("{not json".utf8), file: "x.json")
            Issue.record("expected an error")
        } catch { #expect(error.file == "x.json" && error.message.hasPrefix("not valid JSON")) }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tokerr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let merges = dir.appendingPathComponent("merges.txt")
        try "#version: 0.2\nĠ t\nbad line here\n".write(to: merges, atomically: true, encoding: .utf8)
        do {
            _ = try Tokenizer(vocabJSON: fixtures.appendingPathComponent("gpt2_vocab.json"), mergesTXT: merges)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == merges.path && error.path == "line 3")
        }
    }
}
