import Foundation

/// Text normalization applied before pre-tokenization (outside added tokens).
public enum Normalizer: String, Sendable {
    /// Unicode NFC composition (Qwen2's tokenizer.json uses it).
    case nfc = "NFC"

    func apply(_ s: String) -> String {
        switch self {
        case .nfc: return s.precomposedStringWithCanonicalMapping
        }
    }
}

/// The pre-tokenization stage: an optional `Split` pattern, then HF's `ByteLevel` pre-tokenizer.
public struct PreTokenizer: Sendable, Equatable {
    /// A `Split` with this pattern runs first (Llama-3 / Qwen2 files); nil for plain ByteLevel.
    public var split: SplitPattern?
    /// ByteLevel `add_prefix_space`: each piece not starting with a space gets one.
    public var addPrefixSpace: Bool
    /// ByteLevel `use_regex`: split each piece with the GPT-2 pattern.
    public var useRegex: Bool

    /// Creates a pre-tokenizer configuration.
    public init(split: SplitPattern? = nil, addPrefixSpace: Bool = false, useRegex: Bool = true) {
        self.split = split
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
    }

    /// GPT-2's: ByteLevel with the GPT-2 regex, no prefix space.
    public static let gpt2 = PreTokenizer()
    /// Llama-3's: Split(Llama-3 regex), then ByteLevel without regex.
    public static let llama3 = PreTokenizer(split: .llama3, useRegex: false)
    /// Qwen2's: as Llama-3's but one digit per piece, so every number is spelled digit by digit.
    public static let qwen2 = PreTokenizer(split: .qwen2, useRegex: false)

    /// Calls `body` with the raw bytes of each pre-token of `text` and its start offset in `text`
    /// (a prefix space has no source byte; its piece reports the offset of its first real byte).
    func forEachPiece(_ text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
        func byteLevel(_ piece: UnsafeBufferPointer<UInt8>, _ offset: Int) {
            if piece.isEmpty { return }
            if addPrefixSpace && piece[0] != 0x20 {
                var tmp = [UInt8](repeating: 0x20, count: piece.count + 1)
                for i in 0..<piece.count { tmp[i + 1] = piece[i] }
                tmp.withUnsafeBufferPointer { t in
                    if useRegex {
                        SplitPattern.gpt2.split(t) { r in body(UnsafeBufferPointer(rebasing: t[r]), offset + max(r.lowerBound - 1, 0)) }
                    } else {
                        body(t, offset)
                    }
                }
            } else if useRegex {
                SplitPattern.gpt2.split(piece) { r in body(UnsafeBufferPointer(rebasing: piece[r]), offset + r.lowerBound) }
            } else {
                body(piece, offset)
            }
        }
        if let split {
            split.split(text) { r in byteLevel(UnsafeBufferPointer(rebasing: text[r]), r.lowerBound) }
        } else {
            byteLevel(text, 0)
        }
    }
}

/// One item of a `TemplateProcessing` template: a special token or a sequence slot.
public enum TemplatePiece: Sendable, Equatable {
    /// A special token by name (looked up in the processor's `specialTokens`).
    case special(String, typeId: Int)
    /// The A (first) or B (second) sequence.
    case sequence(String, typeId: Int)
}

/// HF's post-processor: adds special tokens such as BOS/EOS around an encoding.
public struct PostProcessor: Sendable, Equatable {
    /// Template for a single sequence.
    public var single: [TemplatePiece]
    /// Template for a pair of sequences.
    public var pair: [TemplatePiece]
    /// Special token name -> ids it expands to.
    public var specialTokens: [String: [Int32]]

    /// Creates a template post-processor.
    public init(single: [TemplatePiece], pair: [TemplatePiece], specialTokens: [String: [Int32]]) {
        self.single = single
        self.pair = pair
        self.specialTokens = specialTokens
    }

    /// Ids placed before and after sequence A in the single template.
    var singlePrefixSuffix: (prefix: [Int32], suffix: [Int32]) {
        var prefix: [Int32] = [], suffix: [Int32] = []
        var seenA = false
        for p in single {
            switch p {
            case .sequence: seenA = true
            case .special(let name, _):
                let ids = specialTokens[name] ?? []
                if seenA { suffix += ids } else { prefix += ids }
            }
        }
        return (prefix, suffix)
    }

    /// Fills the pair template with `a` and `b`; returns ids and their type ids.
    func apply(_ a: [Int32], pair b: [Int32]) -> (ids: [Int32], typeIds: [Int32]) {
        var ids: [Int32] = [], types: [Int32] = []
        for p in pair {
            switch p {
            case .special(let name, let ty):
                let s = specialTokens[name] ?? []
                ids += s
                types += [Int32](repeating: Int32(ty), count: s.count)
            case .sequence(let which, let ty):
                let s = which == "A" ? a : b
                ids += s
                types += [Int32](repeating: Int32(ty), count: s.count)
            }
        }
        return (ids, types)
    }

    /// Adds the single template's tokens to `ids`. A prefix (BOS) that `ids` already starts with
    /// is not added a second time.
    func apply(_ ids: [Int32]) -> [Int32] {
        let (prefix, suffix) = singlePrefixSuffix
        let hasPrefix = !prefix.isEmpty && ids.starts(with: prefix)
        return (hasPrefix ? [] : prefix) + ids + suffix
    }
}

/// How ids turn back into text.
public enum TokenDecoder: String, Sendable {
    /// HF ByteLevel decoder: each token's characters map back to bytes, then UTF-8 (lossy).
    case byteLevel = "ByteLevel"
    /// No decoder: tokens joined by spaces (as HF does when `decoder` is null).
    case none
}
