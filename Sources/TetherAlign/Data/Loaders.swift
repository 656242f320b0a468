import Foundation

/// How a loader treats records it cannot use.
public struct LoadOptions: Sendable, Equatable {
    /// Skip bad records (counting them) instead of stopping at the first one.
    public var skipBadRecords: Bool
    /// How many of the skipped records' errors the report keeps.
    public var maxReportedErrors: Int

    /// Options; by default the first bad record is an error.
    public init(skipBadRecords: Bool = false, maxReportedErrors: Int = 5) {
        self.skipBadRecords = skipBadRecords
        self.maxReportedErrors = maxReportedErrors
    }
}

/// What a load did: records kept, records skipped, and the first few errors of the skipped ones.
public struct LoadReport: Sendable, Equatable, CustomStringConvertible {
    /// The file, as the user named it.
    public var file: String
    /// The type the records were read as (detected or required).
    public var datasetType: DatasetType?
    /// Records kept.
    public var loaded = 0
    /// Records skipped because they were bad.
    public var skipped = 0
    /// The first `maxReportedErrors` errors of the skipped records.
    public var errors: [DatasetError] = []

    /// One line, then the kept errors, one per line.
    public var description: String {
        var out = "\(file): \(loaded) records (\(datasetType?.rawValue ?? "unknown type"))"
        if skipped > 0 { out += ", \(skipped) bad records skipped" }
        for e in errors { out += "\n  \(e)" }
        if skipped > errors.count { out += "\n  ... and \(skipped - errors.count) more" }
        return out
    }
}

/// Examples read from a file, with the report of the read.
public struct LoadedDataset<Example: Sendable>: Sendable {
    /// The examples, in file order.
    public var examples: [Example]
    /// What the load did.
    public var report: LoadReport
}

/// Reads TRL-format records from JSONL (streamed line by line) or JSON (a top-level array) files.
///
/// A `.json` file whose first non-blank character is `{` is read as JSON Lines, as the
/// Hugging Face `datasets` library does. Blank lines in JSONL are ignored.
public enum DatasetLoader {
    /// Loads every record of `url` as `type`, or as the type the first good record's keys describe.
    public static func load(_ url: URL, as type: DatasetType? = nil,
                            options: LoadOptions = LoadOptions()) throws(DatasetError) -> LoadedDataset<AnyExample> {
        var examples: [AnyExample] = []
        let report = try stream(url, as: type, options: options) { examples.append($0) }
        return LoadedDataset(examples: examples, report: report)
    }

    /// Loads every record of `url` as `E` (a trainer asking for, say, `PreferenceExample`).
    public static func load<E: DatasetExample>(_: E.Type, from url: URL,
                                               options: LoadOptions = LoadOptions()) throws(DatasetError) -> LoadedDataset<E> {
        var examples: [E] = []
        var report = try records(url, options: options) { (f: [String: JSONValue]) throws(DatasetError) in
            examples.append(try E(fields: f))
        }
        report.datasetType = E.datasetType
        return LoadedDataset(examples: examples, report: report)
    }

    /// Calls `body` with each good record of `url`, in order, without holding the file in memory (JSONL).
    public static func stream(_ url: URL, as type: DatasetType? = nil, options: LoadOptions = LoadOptions(),
                              _ body: (AnyExample) -> Void) throws(DatasetError) -> LoadReport {
        var detected = type
        var report = try records(url, options: options) { (f: [String: JSONValue]) throws(DatasetError) in
            guard let t = detected ?? DatasetType.detect(keys: f.keys) else {
                throw DatasetError(field: nil, "cannot tell the dataset type from the fields \(f.keys.sorted()); "
                                   + "expected text, messages, prompt, completion, chosen/rejected, label or completions/labels")
            }
            body(try AnyExample(fields: f, as: t))
            detected = t
        }
        report.datasetType = detected
        return report
    }

