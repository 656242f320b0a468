import ArgumentParser
import Tether

@main
struct TetherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether",
        abstract: "Align language models on a CPU, in Swift.",
        subcommands: [QuickstartCommand.self, DataCommand.self, TokenizerCommand.self, PretrainCommand.self, SFTCommand.self,
                      RewardCommand.self, PRMCommand.self, DPOCommand.self, KTOCommand.self, ORPOCommand.self,
                      EvalCommand.self, ExperimentCommand.self, GenerateCommand.self, TokenizeCommand.self, LabelCommand.self,
                      BenchCommand.self])
}
