import ArgumentParser
import Foundation
import Testing
@testable import tether
import TetherAlign

/// `tether experiment preference-methods`: its flags become the experiment's config; bad ones are refused.
@Suite struct ExperimentPreferenceMethodsTests {
    @Test func flagsOverrideTheDefaults() throws {
        let command = try ExperimentPreferenceMethodsCommand.parse([
            "--methods", "ipo,orpo,kto_pairs", "--steps", "7", "--lr", "orpo=5e-4", "--beta", "ipo=0.25", "--beta", "orpo=0.5",
            "--validation-prompts", "20", "--seed", "3", "--sft-steps", "9"])
        let config = try command.makeConfig()
        #expect(config.methods.map(\.method) == [.ipo, .orpo, .ktoPairs])
        #expect(config.methods.map(\.steps) == [7, 7, 7])
        #expect(config.methods.map(\.learningRate) == [PreferenceMethodsConfig.settings(.ipo).learningRate, 5e-4,
                                                        PreferenceMethodsConfig.settings(.ktoPairs).learningRate])
        #expect(config.methods.map(\.beta) == [0.25, 0.5, PreferenceMethodsConfig.settings(.ktoPairs).beta])
        #expect(config.validationPrompts == 20 && config.seed == 3 && config.sft.maxSteps == 9)
        #expect(try ExperimentPreferenceMethodsCommand.parse([]).makeConfig() == PreferenceMethodsConfig())
    }

    @Test func badFlagsAreRefused() throws {
        for args in [["--methods", "dpo,ppo"], ["--lr", "dpo"], ["--lr", "dpo=-1"], ["--beta", "rlhf=0.1"],
                     ["--validation-prompts", "5000"]] {
            #expect(throws: ValidationError.self, "\(args)") { try ExperimentPreferenceMethodsCommand.parse(args).makeConfig() }
        }
    }
}
