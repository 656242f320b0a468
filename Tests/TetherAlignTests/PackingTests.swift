import Foundation
import Testing
import Tether
import TetherAlign

@Suite struct PackingTests {
    func example(_ ids: [Int32], _ mask: [Bool]? = nil) -> TokenizedExample {
        TokenizedExample(ids: ids, lossMask: mask ?? ids.map { _ in true })
    }

    @Test func bestFitDecreasingPlacesEachSequenceInTheTightestRow() {
        // Longest first: 8 -> row 0 (room 2); 6 -> row 1 (room 4); 5 -> row 2 (room 5); 4 -> row 1 (room 4, tightest);
        // 3 -> row 2 (room 5 is the only fit); 2 -> rooms 2 (row 0) and 2 (row 2) tie: the lower row.
        let rows = Packing.bestFitDecreasing(lengths: [5, 3, 8, 2, 4, 6], capacity: 10)
        #expect(rows == [[2, 3], [5, 4], [0, 1]])
        // A first-fit would put the 2 into row 0 too; here best fit differs: 3 goes to the room-3 row, not the first.
        #expect(Packing.bestFitDecreasing(lengths: [7, 5, 3], capacity: 10) == [[0, 2], [1]])
        #expect(Packing.bestFitDecreasing(lengths: [6, 5, 4, 4], capacity: 10) == [[0, 2], [1, 3]])
        #expect(Packing.bestFitDecreasing(lengths: [4, 6, 3, 7], capacity: 10) == [[3, 2], [1, 0]])
    }

    @Test func bestFitUsesEveryExampleOnceWithinCapacityAndIsDeterministic() {
        var rng = RandomGenerator(seed: 11)
        let lengths = (0..<500).map { _ in 1 + rng.nextInt(below: 64) }
        let rows = Packing.bestFitDecreasing(lengths: lengths, capacity: 64)
        #expect(rows.flatMap { $0 }.sorted() == Array(0..<500))
        #expect(rows.allSatisfy { $0.map { lengths[$0] }.reduce(0, +) <= 64 })
        #expect(rows == Packing.bestFitDecreasing(lengths: lengths, capacity: 64))
        // BFD's guarantee (as FFD's): at most 11/9 OPT + 6/9 rows; OPT is at least both lower bounds below.
        let lowerBound = max((lengths.reduce(0, +) + 63) / 64, lengths.filter { $0 > 32 }.count)
        #expect(9 * rows.count <= 11 * lowerBound + 6)
        // And no two rows' contents would fit together in one row.
        let used = rows.map { $0.map { lengths[$0] }.reduce(0, +) }
        for i in used.indices { for j in used.indices where j > i { #expect(used[i] + used[j] > 64) } }
    }

    @Test func packedRowsRestartPositionsAndDoNotPredictAcrossSequences() {
        let a = example([11, 12, 13]), b = example([21, 22]), c = example([31, 32, 33, 34], [false, false, true, true])
        let rows = Packing.pack([a, b, c], maxLength: 6)
        // Longest first: c (4) -> row 0; a (3) -> row 1; b (2) -> row 0 (room 2).
        #expect(rows.map(\.members) == [[2, 1], [0]])
        let r = rows[0]
        #expect(r.ids == [31, 32, 33, 34, 21, 22])
        #expect(r.positions == [0, 1, 2, 3, 0, 1])
        #expect(r.segments == [0, 0, 0, 0, 1, 1])
        // c's last token (34) must not predict b's first (21); c's untrained prompt tokens are not targets.
        #expect(r.labels == [-100, 33, 34, -100, 22, -100])
        #expect(rows[1].labels == [12, 13, -100] && rows[1].segments == [0, 0, 0])
    }

    @Test func tooLongExamplesAreTruncatedToTheRow() {
        let rows = Packing.pack([example([1, 2, 3, 4, 5, 6, 7])], maxLength: 4)
        #expect(rows.count == 1 && rows[0].ids == [1, 2, 3, 4] && rows[0].labels == [2, 3, 4, -100])
    }

    @Test func collatePadsRightWithMaskByPositionEvenWhenPadIsEOS() {
        let eos: Int32 = 0
        let short = example([5, 6, eos]), long = example([7, 8, 9, 10, eos])
        let batch = Collator(padId: eos).batch([short, long])
        #expect(batch.ids.shape == [2, 5])
        #expect(batch.ids.values == [5, 6, eos, eos, eos, 7, 8, 9, 10, eos])
        // The real EOS (equal to the pad id) is still a target; the pads after it are not.
        #expect(batch.labels.values == [6, eos, -100, -100, -100, 8, 9, 10, eos, -100])
        #expect(batch.attentionMask.scalars() == [1, 1, 1, 0, 0, 1, 1, 1, 1, 1])
        #expect(batch.segments.values == [0, 0, 0, -1, -1, 0, 0, 0, 0, 0])
        #expect(batch.positions.values == [0, 1, 2, 0, 0, 0, 1, 2, 3, 4])
        #expect(batch.trainedTokens == 6)
        #expect(batch.members == [[0], [1]])
    }

    @Test func collatePackedRowsToAFixedWidth() {
        let rows = Packing.pack([example([1, 2]), example([3, 4, 5]), example([6])], maxLength: 4)
        let batch = Collator(padId: 99, padTo: 4)(rows)
        #expect(batch.ids.shape == [rows.count, 4] && batch.labels.shape == [rows.count, 4])
        #expect(rows.map(\.members) == [[1, 2], [0]])
        #expect(batch.ids.values == [3, 4, 5, 6, 1, 2, 99, 99])
        #expect(batch.labels.values == [4, 5, -100, -100, 2, -100, -100, -100])
        #expect(batch.segments.values == [0, 0, 0, 1, 0, 0, -1, -1])
        #expect(batch.positions.values == [0, 1, 2, 0, 0, 1, 0, 0])
        #expect(batch.attentionMask.scalars() == [1, 1, 1, 1, 1, 1, 0, 0])
        #expect(batch.trainedTokens == 3)
    }
}
