import Foundation
import Testing
@testable import TetherServer

@Suite struct LoadTests {
    @Test func concurrentAnnotatorsLoseNoLabelAndOverfillNoPair() async throws {
        // The small version of `tether label bench` (8 clients, 2,000 labels; figures in README).
        let result = try await LoadBench.run(clients: 6, labels: 300, annotatorsPerPair: 2, folder: try temporaryFolder())
        print("label load test: \(result)")
        #expect(result.acknowledged == 300)
        #expect(result.stored == result.acknowledged && result.duplicateAssignments == 0 && result.overfilledPairs == 0 && result.errors == 0)
        #expect(result.ok && result.p99 >= result.p50 && result.labelsPerSecond > 0)
    }
}
