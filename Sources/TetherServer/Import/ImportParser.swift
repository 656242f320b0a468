import Crypto
import Foundation
import TetherAlign

/// One candidate answer of an imported row: a completion (a string, or a message list when the prompt is one) and where it came from.
public struct ImportCandidate: Sendable, Equatable, Codable {
    /// The completion, as TRL writes it: a string, or a list of `{"role", "content"}` messages.
    public var completion: JSONValue
    /// The model or person that wrote it (the optional `sources` / `chosen_source` / `rejected_source` columns).
    public var source: String?

    /// A candidate.
    public init(completion: JSONValue, source: String? = nil) {
        self.completion = completion
        self.source = source
    }
}

/// One row of an import file, validated: a prompt, its candidates (none for a prompt-only row) and an optional gold answer.
public struct ImportRow: Sendable, Equatable {
    /// The prompt: a string or a message list.
    public var prompt: JSONValue
    /// Two or more candidates; empty for a prompt-only row, whose candidates a model samples.
    public var candidates: [ImportCandidate]
    /// Index into `candidates` of the known better answer (the optional `gold` column), for measuring accuracy.
    public var gold: Int?
    /// 1-based line in the file.
    public var line: Int

    /// A row.
    public init(prompt: JSONValue, candidates: [ImportCandidate], gold: Int? = nil, line: Int) {
        self.prompt = prompt
        self.candidates = candidates
        self.gold = gold
        self.line = line
    }

    /// SHA-256 of the row's prompt, candidates and sources in a canonical JSON form: equal rows hash equal, so a re-import adds nothing.
    public var contentHash: String {
        struct Canonical: Encodable { var prompt: JSONValue; var candidates: [ImportCandidate] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Canonical(prompt: prompt, candidates: candidates))) ?? Data()
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

/// Parses label-import files: TRL rows `prompt` + `completions`, `prompt` + `chosen` + `rejected`, or `prompt` alone.
///
/// Optional columns: `sources` (one string or null per completion), `chosen_source` / `rejected_source`,
/// and `gold` (index of the known better candidate; for chosen/rejected rows 0 is `chosen`).
/// Every error names the file, the line and the field.
public enum ImportParser {
    /// Longest line accepted (a guard against a binary file, not a limit on real answers).
    public static let maxLineBytes = 8 << 20

    /// Parses every non-blank line of `data`; the first bad line throws.
    public static func parse(_ data: Data, file: String) throws(DatasetError) -> [ImportRow] {
        var rows: [ImportRow] = []
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            lineNumber += 1
            var line = data[start..<end]
            start = end == data.endIndex ? end : data.index(after: end)
            if line.last == 0x0D { line = line.dropLast() }
            if lineNumber == 1 && line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do throws(DatasetError) {
                rows.append(try parseLine(Data(line), line: lineNumber))
            } catch {
                var e = error
                e.file = file
                e.line = lineNumber
                throw e
            }
        }
        return rows
    }

    /// Parses one line (a JSON object); errors carry the field but not yet the file.
    public static func parseLine(_ data: Data, line: Int) throws(DatasetError) -> ImportRow {
        guard data.count <= maxLineBytes else {
            throw DatasetError(field: nil, "line is \(data.count) bytes; at most \(maxLineBytes) are accepted")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw DatasetError(field: nil, "not valid JSON")
        }
        guard case .object(let f) = value else {
            throw DatasetError(field: nil, "expected a JSON object, got \(value.typeName)")
        }
        guard let prompt = f["prompt"] else {
            throw DatasetError(field: "prompt", "missing (expected a string or a list of messages)")
        }
        _ = try PromptOnlyExample(fields: ["prompt": prompt])
        if f["completion"] != nil {
            throw DatasetError(field: "completion", "a label import needs \"completions\" (a list of two or more candidates), not one \"completion\"")
        }
        var candidates: [ImportCandidate] = []
        if let cs = f["completions"] {
            if f["chosen"] != nil || f["rejected"] != nil {
                throw DatasetError(field: "completions", "a row has either \"completions\" or \"chosen\" and \"rejected\", not both")
            }
            guard case .array(let items) = cs else {
                throw DatasetError(field: "completions", "expected a list of two or more candidates, got \(cs.typeName)")
            }
            guard items.count >= 2 else {
                throw DatasetError(field: "completions", "expected two or more candidates, got \(items.count)")
            }
            var sources: [String?] = items.map { _ in nil }
            if let s = f["sources"], s != .null {
                guard case .array(let ss) = s, ss.count == items.count else {
                    throw DatasetError(field: "sources", "expected a list of \(items.count) strings (one per completion), got \(describe(s))")
                }
                for (i, v) in ss.enumerated() {
                    switch v {
                    case .string(let name): sources[i] = name
                    case .null: break
                    default: throw DatasetError(field: "sources[\(i)]", "expected a string or null, got \(v.typeName)")
                    }
                }
            }
            for (i, c) in items.enumerated() {
                try validateCompletion(prompt: prompt, completion: c, field: "completions[\(i)]")
                candidates.append(ImportCandidate(completion: c, source: sources[i]))
            }
        } else if f["chosen"] != nil || f["rejected"] != nil {
            _ = try PreferenceExample(fields: ["prompt": prompt, "chosen": f["chosen"] ?? .null, "rejected": f["rejected"] ?? .null]
                .filter { $0.value != .null })
            candidates = [
                ImportCandidate(completion: f["chosen"]!, source: try optionalString(f["chosen_source"], field: "chosen_source")),
                ImportCandidate(completion: f["rejected"]!, source: try optionalString(f["rejected_source"], field: "rejected_source")),
            ]
        }
        var gold: Int?
        if let g = f["gold"], g != .null {
            guard !candidates.isEmpty else {
                throw DatasetError(field: "gold", "a prompt-only row has no candidates for a gold answer to point at")
            }
            guard case .number(let d) = g, d.rounded() == d, d >= 0, d < Double(candidates.count) else {
                throw DatasetError(field: "gold", "expected the index (0 to \(candidates.count - 1)) of the better candidate, got \(describe(g))")
            }
            gold = Int(d)
        }
        return ImportRow(prompt: prompt, candidates: candidates, gold: gold, line: line)
    }

    /// Checks a completion against the prompt with TetherAlign's own validation, renaming its field to `field`.
    static func validateCompletion(prompt: JSONValue, completion: JSONValue, field: String) throws(DatasetError) {
        do throws(DatasetError) {
            _ = try PromptCompletionExample(fields: ["prompt": prompt, "completion": completion])
        } catch {
            var e = error
            if let f = e.field, f.hasPrefix("completion") { e.field = field + f.dropFirst("completion".count) }
            throw e
        }
    }

    static func optionalString(_ v: JSONValue?, field: String) throws(DatasetError) -> String? {
        switch v {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?: throw DatasetError(field: field, "expected a string, got \(other.typeName)")
        }
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .number(let d): return d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .array(let a): return "a list of \(a.count)"
        default: return v.typeName
        }
    }
}
