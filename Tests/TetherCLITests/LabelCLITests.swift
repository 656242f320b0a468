import Foundation
import GRDB
import Testing
@testable import tether
import TetherAlign
import TetherServer

/// `tether label import` (with sampling from a model) and `tether label export`, run as the CLI runs them.
@Suite struct LabelCLITests {
    @Test func importSamplesPromptOnlyRowsAndExportWritesLoadableFiles() async throws {
        let model = try CLISmokeTests().tinyModelFolder()
        let dir = model.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: model) }
        let db = dir.appendingPathComponent("labels.sqlite").path
        let prompts = dir.appendingPathComponent("prompts.jsonl")
        try "{\"prompt\": \"the cat\"}\n{\"prompt\": \"12 + 34 =\"}\n".write(to: prompts, atomically: true, encoding: .utf8)

        #expect { try LabelImportCommand.parse(["--db", db, "--project", "p", prompts.path]).run() } throws: {
            "\($0)" == "\(prompts.path):1: field \"prompt\": a prompt-only row needs --model DIR to sample its candidates"
        }
        try LabelImportCommand.parse(["--db", db, "--project", "p", prompts.path, "--model", model.path, "--n", "3",
                                      "--max-new-tokens", "4", "--annotators-per-pair", "1", "--repeat-share", "0"]).run()
        let store = try LabelStore(path: db)
        let counts = try store.counts(project: "p")
        #expect(counts.items == 2 && counts.pairs == 6, "3 samples per prompt give 3 pairs each")
        let sources = try await store.pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT source FROM candidates") }
        #expect(sources == [model.lastPathComponent])

        let user = try store.addUser("ann", role: .annotator, password: "password-ann", cost: 4)
        while let t = try store.nextPair(user: user, project: "p") {
            try store.submit(LabelInput(assignment: t.assignment, choice: .a, strength: .slightly), user: user)
        }
        let out = dir.appendingPathComponent("export").path
        try LabelExportCommand.parse(["--db", db, "--project", "p", "--out", out]).run()
        let preference = try DatasetLoader.load(PreferenceExample.self, from: URL(fileURLWithPath: out + "/preference.jsonl"))
        #expect(preference.examples.count == 6 && preference.examples.allSatisfy { $0.margin == 1 })
        _ = try DatasetLoader.load(URL(fileURLWithPath: out + "/kto.jsonl"))
        #expect(throws: LabelError.self, "an existing export is never overwritten") {
            try LabelExportCommand.parse(["--db", db, "--project", "p", "--out", out]).run()
        }
    }
}
