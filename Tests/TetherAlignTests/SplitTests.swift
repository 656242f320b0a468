import Foundation
import Testing
import TetherAlign

@Suite struct SplitTests {
    let items = Array(0..<100)

    @Test func shuffleIsAPermutationFixedBySeed() {
        let a = DataOrder.shuffled(items, seed: 7)
        #expect(a == DataOrder.shuffled(items, seed: 7))
        #expect(a != DataOrder.shuffled(items, seed: 8))
        #expect(a != items && a.sorted() == items)
    }

    @Test func splitByFractionAndCountIsDeterministicAndDisjoint() throws {
        let (train, eval) = try DataOrder.trainEvalSplit(items, eval: .fraction(0.105), seed: 3)
        #expect(eval.count == 11 && train.count == 89)  // 10.5 rounds up
        #expect(Set(train).isDisjoint(with: eval) && (train + eval).sorted() == items)
        let again = try DataOrder.trainEvalSplit(items, eval: .fraction(0.105), seed: 3)
        #expect(again.train == train && again.eval == eval)
        let other = try DataOrder.trainEvalSplit(items, eval: .fraction(0.105), seed: 4)
        #expect(other.eval != eval)
        let byCount = try DataOrder.trainEvalSplit(items, eval: .count(5), seed: 3)
        #expect(byCount.eval.count == 5 && byCount.train.count == 95)
        let tail = try DataOrder.trainEvalSplit(items, eval: .count(5), seed: 3, shuffle: false)
        #expect(tail.eval == [95, 96, 97, 98, 99] && tail.train == Array(0..<95))
    }

    @Test func badSplitSizesAreErrors() {
        for size in [SplitSize.fraction(0), .fraction(1), .fraction(-0.5), .count(0), .count(100)] {
            let e = datasetError { _ = try DataOrder.trainEvalSplit(items, eval: size, seed: 1) }
            #expect(e?.field == "eval_size", "\(size)")
        }
    }

    @Test func truncationKeepsTheChosenEnd() {
        let e = TokenizedExample(ids: [1, 2, 3, 4, 5], lossMask: [false, false, true, true, true])
        #expect(e.truncated(to: 3) == TokenizedExample(ids: [1, 2, 3], lossMask: [false, false, true]))
        #expect(e.truncated(to: 3, keeping: .keepEnd) == TokenizedExample(ids: [3, 4, 5], lossMask: [true, true, true]))
        #expect(e.truncated(to: 9) == e)
        #expect(e.labels == [-100, -100, 3, 4, 5] && e.trainedTokens == 3)
    }
}
