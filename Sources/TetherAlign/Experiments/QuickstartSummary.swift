import Foundation

/// What the quickstart measured: per stage its wall time and tokens/s, per model and task the held-out accuracy.
public struct QuickstartSummary: Codable, Sendable {
    /// One stage's timing.
    public struct Stage: Codable, Sendable {
        /// `data`, `tokenizer`, `pretrain`, `eval_base`, `sft` or `eval_sft`.
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

    /// An empty summary.
    public init(config: QuickstartConfig) { self.config = config }

    enum CodingKeys: String, CodingKey {
        case config, stages, accuracy
        case totalWallSeconds = "total_wall_seconds"
    }

    /// Sum of the stages' wall times.
    public var totalWallSeconds: Double { stages.reduce(0) { $0 + $1.wallSeconds } }

    /// Decodes a summary (the total is derived, not read).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        config = try c.decode(QuickstartConfig.self, forKey: .config)
        stages = try c.decode([Stage].self, forKey: .stages)
        accuracy = try c.decode([String: [String: Double]].self, forKey: .accuracy)
    }

    /// Encodes every field and the total wall time.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(config, forKey: .config)
        try c.encode(stages, forKey: .stages)
        try c.encode(accuracy, forKey: .accuracy)
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
        out += "\n| stage | wall time | tokens/s |\n|---|---|---|\n"
        for s in stages {
            out += "| \(s.stage) | " + String(format: "%.1f s", s.wallSeconds) + " | "
                + (s.tokensPerSecond.map { String(format: "%.0f", $0) } ?? "-") + " |\n"
        }
        out += String(format: "| total | %.1f s | |\n", totalWallSeconds)
        return out
    }

    /// Writes `summary.json` and `report.md` (the tables and links to each stage's report) into `folder`.
    public func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: folder.appendingPathComponent("summary.json"), options: .atomic)
        var md = "# Quickstart\n\nA tiny GPT-2-style model pretrained on arithmetic facts in words, then fine-tuned on the "
        md += "questions; exact-match accuracy of greedy answers on held-out problems (never seen in training, not even "
        md += "inside a longer problem).\n\n" + table + "\n"
        md += "Stage reports: [pretrain](pretrain/report.md), [sft](sft/report.md). Per-problem answers: "
        md += "`eval_base.jsonl`, `eval_sft.jsonl`.\n"
        try Data(md.utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
    }
}
