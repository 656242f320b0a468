import Foundation
import Testing
import TetherAlign
@testable import tether

/// `tether experiment prm-vs-orm`: flags reach the config, and bad ones are refused by name.
@Suite struct CLIExperimentTests {
    @Test func flagsOverrideTheDefaults() throws {
        let c = try ExperimentCommand.PRMvsORMCommand.parse(["--seed", "3", "--problems", "7", "--samples", "8",
                                                             "--budgets", "1, 2,8", "--policy-steps", "40",
                                                             "--reward-steps", "20", "--temperature", "0.7"]).effectiveConfig()
        #expect(c.seed == 3 && c.problems == 7 && c.samples == 8 && c.budgets == [1, 2, 8] && c.temperature == 0.7)
        #expect(c.policy.maxSteps == 40 && c.policy.warmupSteps == 2 && c.rewardModel.maxSteps == 20)
        #expect(try ExperimentCommand.PRMvsORMCommand.parse([]).effectiveConfig() == PRMvsORMConfig())
    }

    @Test func badBudgetsAreRefusedByName() {
        for args in [["--budgets", "1,x"], ["--samples", "16", "--budgets", "1,5"], ["--temperature", "0"]] {
            #expect(throws: (any Error).self, "\(args)") { try ExperimentCommand.PRMvsORMCommand.parse(args).effectiveConfig() }
        }
        do { _ = try ExperimentCommand.PRMvsORMCommand.parse(["--samples", "16", "--budgets", "1,5"]).effectiveConfig() } catch {
            #expect("\(error)".contains("budgets"))
        }
    }
}
