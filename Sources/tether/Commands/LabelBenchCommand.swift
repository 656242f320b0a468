import ArgumentParser
import Foundation
import TetherServer

/// `tether label bench`: concurrent annotators on loopback; prints labels/s and latency, and checks nothing was lost.
struct LabelBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test the labelling server on loopback (a new database in a temporary folder).")

    @Option(help: "Concurrent annotators.")
    var clients = 8

    @Option(help: "Labels to submit in all.")
    var labels = 2000

    @Option(help: "Annotators per pair (K).")
    var annotatorsPerPair = 2

    @Option(help: "Pairs in the project (default: just enough for the labels); more show how the next-pair choice scales.")
    var pairs: Int?

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-label-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await LoadBench.run(clients: clients, labels: labels, annotatorsPerPair: annotatorsPerPair, pairs: pairs,
                                             folder: folder)
        print(result)
        guard result.ok else { throw ValidationError("labels were lost, duplicated or over-assigned (see above)") }
    }
}
