import ArgumentParser
import Tether

@main
struct TetherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether",
        abstract: "Align language models on a CPU, in Swift.",
        subcommands: [QuickstartCommand.self, DataCommand.self, TokenizerCommand.self, PretrainCommand.self, SFTCommand.self,
                      RewardCommand.self, PRMCommand.self, DPOCommand.self, KTOCommand.self, ORPOCommand.self,
                      EvalCommand.self, GenerateCommand.self, TokenizeCommand.self, BenchCommand.self, ExperimentCommand.self])
}
