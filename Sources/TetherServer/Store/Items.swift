import Foundation
import GRDB
import TetherAlign

/// What an import did.
public struct ImportSummary: Sendable, Equatable, CustomStringConvertible {
    /// Rows added as new items.
    public var added = 0
    /// Rows already in the project (same content hash), not added again.
    public var duplicates = 0
    /// Pairs created for the new items (n candidates give n(n-1)/2 pairs).
    public var pairs = 0

    /// One line.
    public var description: String {
        "\(added) items added (\(pairs) pairs), \(duplicates) already present"
    }
}

extension LabelStore {
    /// Adds `rows` to project `project` (created if missing) in one transaction: all rows, or none.
    ///
    /// A row whose content hash the project holds already is counted as a duplicate and skipped, so
    /// importing a file twice adds nothing the second time. Rows need two or more candidates by now
    /// (prompt-only rows are sampled first); a row with fewer throws naming the file and line.
    public func importRows(_ rows: [ImportRow], project: String, file: String) throws -> ImportSummary {
        try Self.validateName(project, field: "project")
        for r in rows where r.candidates.count < 2 {
            throw DatasetError(field: "completions", "expected two or more candidates, got \(r.candidates.count)"
                               + " (a prompt-only row needs --model to sample them)", file: file, line: r.line)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json(_ v: JSONValue) throws -> String { String(decoding: try encoder.encode(v), as: UTF8.self) }
        return try pool.write { db in
            let p = try Self.createProject(db, project)
            var summary = ImportSummary()
            var seen = Set<String>()
            for r in rows {
                let hash = r.contentHash
                let exists = try Int.fetchOne(db, sql: "SELECT 1 FROM items WHERE project_id = ? AND content_hash = ?",
                                              arguments: [p.id, hash]) != nil
                if exists || !seen.insert(hash).inserted { summary.duplicates += 1; continue }
                try db.execute(sql: """
                    INSERT INTO items (project_id, content_hash, prompt_json, gold, source_file, source_line, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [p.id, hash, try json(r.prompt), r.gold, file, r.line, Self.now()])
                let item = db.lastInsertedRowID
                var ids: [Int64] = []
                for (i, c) in r.candidates.enumerated() {
                    try db.execute(sql: "INSERT INTO candidates (item_id, position, completion_json, source) VALUES (?, ?, ?, ?)",
                                   arguments: [item, i, try json(c.completion), c.source])
                    ids.append(db.lastInsertedRowID)
                }
                for i in ids.indices { for j in ids.indices where j > i {
                    // A pair has a gold winner only when the gold candidate is one of its two.
                    let gold: Int64? = r.gold.flatMap { g in g == i || g == j ? ids[g] : nil }
                    try db.execute(sql: "INSERT INTO pairs (item_id, project_id, first_id, second_id, gold_winner) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [item, p.id, ids[i], ids[j], gold])
                    summary.pairs += 1
                } }
                summary.added += 1
            }
            // New pairs have no annotators yet, so all of them want some.
            try db.execute(sql: "UPDATE projects SET open_pairs = open_pairs + ? WHERE id = ?", arguments: [summary.pairs, p.id])
            return summary
        }
    }

    /// Numbers of items, pairs and live labels in a project.
    public func counts(project: String) throws -> (items: Int, pairs: Int, labels: Int) {
        try pool.read { db in
            guard let p = try Self.project(db, name: project) else { throw LabelError(.notFound, "no project \"\(project)\"") }
            let items = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items WHERE project_id = ?", arguments: [p.id]) ?? 0
            let pairs = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pairs WHERE project_id = ?", arguments: [p.id]) ?? 0
            let labels = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM labels l JOIN pairs p ON p.id = l.pair_id WHERE p.project_id = ? AND l.retracted_at IS NULL
                """, arguments: [p.id]) ?? 0
            return (items, pairs, labels)
        }
    }
}
