/// How tokens are drawn and when a sample ends.
///
/// Filters apply in Hugging Face's order: temperature, top-k, top-p, min-p. A temperature
/// of 0 is greedy decoding (the filters then change nothing and no random draw is made).
public struct SamplingConfig: Codable, Sendable, Equatable {
    /// Divides the logits before sampling; 0 means greedy (argmax).
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (nil or 0: no limit).
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability sums to at least `topP` (1: off).
    public var topP: Float
    /// Drop tokens whose probability is below `minP` times the top token's (0: off).
    public var minP: Float
    /// The most tokens generated per sample.
    public var maxNewTokens: Int
    /// Token ids that end a sample (kept in its `tokenIds`); nil means the model's EOS ids.
    public var stopTokenIds: [Int32]?
    /// Strings that end a sample: the text is cut before the first one (needs a `decode`).
    public var stopStrings: [String]
    /// Seed of the per-row random streams.
    public var seed: UInt64

    /// A config; the defaults sample at temperature 1 with no filter, 256 tokens, seed 0.
    public init(temperature: Float = 1, topK: Int? = nil, topP: Float = 1, minP: Float = 0,
                maxNewTokens: Int = 256, stopTokenIds: [Int32]? = nil, stopStrings: [String] = [],
                seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.maxNewTokens = maxNewTokens
        self.stopTokenIds = stopTokenIds
        self.stopStrings = stopStrings
        self.seed = seed
    }

    /// Greedy decoding of up to `maxNewTokens` tokens.
    public static func greedy(maxNewTokens: Int = 256) -> SamplingConfig {
        SamplingConfig(temperature: 0, maxNewTokens: maxNewTokens)
    }

    /// Whether this config picks the argmax instead of sampling.
    public var isGreedy: Bool { temperature == 0 }

    /// Throws ``GenerationError/invalidConfig(field:message:)`` naming the first bad field.
    public func validate() throws {
        func bad(_ field: String, _ message: String) -> GenerationError {
            .invalidConfig(field: field, message: message)
        }
        guard temperature.isFinite && temperature >= 0 else {
            throw bad("temperature", "must be a finite number >= 0 (0 is greedy), got \(temperature)")
        }
        if let topK, topK < 0 { throw bad("topK", "must be >= 0 (0 or absent: no limit), got \(topK)") }
        guard topP > 0 && topP <= 1 else { throw bad("topP", "must be in (0, 1], got \(topP)") }
        guard minP >= 0 && minP <= 1 else { throw bad("minP", "must be in [0, 1], got \(minP)") }
        guard maxNewTokens >= 0 else { throw bad("maxNewTokens", "must be >= 0, got \(maxNewTokens)") }
        if let i = stopStrings.firstIndex(of: "") {
            throw bad("stopStrings", "entry \(i) is empty; a stop string needs at least one character")
        }
    }

    /// The stop ids in effect for `model`: the given ones, or the model's EOS ids.
    public func stopIds(for model: TransformerConfig) -> Set<Int32> {
        Set(stopTokenIds ?? model.eosTokenIds.map { Int32($0) })
    }
}

/// Why generation (or log-prob scoring) input was rejected.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// A ``SamplingConfig`` field is out of range.
    case invalidConfig(field: String, message: String)
    /// Prompt `index` has no tokens (a first token needs something to follow).
    case emptyPrompt(index: Int)
    /// A token id of prompt (or completion) `index` is outside the vocabulary.
    case tokenOutOfRange(index: Int, token: Int32, vocabSize: Int)
    /// Prompt `index` plus the tokens to add would exceed what the model can attend to.
    case tooLong(index: Int, tokens: Int, limit: Int, reason: String)
    /// `stopStrings` were given without a `decode` function to find them with.
    case stopStringsNeedDecode

    /// A message naming the field or prompt and what was expected.
    public var description: String {
        switch self {
        case let .invalidConfig(field, message): return "sampling config: \(field) \(message)"
        case let .emptyPrompt(index): return "prompt \(index) is empty; it needs at least one token"
        case let .tokenOutOfRange(index, token, vocab):
            return "sequence \(index): token id \(token) is outside the vocabulary 0..<\(vocab)"
        case let .tooLong(index, tokens, limit, reason):
            return "sequence \(index): \(tokens) tokens exceed the limit of \(limit) (\(reason))"
        case .stopStringsNeedDecode:
            return "sampling config: stopStrings need a decode function to turn tokens into text"
        }
    }
}
