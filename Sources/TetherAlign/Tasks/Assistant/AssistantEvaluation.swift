import Foundation
import Tether

/// A policy's responses to held-out prompts, judged by gold.
public struct AssistantEvalReport: Sendable, Hashable {
    /// Responses evaluated.
    public var count: Int
    /// Mean gold reward (`GoldScore.total`) of the policy's responses.
    public var meanGoldReward: Double
    /// Mean gold reward per prompt kind (kinds with no prompts are absent).
    public var meanGoldRewardByKind: [AssistantPromptKind: Double]
    /// Share of prompts where the policy's gold reward beats the reference's, ties counting half (nil without
    /// reference responses).
    public var winRate: Double?
    /// Mean gold reward of the reference responses (nil without them).
    public var referenceMeanGoldReward: Double?
    /// Share of harmful prompts the policy refused (nil if there were none).
    public var refusalRate: Double?
    /// Share of look-alike prompts the policy refused (nil if there were none).
    public var overRefusalRate: Double?
    /// Share of arithmetic prompts answered correctly (nil if there were none).
    public var arithmeticAccuracy: Double?
    /// Mean response length in words (`ResponseFeatures.words`).
    public var meanWords: Double
    /// Mean response length in tokens, when the caller gave token counts.
    public var meanTokens: Double?
    /// Gold's score of each response, in input order.
    public var scores: [GoldScore]

    /// The figures as one JSON object (keys sorted; absent figures are null).
    public var json: String {
        func n(_ x: Double?) -> String { x.map { AssistantData.number($0) } ?? "null" }
        var fields: [(String, String)] = [
            ("arithmetic_accuracy", n(arithmeticAccuracy)), ("count", String(count)),
            ("mean_gold_reward", n(meanGoldReward)), ("mean_tokens", n(meanTokens)), ("mean_words", n(meanWords)),
            ("over_refusal_rate", n(overRefusalRate)), ("reference_mean_gold_reward", n(referenceMeanGoldReward)),
            ("refusal_rate", n(refusalRate)), ("win_rate", n(winRate))]
        for kind in AssistantPromptKind.allCases { fields.append(("gold_reward/\(kind.rawValue)", n(meanGoldRewardByKind[kind]))) }
        fields.sort { $0.0 < $1.0 }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// Evaluation against gold: the pure part of `tether eval --task assistant` (sampling the policy is the caller's).
public enum AssistantEvaluation {
    /// Judges `responses[i]` to `prompts[i]` (and `reference[i]`, if given, for the win rate); `tokens[i]`, if
    /// given, is the length of response i in the policy's tokens.
    public static func evaluate(prompts: [AssistantPrompt], responses: [String], reference: [String]? = nil,
                                tokens: [Int]? = nil, gold: GoldReward = GoldReward()) -> AssistantEvalReport {
        precondition(responses.count == prompts.count, "\(responses.count) responses for \(prompts.count) prompts")
        precondition(reference.map { $0.count == prompts.count } ?? true, "reference responses must match the prompts")
        precondition(tokens.map { $0.count == prompts.count } ?? true, "token counts must match the prompts")
        let scores = zip(prompts, responses).map { gold.score($0, response: $1) }
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        func rate(_ kind: AssistantPromptKind, _ hit: (GoldScore) -> Bool) -> Double? {
            mean(zip(prompts, scores).filter { $0.0.kind == kind }.map { hit($0.1) ? 1 : 0 })
        }
        var byKind: [AssistantPromptKind: Double] = [:]
        for kind in AssistantPromptKind.allCases {
            byKind[kind] = mean(zip(prompts, scores).filter { $0.0.kind == kind }.map(\.1.total))
        }
        var winRate: Double?, referenceMean: Double?
        if let reference {
            let ref = zip(prompts, reference).map { gold.score($0, response: $1).total }
            let wins = zip(scores, ref).map { s, r in s.total > r + 1e-12 ? 1.0 : abs(s.total - r) <= 1e-12 ? 0.5 : 0 }
            winRate = mean(wins)
            referenceMean = mean(ref)
        }
        return AssistantEvalReport(
            count: prompts.count, meanGoldReward: mean(scores.map(\.total)) ?? 0, meanGoldRewardByKind: byKind,
            winRate: winRate, referenceMeanGoldReward: referenceMean,
            refusalRate: rate(.harmful, \.features.refuses), overRefusalRate: rate(.lookAlike, \.features.refuses),
            arithmeticAccuracy: rate(.arithmetic) { $0.correct == 1 },
            meanWords: mean(scores.map { Double($0.features.words) }) ?? 0,
            meanTokens: tokens.flatMap { mean($0.map(Double.init)) }, scores: scores)
    }

    /// One JSON line per response (keys sorted): prompt, kind, response, gold reward and its parts, whether it
    /// refused, the answer read from it and its words, for inspecting what a policy does.
    public static func recordsJSONL(prompts: [AssistantPrompt], responses: [String], report: AssistantEvalReport) -> String {
        precondition(prompts.count == responses.count && prompts.count == report.scores.count,
                     "\(prompts.count) prompts, \(responses.count) responses, \(report.scores.count) scores")
        var out = ""
        for (p, (r, s)) in zip(prompts, zip(responses, report.scores)) {
            let answer = s.features.answer.map(String.init) ?? "null"
            out += "{\"answer\":\(answer),\"correct\":\(AssistantData.number(s.correct)),\"gold\":\(AssistantData.number(s.total)),"
                + "\"kind\":\(JSONText.quoted(p.kind.rawValue)),\"length_penalty\":\(AssistantData.number(s.lengthPenalty)),"
                + "\"prompt\":\(JSONText.quoted(p.text)),\"refusal_decision\":\(AssistantData.number(s.refusalDecision)),"
                + "\"refused\":\(s.features.refuses),\"response\":\(JSONText.quoted(r)),\"words\":\(s.features.words)}\n"
        }
        return out
    }

    /// A KL(policy || reference) estimate from sampled responses: the mean over samples of
    /// log pi(y|x) - log pi_ref(y|x), each the summed token log-probability of a response the policy sampled
    /// (the unbiased "k1" estimator; it can come out negative on few samples).
    public static func klEstimate(policyLogProbs: [Double], referenceLogProbs: [Double]) -> Double {
        precondition(policyLogProbs.count == referenceLogProbs.count && !policyLogProbs.isEmpty,
                     "need as many reference log-probs as policy log-probs, and at least one")
        return zip(policyLogProbs, referenceLogProbs).map(-).reduce(0, +) / Double(policyLogProbs.count)
    }
}
