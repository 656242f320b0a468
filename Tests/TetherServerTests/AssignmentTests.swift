import Foundation
import GRDB
import Testing
import TetherAlign
@testable import TetherServer

@Suite struct AssignmentTests {
    @Test func eachPairGoesToKAnnotatorsAndNobodySeesAPairTwice() throws {
        let store = try temporaryStore()
        try store.createProject("p", annotatorsPerPair: 2, repeatShare: 0)
        try store.importText(pairRows(6, gold: 1), project: "p")  // 6 pairs, 1 gold
        let users = try (0..<4).map { try store.annotator("u\($0)") }
        var seen: [Int64: Set<String>] = [:]  // user -> pair contents shown
        var rounds = 0
        while rounds < 100 {
            var any = false
            for u in users {
                guard let t = try store.nextPair(user: u, project: "p") else { continue }
                #expect(try store.nextPair(user: u, project: "p") == t, "an open assignment is shown again, unchanged")
                let key = [t.a, t.b].map { "\($0)" }.sorted().joined()
                #expect(seen[u.id, default: []].insert(key).inserted, "\(u.name) saw a pair twice")
                try store.submit(LabelInput(assignment: t.assignment, choice: .a), user: u)
                any = true
            }
            if !any { break }
            rounds += 1
        }
        // 5 ordinary pairs × K = 2, plus the gold pair for all 4.
        let shown: Int = seen.values.map(\.count).reduce(0, +)
        #expect(shown == 14)
        let perPair = try store.pool.read { db in
            try Int.fetchAll(db, sql: "SELECT COUNT(*) FROM assignments a JOIN pairs p ON p.id = a.pair_id WHERE p.gold_winner IS NULL GROUP BY a.pair_id")
        }
        #expect(perPair == [2, 2, 2, 2, 2])
    }

    @Test func repeatsComeBackAtTheConfiguredShare() throws {
        let store = try temporaryStore()
        try store.createProject("p", annotatorsPerPair: 1, repeatShare: 0.2)
        try store.importText(pairRows(40), project: "p")
        let u = try store.annotator("solo")
        var total = 0
        while let t = try store.nextPair(user: u, project: "p") {
            try store.submit(LabelInput(assignment: t.assignment, choice: .tie), user: u)
            total += 1
        }
        let repeats = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignments WHERE is_repeat = 1")! }
        #expect(total == 40 + repeats)
        #expect(repeats >= 8 && repeats <= 10, "\(repeats) repeats of \(total)")
        let q = try store.quality(project: "p")
        #expect(q.annotators[0].selfConsistency == 1 && q.annotators[0].repeats == repeats)
    }

    @Test func labelsBelongToTheirAnnotatorAndUndoRetractsWithoutDeleting() throws {
        let store = try temporaryStore()
        try store.importText(pairRows(3), project: "p")
        let alice = try store.annotator("alice"), bob = try store.annotator("bob")
        let t = try #require(try store.nextPair(user: alice, project: "p"))
        #expect(t.done == 0 && t.remaining == 3)
        #expect { try store.submit(LabelInput(assignment: t.assignment, choice: .a), user: bob) } throws: {
            ($0 as? LabelError)?.kind == .notFound
        }
        #expect { try store.submit(LabelInput(assignment: 999, choice: .a), user: alice) } throws: { ($0 as? LabelError)?.kind == .notFound }
        #expect { try store.submit(LabelInput(assignment: t.assignment, choice: .tie, strength: .much), user: alice) } throws: {
            ($0 as? LabelError)?.kind == .invalid
        }
        try store.submit(LabelInput(assignment: t.assignment, choice: .a, strength: .clearly, reason: "  <b>shorter</b> "), user: alice)
        #expect { try store.submit(LabelInput(assignment: t.assignment, choice: .b), user: alice) } throws: { ($0 as? LabelError)?.kind == .conflict }
        let next = try #require(try store.nextPair(user: alice, project: "p"))
        #expect(next.assignment != t.assignment && next.done == 1 && next.remaining == 2)
        #expect(try store.undo(user: alice, project: "p") == t.assignment)
        #expect(try store.nextPair(user: alice, project: "p")?.assignment == t.assignment, "the undone pair comes back first")
        try store.submit(LabelInput(assignment: t.assignment, choice: .b), user: alice)
        let rows = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT choice, reason, retracted_at FROM labels ORDER BY id") }
        #expect(rows.count == 2 && rows[0]["retracted_at"] != nil && rows[1]["retracted_at"] == nil)
        #expect(rows[0]["reason"] == "<b>shorter</b>")
        #expect(try store.undo(user: bob, project: "p") == nil)
    }
}

