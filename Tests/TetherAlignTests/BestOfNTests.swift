import Foundation
import Testing
import Tether
import TetherAlign

/// Best-of-N selectors on hand-made scores, and reading chain solutions back.
@Suite struct BestOfNTests {
    func pick(_ s: BestOfNSelector, _ c: [BestOfNCandidate]) -> Int {
        var rng = RandomGenerator(seed: 0)
        return s.select(c, rng: &rng)
    }

    @Test func outcomeRewardPicksTheHighestScoreAndTheEarliestOfEquals() {
        let c = [0.2, 0.9, 0.5, 0.9].map { BestOfNCandidate(answer: 1, outcomeScore: $0) }
        #expect(pick(.outcomeReward, c) == 1)
        #expect(pick(.outcomeReward, [BestOfNCandidate(answer: nil, outcomeScore: .nan), c[2]]) == 1)
    }

    @Test func processRewardAggregatesStepsByMinProductOrLast() {
        let even = BestOfNCandidate(answer: 1, stepScores: [0.9, 0.9, 0.9])          // min 0.9, product 0.729, last 0.9
        let oneWeak = BestOfNCandidate(answer: 2, stepScores: [0.99, 0.99, 0.85])     // min 0.85, product 0.833
        let badStart = BestOfNCandidate(answer: 3, stepScores: [0.1, 0.95])           // min 0.1, last 0.95
        let none = BestOfNCandidate(answer: 4, stepScores: [])                         // no step: 0
        let c = [none, even, oneWeak, badStart]
        #expect(pick(.processReward(.min), c) == 1)
        #expect(pick(.processReward(.product), c) == 2)
        #expect(pick(.processReward(.last), c) == 3)
        #expect(StepScoreAggregation.allCases.allSatisfy { $0.aggregate([]) == 0 })
        #expect(abs(StepScoreAggregation.product.aggregate([0.5, 0.5]) - 0.25) < 1e-7)
    }

    @Test func majorityVotePicksTheCommonestAnswerAndSkipsMissingOnes() {
        func c(_ answers: [Int?]) -> [BestOfNCandidate] { answers.map { BestOfNCandidate(answer: $0) } }
        #expect(pick(.majorityVote, c([7, 5, 5, nil, nil, nil])) == 1)   // nil is not an answer, however many
        #expect(pick(.majorityVote, c([nil, 3, 5, 5, 3])) == 1)           // a tie: the answer seen first
        #expect(pick(.majorityVote, c([9, 4, 4, 4])) == 1)
        #expect(pick(.majorityVote, c([nil, nil])) == 0)
    }

    @Test func randomIsSeededAndUniformEnough() {
        let c = (0..<4).map { BestOfNCandidate(answer: $0) }
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        let x = (0..<400).map { _ in BestOfNSelector.random.select(c, rng: &a) }
        #expect(x == (0..<400).map { _ in BestOfNSelector.random.select(c, rng: &b) })
        for i in 0..<4 { #expect(x.filter { $0 == i }.count > 60) }
    }

    @Test func accuracyCountsEveryGroupOfEveryProblem() {
        // Problem 0 (answer 1): the ORM likes the wrong samples; problem 1 (answer 2): the right ones.
        let p0 = [(1, 0.1), (0, 0.9), (1, 0.2), (0, 0.8)].map { BestOfNCandidate(answer: $0.0, outcomeScore: Float($0.1)) }
        let p1 = [(2, 0.9), (2, 0.8), (0, 0.1), (0, 0.2)].map { BestOfNCandidate(answer: $0.0, outcomeScore: Float($0.1)) }
        var rng = RandomGenerator(seed: 1)
        func acc(_ n: Int, _ s: BestOfNSelector) -> Double { BestOfN.accuracy([p0, p1], answers: [1, 2], budget: n, selector: s, rng: &rng) }
        #expect(acc(1, .outcomeReward) == 0.5)                 // 4 right picks of 8
        #expect(acc(2, .outcomeReward) == 0.25)                // p0: both groups pick a 0; p1: [2, 2] right, [0, 0] wrong
        #expect(acc(4, .outcomeReward) == 0.5)                 // p0 picks index 1 (wrong), p1 index 0 (right)
        #expect(acc(4, .majorityVote) == 1.0)                  // ties broken by first appearance: 1 in p0, 2 in p1
        #expect(BestOfN.oracle([p0, p1], answers: [1, 2], budget: 1) == 0.5)
        #expect(BestOfN.oracle([p0, p1], answers: [1, 2], budget: 2) == 0.75)
        #expect(BestOfN.oracle([p0, p1], answers: [1, 2], budget: 4) == 1.0)
    }

    @Test func chainTextReadsStepsAndTheFinalAnswer() {
        let text = "17 + 24 = 41\n 41 - 35 = 6 \n\nThe answer is 6.\n"
        #expect(ChainText.steps(text) == ["17 + 24 = 41", "41 - 35 = 6", "The answer is 6."])
        #expect(ChainText.finalAnswer(text) == 6)
        #expect(ChainText.finalAnswer("17 + 24 = 41\n") == nil)
        #expect(ChainText.finalAnswer("The answer is six.") == nil)
        #expect(ChainText.completion(["a", "b"]) == "a\nb\n" && ChainText.prompt("What is 1 + 2?") == "What is 1 + 2?\n")
    }
}
