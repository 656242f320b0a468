import Foundation

/// The end-of-run outputs: `plots/*.svg`, `report.md` embedding them, and `summary.json`.
public enum Report {
    /// Curves plotted when present.
    public static let plotted = ["loss", "eval_loss", "learning_rate", "grad_norm", "mean_token_accuracy", "eval_mean_token_accuracy"]

    /// Writes the plots, the report and the summary of a finished run.
    public static func write(run: URL, config: TrainingConfig, history: [MetricRecord], wallSeconds: Double,
                             numTokens: Int) throws {
        let plots = run.appendingPathComponent("plots")
        try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
        var embedded: [String] = []
        for metric in plotted {
            let points = Plots.series(history, metric)
            guard !points.isEmpty else { continue }
            let file = metric.replacingOccurrences(of: "/", with: "_") + ".svg"
            try Data(Plots.lineSVG(title: metric, points: points).utf8).write(to: plots.appendingPathComponent(file), options: .atomic)
            embedded.append("![\(metric)](plots/\(file))")
        }
        let final = finalMetrics(history)
        let tokensPerSecond = Double(numTokens) / max(wallSeconds, 1e-9)
        var summary: [String: Any] = ["run_name": config.runName, "steps": history.last?["step"] ?? 0,
                                      "wall_seconds": wallSeconds, "num_tokens": numTokens, "tokens_per_second": tokensPerSecond]
        summary["final"] = final
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            .write(to: run.appendingPathComponent("summary.json"), options: .atomic)

        var md = "# Run \(config.runName)\n\n"
        md += String(format: "%d steps, %d tokens in %.1f s (%.0f tokens/s).\n\n", Int(history.last?["step"] ?? 0), numTokens,
                     wallSeconds, tokensPerSecond)
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