    /// Feeds each record's fields to `parse`; errors get the file and line (or item) and are thrown or counted.
    static func records(_ url: URL, options: LoadOptions,
                        _ parse: ([String: JSONValue]) throws(DatasetError) -> Void) throws(DatasetError) -> LoadReport {
        let name = url.relativePath
        var report = LoadReport(file: name)
        let decoder = JSONDecoder()
        func handle(_ data: Data, line: Int?, item: Int?) throws(DatasetError) {
            do throws(DatasetError) {
                let value: JSONValue
                do { value = try decoder.decode(JSONValue.self, from: data) } catch {
                    throw DatasetError(field: nil, "not valid JSON")
                }
                guard case .object(let fields) = value else {
                    throw DatasetError(field: nil, "expected a JSON object, got \(value.typeName)")
                }
                try parse(fields)
                report.loaded += 1
            } catch {
                var e = error
                e.file = name
                e.line = line
                e.item = item
                guard options.skipBadRecords else { throw e }
                report.skipped += 1
                if report.errors.count < options.maxReportedErrors { report.errors.append(e) }
            }
        }
        let reader: LineReader
        do { reader = try LineReader(url) } catch {
            throw DatasetError(field: nil, "cannot open: \(error.localizedDescription)", file: name)
        }
        if try readerStartsArray(reader, name: name) {
            // A JSON array: read whole, then each item is a record.
            var data = Data()
            while let (chunk, _) = try lineOrThrow(reader, name: name) { data.append(chunk); data.append(0x0A) }
            let items: [JSONValue]
            do { items = try decoder.decode([JSONValue].self, from: data) } catch {
                throw DatasetError(field: nil, "not a valid JSON array of records", file: name)
            }
            let encoder = JSONEncoder()
            for (i, item) in items.enumerated() {
                // Re-encoding one item is cheap next to parsing it, and keeps one code path.
                let d = (try? encoder.encode(item)) ?? Data()
                try handle(d, line: nil, item: i)
            }
        } else {
            while let (line, number) = try lineOrThrow(reader, name: name) {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                try handle(line, line: number, item: nil)
            }
        }
        return report
    }

    private static func readerStartsArray(_ r: LineReader, name: String) throws(DatasetError) -> Bool {
        do { return try r.firstNonBlankByte() == UInt8(ascii: "[") } catch {
            throw DatasetError(field: nil, "cannot read: \(error.localizedDescription)", file: name)
        }
    }

    private static func lineOrThrow(_ r: LineReader, name: String) throws(DatasetError) -> (Data, Int)? {
        do { return try r.next() } catch {
            throw DatasetError(field: nil, "cannot read: \(error.localizedDescription)", file: name)
        }
    }
}

/// Reads a file line by line in 64 KiB chunks, keeping only the current line in memory.
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()
    private var start = 0
    private var eof = false
    private var lineNumber = 0

    init(_ url: URL) throws { handle = try FileHandle(forReadingFrom: url) }
    deinit { try? handle.close() }

    private func fill() throws -> Bool {
        if eof { return false }
        let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
        if chunk.isEmpty { eof = true; return false }
        if start > 0 { buffer.removeSubrange(buffer.startIndex..<(buffer.startIndex + start)); start = 0 }
        buffer.append(chunk)
        return true
    }

    /// The first byte that is not whitespace (without consuming anything), or nil for an empty file.
    func firstNonBlankByte() throws -> UInt8? {
        var i = 0
        while true {
            while i < buffer.count - start {
                let b = buffer[buffer.startIndex + start + i]
                if b != 0x20 && b != 0x0A && b != 0x0D && b != 0x09 && b != 0xEF && b != 0xBB && b != 0xBF { return b }
                i += 1
            }
            if try !fill() { return nil }
        }
    }

    /// The next line without its newline (and a trailing CR) and its 1-based number; nil at the end.
    func next() throws -> (Data, Int)? {
        var scanFrom = start
        while true {
            let base = buffer.startIndex
            if let nl = buffer[(base + scanFrom)...].firstIndex(of: 0x0A) {
                var end = nl
                if end > base + start && buffer[end - 1] == 0x0D { end -= 1 }
                let line = Data(buffer[(base + start)..<end])
                start = nl - base + 1
                lineNumber += 1
                return (stripBOM(line), lineNumber)
            }
            scanFrom = buffer.count
            let before = start
            if try !fill() {
                guard buffer.count > start else { return nil }
                var line = Data(buffer[(buffer.startIndex + start)...])
                if line.last == 0x0D { line.removeLast() }
                start = buffer.count
                lineNumber += 1
                return (stripBOM(line), lineNumber)
            }
            scanFrom -= before - start  // fill() may have dropped consumed bytes
        }
    }

    private func stripBOM(_ line: Data) -> Data {
        lineNumber == 1 && line.starts(with: [0xEF, 0xBB, 0xBF]) ? line.dropFirst(3) : line
    }
}
