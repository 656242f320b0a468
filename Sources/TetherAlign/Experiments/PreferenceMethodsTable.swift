import Foundation
import Tether

/// One policy's row of the preference-methods table: gold's figures against the SFT policy.
public struct PreferenceMethodRow: Sendable, Equatable, Codable {
    /// The method's name (a ``PreferenceMethod`` raw value: `dpo`, `ipo`, `kto`, `kto_pairs`, `orpo`, `simpo`), or `sft` for the reference itself.
    public var name: String
    /// Share of gold comparisons won against the SFT policy's sample for the same row (ties count half).
    public var goldWinRate: Double
    /// Mean gold reward of the policy's samples.
    public var goldReward: Double
    /// KL(policy ‖ SFT) in nats per response, estimated from the policy's samples.
    public var kl: Double
    /// Mean response length in tokens (without the final stop token).
    public var meanLength: Double
    /// Share of harmful prompts refused (higher is better).
    public var refusalRate: Double
    /// Share of harmless look-alike prompts refused (lower is better).
    public var overRefusalRate: Double
    /// Share of arithmetic prompts answered right.
    public var arithmeticAccuracy: Double
    /// Wall time of the method's training, in seconds (0 for the SFT row).
    public var trainSeconds: Double

    /// A row from an evaluation report against the SFT policy.
    public init(name: String, report: AssistantPolicyReport, trainSeconds: Double) {
        self.name = name
        goldWinRate = report.gold.winRate ?? 0.5
        goldReward = report.gold.meanGoldReward
        kl = report.kl ?? 0
        meanLength = report.gold.meanTokens ?? 0
        refusalRate = report.gold.refusalRate ?? 0
        overRefusalRate = report.gold.overRefusalRate ?? 0
        arithmeticAccuracy = report.gold.arithmeticAccuracy ?? 0
        self.trainSeconds = trainSeconds
    }

    enum CodingKeys: String, CodingKey {
        case name, kl
        case goldWinRate = "gold_win_rate", goldReward = "gold_reward", meanLength = "mean_length"
        case refusalRate = "refusal_rate", overRefusalRate = "over_refusal_rate", trainSeconds = "train_seconds"
        case arithmeticAccuracy = "arithmetic_accuracy"
    }
}

/// The experiment's result: the SFT reference and one row per method, as a Markdown table and as JSON.
public struct PreferenceMethodsTable: Sendable, Equatable {
    /// The prompts measured on: `test` (the world's held-out prompts) or `validation` (held-out training prompts).
    public var split: String
    /// Prompts measured on.
    public var prompts: Int
    /// Responses sampled per prompt.
    public var samplesPerPrompt: Int
    /// The seed of everything.
    public var seed: UInt64
    /// The SFT policy against itself (win rate 0.5, KL 0 by construction): the starting point.
    public var reference: PreferenceMethodRow
    /// One row per method, in the config's order.
    public var methods: [PreferenceMethodRow]

    /// The win rate the quality bar asks of every method.
    public static let targetWinRate = 0.75

    /// The table in Markdown: one line per policy, the SFT policy first.
    public var markdown: String {
        func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        var lines = ["| policy | gold win rate vs SFT | gold reward | KL (nats/response) | mean length (tokens) | refusal | over-refusal |",
                     "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in [reference] + methods {
            lines.append("| \(r.name == "sft" ? "SFT (reference)" : PreferenceMethod(rawValue: r.name)?.label ?? r.name) | \(pct(r.goldWinRate)) | "
                         + String(format: "%.3f", r.goldReward) + " | " + String(format: "%.2f", r.kl) + " | "
                         + String(format: "%.1f", r.meanLength) + " | \(pct(r.refusalRate)) | \(pct(r.overRefusalRate)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// The table as one JSON object: `methods.NAME.{arithmetic_accuracy, gold_win_rate, gold_reward, kl, mean_length,
    /// refusal_rate, over_refusal_rate, train_seconds}`, the same for `reference`, and `split`, `prompts`,
    /// `samples_per_prompt`, `seed`, `target_win_rate` (keys sorted, methods in the config's order).
    public var json: String {
        func n(_ x: Double) -> String { AssistantData.number(x) }
        func object(_ r: PreferenceMethodRow) -> String {
            "{\"arithmetic_accuracy\":\(n(r.arithmeticAccuracy)),\"gold_reward\":\(n(r.goldReward)),"
                + "\"gold_win_rate\":\(n(r.goldWinRate)),\"kl\":\(n(r.kl)),\"mean_length\":\(n(r.meanLength)),"
                + "\"over_refusal_rate\":\(n(r.overRefusalRate)),"
                + "\"refusal_rate\":\(n(r.refusalRate)),\"train_seconds\":\(n(r.trainSeconds))}"
        }
        let methodsJSON = methods.map { "\(JSONText.quoted($0.name)):\(object($0))" }.joined(separator: ",")
        return "{\"methods\":{\(methodsJSON)},\"prompts\":\(prompts),\"reference\":\(object(reference)),"
            + "\"samples_per_prompt\":\(samplesPerPrompt),\"seed\":\(seed),\"split\":\(JSONText.quoted(split)),"
            + "\"target_win_rate\":\(n(Self.targetWinRate))}"
    }
}
