import Foundation

/// The end-of-run outputs: `plots/*.svg`, `report.md` embedding them, and `summary.json`.
public enum Report {
    /// Plots drawn when their metrics are present: file name and the metrics on it (train and eval curves together).
    public static let plotted: [(file: String, metrics: [String])] = [
        ("loss", ["loss", "eval_loss"]), ("eval_loss", ["eval_loss"]), ("learning_rate", ["learning_rate"]),
        ("grad_norm", ["grad_norm"]), ("mean_token_accuracy", ["mean_token_accuracy", "eval_mean_token_accuracy"]),
    ]

    /// Writes the plots, the report and the summary of a finished run.
    public static func write(run: URL, config: TrainingConfig, history: [MetricRecord], wallSeconds: Double,
                             numTokens: Int, parameters: (trainable: Int, total: Int)) throws {
        let plots = run.appendingPathComponent("plots")
        try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
        var embedded: [String] = []
        for (name, metrics) in plotted {
            let series = metrics.map { (name: $0, points: Plots.series(history, $0)) }.filter { !$0.points.isEmpty }
            guard !series.isEmpty else { continue }
            let file = name.replacingOccurrences(of: "/", with: "_") + ".svg"
            try Data(Plots.lineSVG(title: series.map(\.name).joined(separator: " and "), series: series).utf8)
                .write(to: plots.appendingPathComponent(file), options: .atomic)
            embedded.append("![\(name)](plots/\(file))")
        }
        let final = finalMetrics(history)
        let tokensPerSecond = Double(numTokens) / max(wallSeconds, 1e-9)
        var summary: [String: Any] = ["run_name": config.runName, "steps": history.last?["step"] ?? 0,
                                      "wall_seconds": wallSeconds, "num_tokens": numTokens, "tokens_per_second": tokensPerSecond]
        summary["final"] = final
        summary["trainable_parameters"] = parameters.trainable
        summary["total_parameters"] = parameters.total
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            .write(to: run.appendingPathComponent("summary.json"), options: .atomic)

        var md = "# Run \(config.runName)\n\n"
        md += String(format: "%d steps, %d tokens in %.1f s (%.0f tokens/s).\n\n", Int(history.last?["step"] ?? 0), numTokens,
                     wallSeconds, tokensPerSecond)
        md += "Trainable parameters: \(parameters.trainable) of \(parameters.total).\n\n"
        md += "| metric | final |\n|---|---|\n"
        for key in final.keys.sorted() where !Metrics.timingKeys.contains(key) { md += "| \(key) | \(String(format: "%.6g", final[key]!)) |\n" }
        md += "\n" + embedded.joined(separator: "\n\n") + "\n"
        try Data(md.utf8).write(to: run.appendingPathComponent("report.md"), options: .atomic)
    }

    /// The last value of every metric over the run.
    static func finalMetrics(_ history: [MetricRecord]) -> [String: Double] {
        var out: [String: Double] = [:]
        for r in history { for (k, v) in r where v.isFinite { out[k] = v } }
        return out
    }
}
