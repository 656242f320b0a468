import Foundation

/// What the PRM-vs-ORM experiment measured: best-of-N final-answer accuracy per selector and N, and diagnostics.
public struct PRMvsORMResult: Codable, Sendable {
    /// The settings that produced it.
    public var config: PRMvsORMConfig
    /// The N values, in order.
    public var budgets: [Int]
    /// The selectors in table order (`orm`, `prm_min`, `prm_product`, `majority`, `random`, then `oracle`, pass@N).
    public var methods: [String]
    /// Method -> accuracy at each N of `budgets`.
    public var accuracy: [String: [Double]]
    /// Share of all sampled solutions whose final answer is right.
    public var sampleAccuracy: Double
    /// Share of sampled solutions whose every line is a right step and whose answer is right.
    public var sampleAllStepsRight: Double
    /// Share of samples the ORM classifies right (score > 0.5 iff the final answer is right).
    public var ormSampleAccuracy: Double
    /// Share of samples the PRM classifies right (min step score > 0.5 iff the final answer is right).
    public var prmSampleAccuracy: Double
    /// Wall time per stage, in seconds (`data`, `policy`, `prm`, `orm`, `sample`, `score`).
    public var seconds: [String: Double]

    enum CodingKeys: String, CodingKey {
        case config, budgets, methods, accuracy, seconds
        case sampleAccuracy = "sample_accuracy", sampleAllStepsRight = "sample_all_steps_right"
        case ormSampleAccuracy = "orm_sample_accuracy", prmSampleAccuracy = "prm_sample_accuracy"
    }

    /// The accuracy table in Markdown: one row per method, one column per N.
    public var table: String {
        var out = "| selector | " + budgets.map { "N=\($0)" }.joined(separator: " | ") + " |\n|---|"
            + String(repeating: "---|", count: budgets.count) + "\n"
        for m in methods {
            out += "| \(m) | " + (accuracy[m] ?? []).map { String(format: "%.1f%%", 100 * $0) }.joined(separator: " | ") + " |\n"
        }
        return out
    }

    /// The table and the diagnostics, for standard output and `report.md`.
    public var report: String {
        var out = "# PRM vs ORM: best-of-N on multi-step arithmetic\n\n"
        out += "Final-answer accuracy on \(config.problems) held-out problems, \(config.samples) samples each "
        out += "(temperature \(config.temperature)); N = 1 and 4 average over the disjoint groups of the \(config.samples) samples. "
        out += "`oracle` is pass@N.\n\n" + table + "\n"
        out += String(format: "Samples: %.1f%% right answers, %.1f%% with every step right. ", 100 * sampleAccuracy, 100 * sampleAllStepsRight)
        out += String(format: "Classifying samples by answer correctness: ORM %.1f%%, PRM (min) %.1f%%.\n", 100 * ormSampleAccuracy,
                      100 * prmSampleAccuracy)
        out += "Stages (s): " + ["data", "policy", "prm", "orm", "sample", "score"].compactMap { s in
            seconds[s].map { "\(s) " + String(format: "%.1f", $0) }
        }.joined(separator: ", ") + "\n"
        return out
    }

    /// The result as pretty, key-sorted JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Writes `summary.json` and `report.md` into `folder`.
    public func write(to folder: URL) throws {
        try json().write(to: folder.appendingPathComponent("summary.json"), options: .atomic)
        try Data(report.utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
    }
}
