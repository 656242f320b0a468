import Foundation

/// A reward model's pairwise accuracy on held-out pairs, in total and by kind of pair.
public struct RewardAccuracy: Codable, Sendable {
    /// Fraction of pairs whose chosen response gets the higher reward.
    public var evalAccuracy: Double
    /// Pairs measured.
    public var evalPairs: Int
    /// The same by kind of pair (e.g. a ``GoldPairKind``, "products: correctness"); empty when pairs have no kinds.
    public var byKind: [String: KindAccuracy]

    /// The accuracy over `rankedRight` (one flag per pair), and by `kinds` (one per pair) when given.
    public init(rankedRight: [Bool], kinds: [String]? = nil) {
        if let kinds { precondition(rankedRight.count == kinds.count, "reward accuracy: \(rankedRight.count) flags for \(kinds.count) pairs") }
        func accuracy(_ flags: [Bool]) -> Double { Double(flags.filter { $0 }.count) / Double(max(flags.count, 1)) }
        evalAccuracy = accuracy(rankedRight)
        evalPairs = rankedRight.count
        byKind = Dictionary(grouping: zip(kinds ?? [], rankedRight), by: \.0)
            .mapValues { KindAccuracy(accuracy: accuracy($0.map(\.1)), pairs: $0.count) }
    }

    /// One kind's accuracy.
    public struct KindAccuracy: Codable, Sendable, Equatable {
        /// Fraction ranked right.
        public var accuracy: Double
        /// Pairs of the kind.
        public var pairs: Int
    }

    enum CodingKeys: String, CodingKey {
        case evalAccuracy = "eval_accuracy", evalPairs = "eval_pairs", byKind = "by_kind"
    }

    /// One line per kind, sorted by name: "  products: correctness  50.7% of 67".
    public var kindLines: [String] {
        byKind.sorted { $0.key < $1.key }.map { "  \($0.key)  " + String(format: "%.1f%% of %d", 100 * $0.value.accuracy, $0.value.pairs) }
    }

    /// `by_kind` as JSON-ready dictionaries (for `JSONSerialization`).
    public var byKindObject: [String: Any] {
        byKind.mapValues { ["accuracy": $0.accuracy, "pairs": $0.pairs] as [String: Any] }
    }
}
