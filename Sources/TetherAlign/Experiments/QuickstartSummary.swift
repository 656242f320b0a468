import Foundation

/// What the quickstart measured: per stage its wall time and tokens/s, per model and task the held-out accuracy, and
/// on the gold world gold's table of base, SFT and DPO and the reward model's held-out accuracy.
public struct QuickstartSummary: Codable, Sendable {
    /// One stage's timing.
    public struct Stage: Codable, Sendable {
        /// `data`, `tokenizer`, `pretrain`, `eval_base`, `sft`, `eval_sft`; with the preference stages `chat_sft`,
        /// `reward`, `dpo`, `eval_world`.
        public var stage: String
        /// Wall time in seconds.
        public var wallSeconds: Double
        /// Tokens processed: trained-on input tokens for training, generated tokens for evaluation.
        public var tokens: Int?
        /// `tokens / wallSeconds`.
        public var tokensPerSecond: Double?
        /// The stage's final checkpoint (training stages).
        public var checkpoint: String?

        enum CodingKeys: String, CodingKey {
            case stage, tokens, checkpoint
            case wallSeconds = "wall_seconds", tokensPerSecond = "tokens_per_second"
        }
    }

    /// The settings that produced it.
    public var config: QuickstartConfig
    /// The stages in order.
    public var stages: [Stage] = []
    /// Exact-match accuracy on held-out problems: model (`base`, `sft`) -> task name (and `all`) -> fraction.
    public var accuracy: [String: [String: Double]] = [:]
    /// Gold's figures on the world's held-out prompts against the chat SFT policy: `base`, `sft`, `dpo`.
    public var assistant: [String: PreferenceMethodRow] = [:]
    /// The reward model's accuracy on the world's held-out gold-labeled pairs.
    public var rewardModel: RewardAccuracy?

    /// An empty summary.
    public init(config: QuickstartConfig) { self.config = config }

    enum CodingKeys: String, CodingKey {
        case config, stages, accuracy, assistant
        case rewardModel = "reward_model", totalWallSeconds = "total_wall_seconds"
    }

    /// Sum of the stages' wall times.
    public var totalWallSeconds: Double { stages.reduce(0) { $0 + $1.wallSeconds } }

    /// Decodes a summary (the total is derived, not read).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        config = try c.decode(QuickstartConfig.self, forKey: .config)
        stages = try c.decode([Stage].self, forKey: .stages)
        accuracy = try c.decode([String: [String: Double]].self, forKey: .accuracy)
        assistant = try c.decodeIfPresent([String: PreferenceMethodRow].self, forKey: .assistant) ?? [:]
        rewardModel = try c.decodeIfPresent(RewardAccuracy.self, forKey: .rewardModel)
    }

    /// Encodes every field and the total wall time.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(config, forKey: .config)
        try c.encode(stages, forKey: .stages)
        try c.encode(accuracy, forKey: .accuracy)
        if !assistant.isEmpty { try c.encode(assistant, forKey: .assistant) }
        try c.encodeIfPresent(rewardModel, forKey: .rewardModel)
        try c.encode(totalWallSeconds, forKey: .totalWallSeconds)
    }

    /// Records a stage.
    mutating func add(stage: String, seconds: Double, tokens: Int? = nil, checkpoint: String? = nil) {
        stages.append(Stage(stage: stage, wallSeconds: seconds, tokens: tokens,
                            tokensPerSecond: tokens.map { Double($0) / max(seconds, 1e-9) }, checkpoint: checkpoint))
    }

    /// The tasks evaluated, sorted, with `all` last.
    var tasks: [String] {
        let names = Set(accuracy.values.flatMap(\.keys)).subtracting(["all"]).sorted()
        return names + (accuracy.values.contains { $0["all"] != nil } ? ["all"] : [])
    }

    /// The results as two Markdown tables: accuracy per task (base vs SFT) and the stages' timings.
    public var table: String {
        let models = ["base", "sft"].filter { accuracy[$0] != nil }
        var out = "| task | " + models.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: models.count) + "\n"
        for task in tasks {
            out += "| \(task) | " + models.map { m in accuracy[m]?[task].map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
                .joined(separator: " | ") + " |\n"
        }
        out += worldTable
        out += "\n| stage | wall time | tokens/s |\n|---|---|---|\n"
        for s in stages {
            out += "| \(s.stage) | " + String(format: "%.1f s", s.wallSeconds) + " | "
                + (s.tokensPerSecond.map { String(format: "%.0f", $0) } ?? "-") + " |\n"
        }
        out += String(format: "| total | %.1f s | |\n", totalWallSeconds)
        return out
    }

    /// The gold world's table (base, SFT, DPO against the chat SFT policy) and the reward model's accuracy; empty
    /// without the preference stages.
    var worldTable: String {
        let rows = ["base", "sft", "dpo"].compactMap { assistant[$0] }
        guard !rows.isEmpty else { return "" }
        func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        var out = "\n| gold world | gold reward | win rate vs SFT | arithmetic right | refusal | over-refusal | length (tokens) | KL vs SFT |\n"
        out += "|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            out += "| \(r.name) | " + String(format: "%.3f", r.goldReward) + " | \(pct(r.goldWinRate)) | \(pct(r.arithmeticAccuracy)) | "
                + "\(pct(r.refusalRate)) | \(pct(r.overRefusalRate)) | " + String(format: "%.1f", r.meanLength) + " | "
                + String(format: "%.2f", r.kl) + " |\n"
        }
        if let rewardModel {
            out += "\nreward model: \(pct(rewardModel.evalAccuracy)) of \(rewardModel.evalPairs) held-out gold pairs ranked right, by what "
                + "gold tells apart:\n" + rewardModel.kindLines.map { $0 + "\n" }.joined()
        }
        return out
    }

    /// Writes `summary.json` and `report.md` (the tables and links to each stage's report) into `folder`.
    public func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: folder.appendingPathComponent("summary.json"), options: .atomic)
        var md = "# Quickstart\n\nA tiny GPT-2-style model pretrained on arithmetic facts in words, then fine-tuned on the "
        md += "questions; exact-match accuracy of greedy answers on held-out problems (never seen in training, not even "
        md += "inside a longer problem).\n"
        if !assistant.isEmpty {
            md += "Then, on the gold world: chat SFT on its mix of good and bad responses (with some of the arithmetic "
            md += "questions, so the policy keeps its arithmetic), a reward model and DPO from that "
            md += "SFT policy; gold judges samples (temperature 1) of base, SFT and DPO on the world's held-out prompts, "
            md += "win rate and KL against the SFT policy.\n"
        }
        md += "\n" + table + "\n"
        let stages = stages.filter { $0.checkpoint != nil }.map { "[\($0.stage)](\($0.stage)/report.md)" }
        md += "Stage reports: " + stages.joined(separator: ", ") + ". Per-problem answers: `eval_base.jsonl`, `eval_sft.jsonl`"
        md += assistant.isEmpty ? ".\n" : "; per-response gold scores: `eval_world_base.jsonl`, `eval_world_sft.jsonl`, `eval_world_dpo.jsonl`.\n"
        try Data(md.utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
    }
}
