import ArgumentParser
import Foundation
import TetherServer

/// `tether label export`: a project's labels as TRL preference JSONL and KTO unpaired JSONL.
struct LabelExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write preference.jsonl (prompt, chosen, rejected, margin) and kto.jsonl (prompt, completion, label).",
        discussion: """
        Ties never make a preference row; with --ties desirable both completions count as desirable in kto.jsonl.
        "Both bad" makes no preference row; by default both completions are undesirable in kto.jsonl (--both-bad drop
        leaves them out). margin is the mean strength of the winning votes (1 slightly, 2 clearly, 3 much better) with
        majority, or the Bradley-Terry score difference with bradley-terry. Existing files are never overwritten.
        """)

    @OptionGroup var database: LabelDatabaseOption

    @Option(help: "The project.")
    var project: String

    @Option(help: "Folder to write preference.jsonl and kto.jsonl into (default: <project>-export).")
    var out: String?

    @Option(help: "Keep pairs whose majority outcome has at least this share of the votes (0 to 1).")
    var minAgreement = 0.0

    @Option(help: "Keep pairs with at least this many votes.")
    var minVotes = 1

    @Option(help: "majority or bradley-terry.")
    var aggregate: AggregateMethod = .majority

    @Option(help: "What \"both bad\" becomes in kto.jsonl: undesirable or drop.")
    var bothBad: ExportOptions.BothBad = .undesirable

    @Option(help: "What a tie becomes in kto.jsonl: drop or desirable.")
    var ties: ExportOptions.Ties = .drop

    func run() throws {
        let store = try LabelStore(path: database.db)
        let data = try store.export(project: project, options: ExportOptions(
            aggregate: aggregate, minAgreement: minAgreement, minVotes: minVotes, bothBad: bothBad, ties: ties))
        let folder = URL(fileURLWithPath: out ?? "\(project)-export")
        let files = [("preference.jsonl", data.preference), ("kto.jsonl", data.unpaired)]
        for (name, _) in files where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            throw LabelError(.conflict, "\(folder.appendingPathComponent(name).path) exists; choose another --out (nothing is overwritten)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, rows) in files {
            try Data(ExportedData.jsonLines(rows).utf8).write(to: folder.appendingPathComponent(name), options: .withoutOverwriting)
        }
        print("\(project): \(data.labelledPairs) labelled pairs, \(data.droppedPairs) dropped; "
              + "\(data.preference.count) preference rows, \(data.unpaired.count) kto rows -> \(folder.path)")
    }
}

extension AggregateMethod: ExpressibleByArgument {}
extension ExportOptions.BothBad: ExpressibleByArgument {}
extension ExportOptions.Ties: ExpressibleByArgument {}
