import ArgumentParser

/// `tether label ...`: human preference labelling, stored in one SQLite file and exported as TRL data.
struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Label your own preferences: a web app where people compare two answers, exported as TRL data.",
        subcommands: [LabelServeCommand.self, LabelImportCommand.self, LabelUserCommand.self, LabelExportCommand.self, LabelBenchCommand.self])
}

/// The `--db` option every label command takes.
struct LabelDatabaseOption: ParsableArguments {
    @Option(help: "The labelling database (an SQLite file; created if missing). It holds the whole state.")
    var db: String
}
