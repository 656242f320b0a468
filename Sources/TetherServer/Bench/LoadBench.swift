import Foundation
import GRDB
import Hummingbird

/// A load test on loopback: concurrent annotators label through the JSON API; then the database is checked.
public enum LoadBench {
    /// What a run measured and verified.
    public struct Result: Sendable, CustomStringConvertible {
        /// Concurrent clients.
        public var clients: Int
        /// Labels acknowledged with 201.
        public var acknowledged: Int
        /// Live labels found in the database afterwards.
        public var stored: Int
        /// (pair, annotator) shown more than once outside the repeat mechanism (must be 0).
        public var duplicateAssignments: Int
        /// Pairs assigned to more than K annotators (must be 0).
        public var overfilledPairs: Int
        /// Wall time of the labelling phase, seconds.
        public var seconds: Double
        /// Latency of one next+submit round trip, seconds: median and 99th percentile.
        public var p50: Double, p99: Double
        /// Requests that failed (any status other than 200/201/204).
        public var errors: Int

        /// Labels per second.
        public var labelsPerSecond: Double { Double(acknowledged) / seconds }
        /// True when nothing was lost, duplicated or overfilled.
        public var ok: Bool { acknowledged == stored && duplicateAssignments == 0 && overfilledPairs == 0 && errors == 0 }

        /// The figures, one line.
        public var description: String {
            String(format: "%d clients: %d labels in %.2f s = %.0f labels/s; next+submit p50 %.1f ms, p99 %.1f ms; "
                   + "stored %d, duplicate assignments %d, overfilled pairs %d, errors %d",
                   clients, acknowledged, seconds, labelsPerSecond, p50 * 1000, p99 * 1000, stored, duplicateAssignments,
                   overfilledPairs, errors)
        }
    }

    /// Runs `clients` annotators until `labels` labels are acknowledged, against a server on a new database in `folder`.
    ///
    /// The project gets `pairs` pairs, or (when that is nil or too few) enough that the queues never run dry; a larger
    /// project shows whether choosing the next pair slows as a project grows.
    public static func run(clients: Int, labels: Int, annotatorsPerPair: Int = 2, pairs: Int? = nil, folder: URL) async throws -> Result {
        precondition(clients >= 1 && labels >= 1 && annotatorsPerPair >= 1, "LoadBench: clients \(clients), labels \(labels)")
        let store = try LabelStore(path: folder.appendingPathComponent("bench.sqlite").path)
        try store.createProject("bench", annotatorsPerPair: annotatorsPerPair, repeatShare: 0.05)
        // Enough pairs that the queues never run dry: labels / K, plus slack.
        let pairs = max(pairs ?? 0, labels / min(annotatorsPerPair, clients) + labels / 10 + 10)
        let rows = (0..<pairs).map { i in
            ImportRow(prompt: .string("Question \(i)?"), candidates: [ImportCandidate(completion: .string("answer \(i) from m1"), source: "m1"),
                                                                     ImportCandidate(completion: .string("answer \(i) from m2"), source: "m2")], line: i + 1)
        }
        _ = try store.importRows(rows, project: "bench", file: "bench")
        for c in 0..<clients { try store.addUser("annotator\(c)", role: .annotator, password: "bench-password-\(c)", cost: 4) }

        let ports = AsyncStream<Int>.makeStream()
        let app = try LabelServer(store: store).application(host: "127.0.0.1", port: 0, logLevel: .critical) { port in
            ports.continuation.yield(port)
        }
        let serverTask = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { serverTask.cancel() }
        var it = ports.stream.makeAsyncIterator()
        guard let port = await it.next() else { throw LabelError(.invalid, "server did not start") }
        let base = URL(string: "http://127.0.0.1:\(port)")!

        let counter = Counter(target: labels)
        let start = Date()
        let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for c in 0..<clients {
                group.addTask {
                    let client = LabelClient(base: base)
                    try await client.login("annotator\(c)", "bench-password-\(c)")
                    var latencies: [Double] = [], errors = 0
                    while counter.claim() {
                        let t0 = Date()
                        guard let task = try await client.next("bench") else { counter.release(); break }
                        let choice: Choice = task.assignment % 3 == 0 ? .b : .a
                        let r = try await client.submit("bench", .init(assignment: task.assignment, choice: choice, strength: .clearly))
                        if r.status == 201 { latencies.append(Date().timeIntervalSince(t0)) } else { errors += 1; counter.release() }
                    }
                    return (latencies, errors)
                }
            }
            var all: [([Double], Int)] = []
            for try await r in group { all.append(r) }
            return all
        }
        let seconds = Date().timeIntervalSince(start)
        let latencies = results.flatMap(\.0).sorted()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))] }
        let (stored, duplicates, overfilled) = try await store.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM labels WHERE retracted_at IS NULL") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM assignments WHERE is_repeat = 0 GROUP BY pair_id, user_id HAVING COUNT(*) > 1)") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM assignments WHERE is_repeat = 0 GROUP BY pair_id HAVING COUNT(*) > ?)",
                              arguments: [annotatorsPerPair]) ?? -1)
        }
        return Result(clients: clients, acknowledged: latencies.count, stored: stored, duplicateAssignments: duplicates,
                      overfilledPairs: overfilled, seconds: seconds, p50: percentile(0.5), p99: percentile(0.99),
                      errors: results.map(\.1).reduce(0, +))
    }

    /// Hands out label slots until the target is reached.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var claimed = 0
        let target: Int
        init(target: Int) { self.target = target }
        func claim() -> Bool { lock.withLock { guard claimed < target else { return false }; claimed += 1; return true } }
        func release() { lock.withLock { claimed -= 1 } }
    }
}
