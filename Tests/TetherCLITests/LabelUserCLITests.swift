import Foundation
import Testing
import TetherServer

/// `tether label user add` run as a child process, its standard input a pipe (not a terminal, so no prompt).
@Suite struct LabelUserCLITests {
    /// Runs `tether label user add ARGS` with `input` on standard input; returns the exit status and everything printed.
    func addUser(_ args: [String], input: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try tetherExecutable()
        process.arguments = ["label", "user", "add"] + args
        let stdin = Pipe(), out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = out
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func userAddReadsThePasswordFromStandardInput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tether-label-user-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("labels.sqlite").path

        let added = try addUser(["carol", "--role", "admin", "--db", db], input: "password-carol\nnot read\n")
        #expect(added.status == 0 && added.output.contains("added admin carol"), "\(added)")
        let store = try LabelStore(path: db)
        #expect(try store.login(name: "carol", password: "password-carol", client: "test").0.user.role == .admin,
                "only the first line is the password")

        let empty = try addUser(["dave", "--db", db], input: "")
        #expect(empty.status != 0 && empty.output.contains("expected the password on the first line of standard input"), "\(empty)")
        let short = try addUser(["erin", "--db", db], input: "short\n")
        #expect(short.status != 0 && short.output.contains("password: expected 8 to 72 bytes"), "\(short)")
        #expect(try store.users().map(\.name) == ["carol"], "nothing is added when the password is refused")
    }
}
