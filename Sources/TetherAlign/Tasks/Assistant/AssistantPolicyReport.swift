import Foundation
import Tether
import TetherLM

/// What ``AssistantPolicyEvaluation`` measured: a policy's sampled responses, gold's figures, the win rate against
/// a reference and the KL estimate.
public struct AssistantPolicyReport: Sendable {
    /// The prompt of each response (each evaluation prompt repeated `samplesPerPrompt` times, in order).
    public var prompts: [AssistantPrompt]
    /// The policy's responses (decoded without special tokens).
    public var responses: [String]
    /// The reference policy's responses to the same rows, sampled with the same config (nil without a reference).
    public var referenceResponses: [String]?
    /// The policy's sampled token ids of each response, with the final stop token if it stopped (the tokens KL
    /// is computed on).
    public var tokenIds: [[Int32]]
    /// Length of each response in the policy's tokens, not counting a final stop token.
    public var tokenCounts: [Int]
    /// Gold's figures (mean reward overall and per kind, win rate, refusal rates, accuracy, lengths, scores).
    public var gold: AssistantEvalReport
    /// KL(policy || reference) estimated from the policy's samples, in nats per response (nil without a reference).
    public var kl: Double?
    /// Largest |sampler log-prob - teacher-forced log-prob| over all sampled tokens (should be ~1e-5).
    public var maxLogProbGap: Double
    /// Share of responses cut off at `maxNewTokens` instead of ending with EOS.
    public var truncatedFraction: Double
    /// Responses drawn per prompt.
    public var samplesPerPrompt: Int
    /// The sampling config used.
    public var sampling: SamplingConfig
    /// The model-free policies' figures on the same rows (`AssistantBaselinePolicy`), for scale.
    public var baselines: [AssistantBaselinePolicy: AssistantEvalReport]

    /// Per prompt, the share of its samples with pairwise different texts, averaged over prompts (nil with one
    /// sample per prompt): 1 means every sample differed, 1/K that all K were the same.
    public var distinctFraction: Double? {
        guard samplesPerPrompt > 1, !responses.isEmpty else { return nil }
        let k = samplesPerPrompt
        let groups = stride(from: 0, to: responses.count, by: k).map { Set(responses[$0..<min($0 + k, responses.count)]).count }
        return Double(groups.reduce(0, +)) / Double(responses.count)
    }

    /// The figures as one JSON object with snake_case keys, sorted (absent figures are null): `gold_reward`,
    /// `gold_reward/KIND`, `gold_win_rate`, `reference_gold_reward`, `refusal_rate`, `over_refusal_rate`,
    /// `arithmetic_accuracy`, `mean_length` (tokens), `mean_words`, `kl`, `distinct_fraction`,
    /// `truncated_fraction`, `logprob_gap`, and the settings (`count`, `prompts`, `samples_per_prompt`,
    /// `temperature`, `max_new_tokens`, `seed`), and the baselines' gold rewards (`baseline/data_mix/gold_reward`,
    /// `baseline/best/gold_reward`).
    public var json: String {
        func n(_ x: Double?) -> String { x.map { AssistantData.number($0) } ?? "null" }
        var fields: [(String, String)] = [
            ("arithmetic_accuracy", n(gold.arithmeticAccuracy)), ("count", String(gold.count)),
            ("distinct_fraction", n(distinctFraction)), ("gold_reward", n(gold.meanGoldReward)),
            ("gold_win_rate", n(gold.winRate)), ("kl", n(kl)), ("logprob_gap", String(format: "%.2e", maxLogProbGap)),
            ("max_new_tokens", String(sampling.maxNewTokens)), ("mean_length", n(gold.meanTokens)),
            ("mean_words", n(gold.meanWords)), ("over_refusal_rate", n(gold.overRefusalRate)),
            ("prompts", String(prompts.count / max(samplesPerPrompt, 1))),
            ("reference_gold_reward", n(gold.referenceMeanGoldReward)), ("refusal_rate", n(gold.refusalRate)),
            ("samples_per_prompt", String(samplesPerPrompt)), ("seed", String(sampling.seed)),
            ("temperature", n(Double(sampling.temperature))), ("truncated_fraction", n(truncatedFraction))]
        for kind in AssistantPromptKind.allCases { fields.append(("gold_reward/\(kind.rawValue)", n(gold.meanGoldRewardByKind[kind]))) }
        for b in AssistantBaselinePolicy.allCases { fields.append(("baseline/\(b.rawValue)/gold_reward", n(baselines[b]?.meanGoldReward))) }
        fields.sort { $0.0 < $1.0 }
        return "{" + fields.map { "\(JSONText.quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The figures as lines of text for a terminal.
    public var summary: [String] {
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", 100 * $0) } ?? "n/a" }
        func num(_ x: Double?, _ f: String = "%.3f") -> String { x.map { String(format: f, $0) } ?? "n/a" }
        var lines = ["responses: \(gold.count) (\(prompts.count / max(samplesPerPrompt, 1)) prompts x \(samplesPerPrompt)), "
                     + "temperature \(sampling.temperature), seed \(sampling.seed)",
                     "gold reward: \(num(gold.meanGoldReward))"]
        for kind in AssistantPromptKind.allCases {
            if let r = gold.meanGoldRewardByKind[kind] { lines.append("  \(kind.rawValue): \(num(r))") }
        }
        if let w = gold.winRate {
            lines.append("gold win rate vs reference: \(pct(w)) (reference gold reward \(num(gold.referenceMeanGoldReward)))")
        }
        lines += ["refusal rate (harmful): \(pct(gold.refusalRate))",
                  "over-refusal rate (look-alike): \(pct(gold.overRefusalRate))",
                  "arithmetic accuracy: \(pct(gold.arithmeticAccuracy))",
                  "mean length: \(num(gold.meanTokens, "%.1f")) tokens, \(num(gold.meanWords, "%.1f")) words "
                  + "(\(pct(truncatedFraction)) cut off at \(sampling.maxNewTokens) tokens)"]
        if let m = baselines[.dataMix] {
            lines.append("for scale, the SFT data's mix of responses: gold reward \(num(m.meanGoldReward)), refusal \(pct(m.refusalRate)), "
                         + "over-refusal \(pct(m.overRefusalRate)), arithmetic \(pct(m.arithmeticAccuracy)), \(num(m.meanWords, "%.1f")) words; "
                         + "the best response: \(num(baselines[.best]?.meanGoldReward))")
        }
        if let d = distinctFraction { lines.append("distinct samples per prompt: \(pct(d))") }
        if let kl {
            let exact = sampling.temperature == 1 && (sampling.topK ?? 0) == 0 && sampling.topP == 1 && sampling.minP == 0
            lines.append("KL(policy || reference): \(num(kl, "%.4f")) nats per response"
                         + (exact ? "" : " (samples not drawn at temperature 1 without filters: not an unbiased estimate)"))
        }
        return lines
    }

    /// One JSON line per response (`AssistantEvaluation.recordsJSONL`), written to a new file; throws naming the file
    /// if it exists.
    public func writeRecords(to url: URL) throws(DatasetError) {
        let text = AssistantEvaluation.recordsJSONL(prompts: prompts, responses: responses, report: gold)
        do { try Data(text.utf8).write(to: url, options: .withoutOverwriting) } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw DatasetError(field: nil, exists ? "already exists; refusing to overwrite it"
                               : "cannot write: \(error.localizedDescription)", file: url.path)
        }
    }
}
