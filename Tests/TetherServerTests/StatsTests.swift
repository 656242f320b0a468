import Foundation
import Testing
@testable import TetherServer

@Suite struct AgreementTests {
    @Test func kappaMatchesTheHandWorkedValue() throws {
        // Rater 1: a a b b, rater 2: a b b b. p_o = 3/4; p_e = 1/2·1/4 + 1/2·3/4 = 1/2; κ = (3/4 − 1/2)/(1/2) = 1/2.
        let k = try #require(Agreement.cohenKappa([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]))
        #expect(abs(k - 0.5) < 1e-12)
        #expect(Agreement.cohenKappa([("a", "a"), ("b", "b")]) == 1)
        #expect(Agreement.cohenKappa([(String, String)]()) == nil)
        #expect(Agreement.cohenKappa([("a", "a"), ("a", "a")]) == nil, "chance agreement 1: undefined")
    }

    @Test func alphaMatchesTheHandWorkedValues() throws {
        // Same data as kappa: o_aa = 2, o_ab = o_ba = 1, o_bb = 4; n_a = 3, n_b = 5, n = 8.
        // D_o = 2, D_e = 2·3·5/7 = 30/7, α = 1 − 14/30 = 16/30.
        let a = try #require(Agreement.krippendorffAlpha(units: [["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]]))
        #expect(abs(a - 16.0 / 30) < 1e-12)
        // Three raters with a missing value: [a a b] weighs each ordered pair 1/2.
        // o_aa = 1 + 2 = 3, o_ab = o_ba = 1, o_bb = 2; n = 7; D_e = 2·4·3/6 = 4; α = 1 − 2/4.
        let b = try #require(Agreement.krippendorffAlpha(units: [["a", "a", "b"], ["b", "b"], ["a", "a"], ["a"]]))
        #expect(abs(b - 0.5) < 1e-12)
        #expect(Agreement.krippendorffAlpha(units: [["a", "a"], ["a", "a"]]) == nil)
        #expect(Agreement.krippendorffAlpha(units: [["a"], ["b"]]) == nil)
        #expect(Agreement.krippendorffAlpha(units: [["a", "b"], ["b", "a"]])! < 0, "systematic disagreement is below 0")
    }
}

@Suite struct BradleyTerryTests {
    @Test func twoPlayersHaveTheClosedForm() {
        // 3 wins to 1: θ1 − θ2 = ln 3, centred θ1 = ln 3 / 2. Var(θ1 − θ2) = 1/3 + 1/1, so SE(θ1) = sqrt(4/3)/2.
        let fit = BradleyTerry.fit(players: 2, comparisons: [Comparison(winner: 0, loser: 1, weight: 3), Comparison(winner: 1, loser: 0)])
        #expect(fit.converged)
        #expect(abs(fit.scores[0] - log(3) / 2) < 1e-9 && abs(fit.scores[1] + log(3) / 2) < 1e-9)
        #expect(abs(fit.standardErrors[0] - sqrt(4.0 / 3) / 2) < 1e-9)
        #expect(fit.games == [4, 4])
        // Ties count half a win each: 2 wins + 2 ties = 3 wins to 1.
        let tied = BradleyTerry.fit(players: 2, comparisons: [Comparison(winner: 0, loser: 1, weight: 2),
                                                              Comparison(winner: 1, loser: 0, tie: true, weight: 2)])
        #expect(abs(tied.scores[0] - log(3) / 2) < 1e-9)
    }

    @Test func expectedCountsRecoverTheTrueStrengths() {
        // With win counts equal to their expectations n·σ(θi − θj), the MLE is θ itself.
        let theta = [1.0, 0, -1]
        var cs: [Comparison] = []
        for i in 0..<3 { for j in 0..<3 where i != j {
            cs.append(Comparison(winner: i, loser: j, weight: 100 / (1 + exp(-(theta[i] - theta[j])))))
        } }
        let fit = BradleyTerry.fit(players: 3, comparisons: cs)
        for i in 0..<3 { #expect(abs(fit.scores[i] - theta[i]) < 1e-8, "θ\(i) = \(fit.scores[i])") }
        #expect(fit.standardErrors[0] > 0 && fit.standardErrors[0] < 0.3)
        #expect(abs(BradleyTerry.elo(log(10)) - 1400) < 1e-9)
    }

    @Test func unbeatenPlayerStaysFiniteWithARidgeAndIdleOnesAreZero() {
        let fit = BradleyTerry.fit(players: 3, comparisons: [Comparison(winner: 0, loser: 1, weight: 5)], ridge: 0.1)
        #expect(fit.scores[0] > 1 && fit.scores[0].isFinite && fit.scores[2] == 0)
        #expect(fit.standardErrors[2] == .infinity)
        #expect(BradleyTerry.fit(players: 0, comparisons: []).scores.isEmpty)
    }
}

@Suite struct AggregateTests {
    @Test func majorityTakesTheLargestOutcomeAndItsShare() {
        let votes = [Vote(pair: 1, user: 1, outcome: .first, strength: 3), Vote(pair: 1, user: 2, outcome: .first, strength: 1),
                     Vote(pair: 1, user: 3, outcome: .second), Vote(pair: 2, user: 1, outcome: .tie), Vote(pair: 2, user: 2, outcome: .bothBad)]
        let c = Aggregator.majority(votes)
        #expect(c[0] == PairConsensus(pair: 1, outcome: .first, agreement: 2.0 / 3, votes: 3, margin: 2))
        #expect(c[1].outcome == nil && c[1].agreement == 0.5)
    }

    @Test func bradleyTerryOrientsEachPairByFittedStrength() {
        // Three candidates of one prompt: 10 > 11 twice, 11 > 12 twice, and one vote 12 > 10. BT: 10 > 11 > 12.
        let pairs: [Int64: (item: Int64, first: Int64, second: Int64)] = [1: (7, 10, 11), 2: (7, 11, 12), 3: (7, 10, 12)]
        let votes = [Vote(pair: 1, user: 1, outcome: .first), Vote(pair: 1, user: 2, outcome: .first),
                     Vote(pair: 2, user: 1, outcome: .first), Vote(pair: 2, user: 2, outcome: .first),
                     Vote(pair: 3, user: 1, outcome: .second)]
        let c = Aggregator.bradleyTerry(votes, pairs: pairs)
        #expect(c.map(\.outcome) == [.first, .first, .first], "the lone upset is outvoted by transitivity")
        #expect(c[2].margin! > c[0].margin!)
        #expect(c[2].agreement == 1)
    }
}
