import Foundation

/// One line of `metrics.jsonl`: TRL's metric names to values.
public typealias MetricRecord = [String: Double]

/// Metric names and the `metrics.jsonl` format.
public enum Metrics {
    /// Keys that depend on wall-clock time, so differ between otherwise identical runs.
    public static let timingKeys: Set<String> = ["tokens_per_second", "elapsed_seconds"]
    /// Keys written as integers.
    static let integerKeys: Set<String> = ["step", "num_tokens"]

    /// One JSON object with sorted keys; integral counters as integers, other numbers in Swift's shortest
    /// round-trip form (so a line is the same bit for bit when the values are), non-finite values as null.
    public static func jsonLine(_ record: MetricRecord) -> String {
        let fields = record.keys.sorted().map { key -> String in
            let v = record[key]!
            let text: String
            if !v.isFinite { text = "null" }
            else if integerKeys.contains(key) && v == v.rounded() && abs(v) < 1e15 { text = String(Int(v)) }
            else { text = "\(v)" }
            return "\"\(key)\": \(text)"
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// Reads `metrics.jsonl` exactly as written (null values are skipped).
    public static func read(_ url: URL) throws -> [MetricRecord] {
        let text = try String(contentsOf: url, encoding: .utf8)
        // JSONDecoder, not JSONSerialization: the latter's NSNumber can be off by an ulp, and lines must read back exactly.
        return try text.split(separator: "\n").map { line in
            try JSONDecoder().decode([String: Double?].self, from: Data(line.utf8)).compactMapValues { $0 }
        }
    }

    /// Writes all records as `metrics.jsonl`, replacing the file atomically.
    static func write(_ records: [MetricRecord], to url: URL) throws {
        let text = records.map { jsonLine($0) + "\n" }.joined()
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    /// Appends one record to `metrics.jsonl`.
    static func append(_ record: MetricRecord, to url: URL) throws {
        let line = Data((jsonLine(record) + "\n").utf8)
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}

/// Sums over the steps since the last metrics line (TRL logs the mean over the logging interval).
struct IntervalSums: Codable, Equatable {
    /// Σ loss sums.
    var lossSum = 0.0
    /// Σ units.
    var units = 0
    /// Σ metric sums.
    var metricSums: [String: Double] = [:]
    /// Input tokens in the interval.
    var inputTokens = 0

    /// Adds one step's sums.
    mutating func add(lossSum: Double, units: Int, inputTokens: Int, metrics: [String: Double]) {
        self.lossSum += lossSum
        self.units += units
        self.inputTokens += inputTokens
        for (k, v) in metrics { metricSums[k, default: 0] += v }
    }

    /// Means over the interval: `loss` and each metric, prefixed.
    func means(prefix: String = "") -> MetricRecord {
        var out: MetricRecord = [prefix + "loss": units == 0 ? 0 : lossSum / Double(units)]
        for (k, v) in metricSums { out[prefix + k] = units == 0 ? 0 : v / Double(units) }
        return out
    }
}