@Suite struct ExportTests {
    /// Imports `n` pairs (candidate 0 is "good i"), has three annotators label them, and returns the store.
    func labelledStore(_ choose: (Int, PairTask) -> (Choice, Strength?)) throws -> LabelStore {
        let store = try temporaryStore()
        try store.createProject("p", annotatorsPerPair: 3, repeatShare: 0)
        try store.importText(pairRows(4), project: "p")
        for (k, name) in ["a", "b", "c"].enumerated() {
            let u = try store.annotator(name)
            while let t = try store.nextPair(user: u, project: "p") {
                let (c, s) = choose(k, t)
                try store.submit(LabelInput(assignment: t.assignment, choice: c, strength: s), user: u)
            }
        }
        return store
    }

    /// The choice that picks candidate "good …" whichever side it is on.
    static func good(_ t: PairTask) -> Choice { t.a.string!.hasPrefix("good") ? .a : .b }

    @Test func exportRoundTripsThroughTheTetherAlignLoaders() throws {
        let store = try labelledStore { k, t in
            let q = t.prompt.string!
            if q == "Q3?" { return (.bothBad, nil) }
            if q == "Q2?" && k == 2 { return (Self.good(t) == .a ? .b : .a, nil) }  // one dissent
            return (Self.good(t), k == 0 ? .much : .slightly)
        }
        let data = try store.export(project: "p")
        #expect(data.preference.count == 3 && data.labelledPairs == 4 && data.droppedPairs == 0)
        for row in data.preference { #expect(row["chosen"]!.string!.hasPrefix("good") && row["rejected"]!.string!.hasPrefix("bad")) }
        #expect(data.preference[0]["margin"] == .number(5.0 / 3))
        #expect(data.preference[2]["margin"] == .number(2), "mean strength of the two winning votes")
        // KTO: goods win once (+1), bads lose once (−1); Q3's two are both bad (−1).
        #expect(data.unpaired.count == 8 && data.unpaired.filter { $0["label"] == .bool(true) }.count == 3)

        let dir = try temporaryFolder()
        let pref = dir.appendingPathComponent("preference.jsonl"), kto = dir.appendingPathComponent("kto.jsonl")
        try ExportedData.jsonLines(data.preference).write(to: pref, atomically: true, encoding: .utf8)
        try ExportedData.jsonLines(data.unpaired).write(to: kto, atomically: true, encoding: .utf8)
        let loaded = try DatasetLoader.load(PreferenceExample.self, from: pref)
        #expect(loaded.examples.count == 3 && loaded.examples[0].chosen == .text("good 0") && loaded.examples[0].margin == 5.0 / 3)
        #expect(try DatasetLoader.load(kto).report.datasetType == .unpairedPreference)
        #expect(try DatasetLoader.load(UnpairedPreferenceExample.self, from: kto).examples.count == 8)

        let strict = try store.export(project: "p", options: ExportOptions(minAgreement: 0.8, bothBad: .drop))
        #expect(strict.preference.count == 2 && strict.droppedPairs == 1 && strict.unpaired.count == 4)
        let bt = try store.export(project: "p", options: ExportOptions(aggregate: .bradleyTerry))
        #expect(bt.preference.count == 3 && bt.preference.allSatisfy { $0["margin"]!.number! > 0 })
    }

    @Test func tiesAndRankingBySource() throws {
        let store = try labelledStore { k, t in k == 2 ? (.tie, nil) : (Self.good(t), nil) }
        #expect(try store.export(project: "p").preference.count == 4)
        let ties = try labelledStore { _, _ in (.tie, nil) }
        #expect(try ties.export(project: "p").unpaired.isEmpty)
        #expect(try ties.export(project: "p", options: ExportOptions(ties: .desirable)).unpaired.count == 8)
        let ranks = try store.sourceRanking(project: "p")
        #expect(ranks.map(\.source) == ["m1", "m2"] && ranks[0].elo > 1000 && ranks[1].elo < 1000)
        #expect(ranks[0].eloLow < ranks[0].elo && ranks[0].elo < ranks[0].eloHigh && ranks[0].games == 12)
    }
}
