import Foundation
import Testing
import TetherServer

/// The built `tether` executable, beside the test bundle (`swift test` builds both into the same folder).
func tetherExecutable() throws -> URL {
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                      Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                      URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug")]
    for dir in candidates {
        let url = dir.appendingPathComponent("tether").standardizedFileURL
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    throw LabelError(.notFound, "no tether executable near \(candidates.map(\.path))")
}

/// `tether label serve` as a child process; `base` is known once it prints its listening line.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let base: URL

    init(db: String) throws {
        process.executableURL = try tetherExecutable()
        process.arguments = ["label", "serve", "--db", db, "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("\n") && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let r = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) else {
            process.terminate()
            throw LabelError(.invalid, "serve printed \(text)")
        }
        base = URL(string: String(text[r]))!
    }

    /// SIGKILL, no chance to flush or checkpoint anything.
    func killNine() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { killNine() } }
}

@Suite struct LabelCrashTests {
    @Test func anAcknowledgedLabelSurvivesKillNine() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-label-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("labels.sqlite").path
        do {
            let store = try LabelStore(path: db)
            let rows = (0..<5).map { ImportRow(prompt: .string("q\($0)"), candidates: [.init(completion: .string("a\($0)")), .init(completion: .string("b\($0)"))], line: $0 + 1) }
            _ = try store.importRows(rows, project: "p", file: "rows")
            try store.addUser("ann", role: .annotator, password: "password-ann", cost: 4)
        }
        let server = try ServeProcess(db: db)
        let client = LabelClient(base: server.base)
        try await client.login("ann", "password-ann")
        var acknowledged: [Int64] = []
        for _ in 0..<3 {
            let t = try #require(try await client.next("p"))
            let r = try await client.submit("p", .init(assignment: t.assignment, choice: .b, reason: "ack \(t.assignment)"))
            #expect(r.status == 201)
            acknowledged.append(t.assignment)
        }
        server.killNine()  // right after the last 201
        #expect(server.process.terminationReason == .uncaughtSignal)
        let reopened = try LabelStore(path: db)
        let stored = try await reopened.pool.read { db in try Int64.fetchAll(db, sql: "SELECT assignment_id FROM labels WHERE retracted_at IS NULL ORDER BY id") }
        #expect(stored == acknowledged)
        #expect(try reopened.durability().journal == "wal")
        #expect(try reopened.durability().synchronous == 2, "synchronous = FULL")
    }
}
