import ArgumentParser
import Foundation
import Hummingbird
import TetherServer

/// `tether label serve`: run the labelling web app on one SQLite file.
struct LabelServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the labelling pages and JSON API (create the first admin with `tether label user add`).")

    @OptionGroup var database: LabelDatabaseOption

    @Option(help: "Address to listen on (keep 127.0.0.1 unless a TLS proxy sits in front).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one, printed at start).")
    var port = 8080

    @Option(help: "Hours a login lasts.")
    var sessionHours = 8.0

    func run() async throws {
        let store = try LabelStore(path: database.db)
        let (journal, synchronous) = try store.durability()
        try store.purgeExpired()  // old sessions and failed logins; every login purges again
        let server = LabelServer(store: store, sessionLifetime: sessionHours * 3600)
        let app = try server.application(host: host, port: port) { port in
            // One line others (tests, scripts) can wait for.
            let line = "listening on http://\(host):\(port) (db \(database.db), journal \(journal), synchronous \(synchronous == 2 ? "FULL" : String(synchronous)))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await app.runService()
    }
}
