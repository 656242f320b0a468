import Foundation
import Testing
import TetherAlign
import TetherTokenizers

@Suite struct LoaderTests {
    let user = #"{"role": "user", "content": "What color is the sky?"}"#
    let assistant = #"{"role": "assistant", "content": "It is blue."}"#

    @Test func languageModelingStandardAndConversational() throws {
        let u = write("lm.jsonl", [#"{"text": "The sky is blue.", "id": 7}"#, "",
                                   #"{"messages": [\#(user), \#(assistant)]}"#])
        let d = try DatasetLoader.load(u)
        #expect(d.report.datasetType == .languageModeling)
        #expect(d.report.loaded == 2)
        #expect(d.examples == [
            .languageModeling(LanguageModelingExample(.text("The sky is blue."), extras: ["id": .number(7)])),
            .languageModeling(LanguageModelingExample(.messages([ChatMessage(.user, "What color is the sky?"),
                                                                ChatMessage(.assistant, "It is blue.")]))),
        ])
    }

    @Test func promptOnlyAndPromptCompletion() throws {
        let p = try DatasetLoader.load(PromptOnlyExample.self, from: write("p.jsonl", [#"{"prompt": "The sky is"}"#,
                                                                                      #"{"prompt": [\#(user)]}"#]))
        #expect(p.examples.map(\.prompt) == [.text("The sky is"), .messages([ChatMessage(.user, "What color is the sky?")])])
        let c = try DatasetLoader.load(write("pc.jsonl", [#"{"prompt": "The sky is", "completion": " blue."}"#,
                                                           #"{"prompt": [\#(user)], "completion": [\#(assistant)]}"#]))
        #expect(c.report.datasetType == .promptCompletion)
        #expect(c.examples == [
            .promptCompletion(PromptCompletionExample(prompt: .text("The sky is"), completion: .text(" blue."))),
            .promptCompletion(PromptCompletionExample(prompt: .messages([ChatMessage(.user, "What color is the sky?")]),
                                                      completion: .messages([ChatMessage(.assistant, "It is blue.")]))),
        ])
    }

    @Test func preferenceExplicitAndImplicitPromptWithMargin() throws {
        let u = write("pref.jsonl", [
            #"{"prompt": "The sky is", "chosen": " blue.", "rejected": " green.", "margin": 1.5}"#,
            #"{"chosen": "The sky is blue.", "rejected": "The sky is green."}"#,
            #"{"prompt": [\#(user)], "chosen": [\#(assistant)], "rejected": [{"role": "assistant", "content": "Green."}]}"#,
        ])
        let d = try DatasetLoader.load(PreferenceExample.self, from: u)
        #expect(d.examples.count == 3)
        #expect(d.examples[0].prompt == .text("The sky is") && d.examples[0].chosen == .text(" blue.")
                && d.examples[0].rejected == .text(" green."))
        #expect(d.examples[0].margin == 1.5)
        #expect(d.examples[1].prompt == nil && d.examples[1].chosen == .text("The sky is blue.") && d.examples[1].margin == nil)
        #expect(d.examples[2].rejected == .messages([ChatMessage(.assistant, "Green.")]))
        // Detected from the keys as well, implicit prompt included.
        #expect(try DatasetLoader.load(u).report.datasetType == .preference)
    }

    @Test func unpairedPreferenceAndStepwise() throws {
        let u = try DatasetLoader.load(write("kto.jsonl", [#"{"prompt": "The sky is", "completion": " blue.", "label": true}"#,
                                                            #"{"prompt": [\#(user)], "completion": [\#(assistant)], "label": false}"#]))
        #expect(u.report.datasetType == .unpairedPreference)
        #expect(u.examples[0] == .unpairedPreference(UnpairedPreferenceExample(prompt: .text("The sky is"), completion: .text(" blue."), label: true)))
        guard case .unpairedPreference(let second) = u.examples[1] else { Issue.record("wrong type"); return }
        #expect(second.label == false && second.prompt.isConversational)
        let s = try DatasetLoader.load(write("prm.jsonl", [
            #"{"prompt": "Which is larger, 9.8 or 9.11?", "completions": ["0.8 > 0.11.", "So 9.11 is larger."], "labels": [true, false]}"#]))
        #expect(s.examples == [.stepwiseSupervision(StepwiseSupervisionExample(
            prompt: "Which is larger, 9.8 or 9.11?", completions: ["0.8 > 0.11.", "So 9.11 is larger."], labels: [true, false]))])
    }

    @Test func jsonArrayFilesAndJSONLinesInADotJSONFile() throws {
        let arr = write("data.json", ["[", #"  {"text": "a"},"#, #"  {"text": "b"}"#, "]"])
        #expect(try DatasetLoader.load(arr).examples == [.languageModeling(.init(.text("a"))), .languageModeling(.init(.text("b")))])
        let lines = write("lines.json", [#"{"text": "a"}"#, #"{"text": "b"}"#])
        #expect(try DatasetLoader.load(lines).report.loaded == 2)
        let bad = write("bad.json", ["[", #"{"text": "a"},"#, #"{"text": 3}"#, "]"])
        let e = datasetError { _ = try DatasetLoader.load(bad) }
        #expect(e?.description == #"\#(bad.relativePath): item 1: field "text": expected a string, got number"#)
    }

    @Test func streamingReadsLongFilesAcrossChunkBoundariesWithCRLF() throws {
        // About 1 MB: many 64 KiB chunk boundaries fall inside lines.
        let lines = (0..<20_000).map { #"{"text": "line \#($0) \#(String(repeating: "x", count: $0 % 97))"}"# }
        let u = tempDir().appendingPathComponent("big.jsonl")
        try lines.joined(separator: "\r\n").appending("\r\n").write(to: u, atomically: true, encoding: .utf8)
        var count = 0, last = ""
        let report = try DatasetLoader.stream(u) { ex in
            count += 1
            if case .languageModeling(let l) = ex, case .text(let t) = l.content { last = t }
        }
        #expect(count == 20_000 && report.loaded == 20_000)
        #expect(last == "line 19999 " + String(repeating: "x", count: 19_999 % 97))
    }

    /// Each bad record, with the message a user sees.
    @Test(arguments: [
        (#"{"prompt": "p", "chosen": 3, "rejected": "r"}"#, #"field "chosen": expected a string or a list of messages, got number"#),
        (#"{"prompt": "p", "rejected": "r"}"#, #"field "chosen": missing (expected a string or a list of messages)"#),
        (#"{"prompt": "p", "chosen": "c", "rejected": null}"#, #"field "rejected": expected a string or a list of messages, got null"#),
        (#"{"prompt": [{"role": "user", "content": "q"}], "chosen": "c", "rejected": "r"}"#,
         #"field "chosen": expected a list of messages, as "prompt" is, got a string"#),
        (#"{"prompt": "p", "chosen": [{"role": "assistant", "content": "a"}, {"role": "bot", "content": "b"}], "rejected": "r"}"#,
         #"field "chosen[1].role": unknown role "bot" (expected system, user or assistant)"#),
        (#"{"prompt": "p", "chosen": [{"role": "assistant"}], "rejected": "r"}"#, #"field "chosen[0].content": missing (expected a string)"#),
        (#"{"prompt": "p", "chosen": [{"content": "x"}], "rejected": "r"}"#,
         #"field "chosen[0].role": missing (expected a string (system, user or assistant))"#),
        (#"{"prompt": "p", "chosen": ["x"], "rejected": "r"}"#,
         #"field "chosen[0]": expected an object with "role" and "content", got string"#),
        (#"{"prompt": "p", "chosen": [], "rejected": "r"}"#, #"field "chosen": expected at least one message, got an empty list"#),
        (#"{"prompt": "p", "chosen": "c", "rejected": "r", "margin": "big"}"#, #"field "margin": expected a number, got string"#),
        (#"{"prompt": "p", "chosen": "c""#, "not valid JSON"),
        (#"["prompt"]"#, "expected a JSON object, got array"),
    ])
    func preferenceErrorsNameFileLineAndField(line: String, message: String) {
        let u = write("data.jsonl", [#"{"prompt": "p", "chosen": "c", "rejected": "r"}"#, line])
        let e = datasetError { _ = try DatasetLoader.load(PreferenceExample.self, from: u) }
        #expect(e?.file == u.relativePath && e?.line == 2)
        #expect(e?.description == "\(u.relativePath):2: \(message)")
    }

    @Test(arguments: [
        (#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "robot", "content": "c"}]}"#,
         #"field "messages[2].role": unknown role "robot" (expected system, user or assistant)"#),
        (#"{"messages": [{"role": "user", "content": 5}]}"#, #"field "messages[0].content": expected a string, got number"#),
        (#"{"text": ["a"]}"#, #"field "text": expected a string, got array"#),
        (#"{"text": "a", "messages": [{"role": "user", "content": "q"}]}"#,
         #"field "messages": a record has either "text" or "messages", not both"#),
        (#"{"prompt": "p"}"#, #"field "text": missing (expected "text": a string, or "messages": a list of messages)"#),
    ])
    func languageModelingErrors(line: String, message: String) {
        let u = write("lm.jsonl", [#"{"text": "fine"}"#, "", line])
        let e = datasetError { _ = try DatasetLoader.load(u) }  // the type is detected from line 1
        #expect(e?.description == "\(u.relativePath):3: \(message)")
    }

    @Test(arguments: [
        (#"{"prompt": "p", "completion": "c", "label": 1}"#, #"field "label": expected a bool (true or false), got number"#),
        (#"{"prompt": "p", "completion": "c"}"#, #"field "label": missing (expected a bool (true or false))"#),
        (#"{"prompt": "p", "completion": [{"role": "assistant", "content": "a"}], "label": true}"#,
         #"field "completion": expected a string, as "prompt" is, got a list of messages"#),
        (#"{"completion": "c", "label": true}"#, #"field "prompt": missing (expected a string or a list of messages)"#),
    ])
    func unpairedErrors(line: String, message: String) {
        let u = write("kto.jsonl", [line])
        let e = datasetError { _ = try DatasetLoader.load(u, as: .unpairedPreference) }
        #expect(e?.description == "\(u.relativePath):1: \(message)")
    }

    @Test(arguments: [
        (#"{"prompt": "p", "completions": ["a", "b"], "labels": [true]}"#, #"field "labels": expected one bool per completion (2), got 1"#),
        (#"{"prompt": "p", "completions": ["a", 2], "labels": [true, true]}"#, #"field "completions[1]": expected a string, got number"#),
        (#"{"prompt": "p", "completions": ["a"], "labels": ["yes"]}"#, #"field "labels[0]": expected a bool (true or false), got string"#),
        (#"{"prompt": "p", "completions": "a", "labels": [true]}"#, #"field "completions": expected a list of strings, got string"#),
        (#"{"completions": ["a"], "labels": [true]}"#, #"field "prompt": missing (expected a string)"#),
    ])
    func stepwiseErrors(line: String, message: String) {
        let u = write("prm.jsonl", [line])
        let e = datasetError { _ = try DatasetLoader.load(StepwiseSupervisionExample.self, from: u) }
        #expect(e?.description == "\(u.relativePath):1: \(message)")
    }

    @Test func undetectableRecordAndMissingFile() {
        let u = write("x.jsonl", [#"{"question": "q"}"#])
        let e = datasetError { _ = try DatasetLoader.load(u) }
        #expect(e?.line == 1 && e?.field == nil && e?.message.hasPrefix("cannot tell the dataset type from the fields [\"question\"]") == true)
        let missing = URL(fileURLWithPath: "/nonexistent/none.jsonl")
        let m = datasetError { _ = try DatasetLoader.load(missing) }
        #expect(m?.file == "/nonexistent/none.jsonl" && m?.line == nil)
    }

    @Test func skipBadRecordsCountsThemAndKeepsTheFirstErrors() throws {
        var lines: [String] = []
        for i in 0..<10 { lines.append(i % 3 == 1 ? #"{"prompt": "p", "chosen": \#(i)}"# : #"{"prompt": "p\#(i)", "chosen": "c", "rejected": "r"}"#) }
        let u = write("pref.jsonl", lines)
        #expect(datasetError { _ = try DatasetLoader.load(u) }?.line == 2)
        let d = try DatasetLoader.load(u, options: LoadOptions(skipBadRecords: true, maxReportedErrors: 2))
        #expect(d.report.loaded == 7 && d.report.skipped == 3)
        #expect(d.report.errors.map(\.line) == [2, 5])
        #expect(d.report.errors[0].field == "chosen")
        #expect(d.report.description.contains("3 bad records skipped") && d.report.description.contains("and 1 more"))
        let prompts = d.examples.compactMap { e -> String? in
            if case .preference(let p) = e, case .text(let t)? = p.prompt { return t } else { return nil }
        }
        #expect(prompts == ["p0", "p2", "p3", "p5", "p6", "p8", "p9"])
    }

    @Test func aRequiredTypeOverridesDetection() {
        let u = write("lm.jsonl", [#"{"text": "The sky is blue."}"#])
        let e = datasetError { _ = try DatasetLoader.load(u, as: .preference) }
        #expect(e?.description == #"\#(u.relativePath):1: field "chosen": missing (expected a string or a list of messages)"#)
        let typed = datasetError { _ = try DatasetLoader.load(PromptOnlyExample.self, from: u) }
        #expect(typed?.field == "prompt" && typed?.line == 1)
    }

    @Test func detectionFromKeys() {
        #expect(DatasetType.detect(keys: ["text"]) == .languageModeling)
        #expect(DatasetType.detect(keys: ["messages"]) == .languageModeling)
        #expect(DatasetType.detect(keys: ["prompt"]) == .promptOnly)
        #expect(DatasetType.detect(keys: ["prompt", "completion"]) == .promptCompletion)
        #expect(DatasetType.detect(keys: ["chosen", "rejected"]) == .preference)
        #expect(DatasetType.detect(keys: ["prompt", "chosen", "rejected", "margin"]) == .preference)
        #expect(DatasetType.detect(keys: ["prompt", "completion", "label"]) == .unpairedPreference)
        #expect(DatasetType.detect(keys: ["prompt", "completions", "labels"]) == .stepwiseSupervision)
        #expect(DatasetType.detect(keys: ["id"]) == nil)
    }
}
