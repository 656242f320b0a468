import Foundation
@testable import TetherServer

/// A new folder under the system's temporary directory.
func temporaryFolder(_ name: String = "tether-label") throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

/// A store in a new temporary folder.
func temporaryStore() throws -> LabelStore {
    try LabelStore(path: try temporaryFolder().appendingPathComponent("labels.sqlite").path)
}

/// JSONL text of `n` two-candidate rows, sources "m1"/"m2", the first `gold` rows with gold = 0.
func pairRows(_ n: Int, gold: Int = 0, offset: Int = 0) -> String {
    (0..<n).map { i in
        let g = i < gold ? ", \"gold\": 0" : ""
        return "{\"prompt\": \"Q\(i + offset)?\", \"completions\": [\"good \(i + offset)\", \"bad \(i + offset)\"], \"sources\": [\"m1\", \"m2\"]\(g)}"
    }.joined(separator: "\n") + "\n"
}

extension LabelStore {
    /// Imports JSONL text as if from `file`.
    @discardableResult
    func importText(_ text: String, project: String, file: String = "rows.jsonl") throws -> ImportSummary {
        try importRows(try ImportParser.parse(Data(text.utf8), file: file), project: project, file: file)
    }

    /// An annotator with a cheap bcrypt cost.
    func annotator(_ name: String, role: Role = .annotator) throws -> User {
        try addUser(name, role: role, password: "password-\(name)", cost: 4)
    }
}
