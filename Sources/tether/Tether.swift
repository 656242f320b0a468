import ArgumentParser
import Tether

@main
struct TetherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether",
        abstract: "Align language models on a CPU, in Swift.",
        subcommands: [DataCommand.self, TokenizerCommand.self, PretrainCommand.self, SFTCommand.self, EvalCommand.self, GenerateCommand.self, TokenizeCommand.self, BenchCommand.self, LabelCommand.self])
}
