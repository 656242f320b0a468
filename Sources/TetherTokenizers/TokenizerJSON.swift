import Foundation

/// A JSON value with the path it was read from, so errors can name the bad field.
struct JSONNode {
    let value: Any?
    let path: String
    let file: String?

    func fail(_ message: String) -> TokenizerError { TokenizerError(file: file, path: path, message: message) }
    func sub(_ key: String) -> JSONNode {
        JSONNode(value: (value as? [String: Any])?[key], path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }
    var isNull: Bool { value == nil || value is NSNull }

    func object() throws(TokenizerError) -> [String: Any] {
        guard let o = value as? [String: Any] else { throw fail("expected an object") }
        return o
    }
    func array() throws(TokenizerError) -> [JSONNode] {
        guard let a = value as? [Any] else { throw fail("expected an array") }
        return a.enumerated().map { JSONNode(value: $1, path: "\(path)[\($0)]", file: file) }
    }
    func string() throws(TokenizerError) -> String {
        guard let s = value as? String else { throw fail("expected a string") }
        return s
    }
    func int() throws(TokenizerError) -> Int {
        guard let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 1e15
        else { throw fail("expected an integer") }
        return n.intValue
    }
    func bool(default d: Bool) throws(TokenizerError) -> Bool {
        if isNull { return d }
        guard let b = value as? Bool else { throw fail("expected true or false") }
        return b
    }
    /// The `type` field, required to be one of `allowed`.
    func type(_ allowed: [String]) throws(TokenizerError) -> String {
        let t = try sub("type").string()
        guard allowed.contains(t) else {
            throw sub("type").fail("unsupported type \"\(t)\" (supported: \(allowed.joined(separator: ", ")))")
        }
        return t
    }
}

extension Tokenizer {
    /// Loads a Hugging Face `tokenizer.json` (BPE model) from disk.
    public convenience init(tokenizerJSON url: URL) throws(TokenizerError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError(file: url.path, path: "", message: "cannot read file: \(error.localizedDescription)")
        }
        try self.init(tokenizerJSONData: data, file: url.path)
    }

    /// Parses `tokenizer.json` contents; `file` is used in error messages. Unsupported parts are
    /// errors naming their field; `truncation`, `padding` and offset trimming are not applied.
    public convenience init(tokenizerJSONData data: Data, file: String? = nil) throws(TokenizerError) {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw TokenizerError(file: file, path: "", message: "not valid JSON: \(error.localizedDescription)")
        }
        let root = JSONNode(value: any, path: "", file: file)
        _ = try root.object()

        var added: [AddedToken] = []
        let at = root.sub("added_tokens")
        if !at.isNull {
            for t in try at.array() {
                let special = try t.sub("special").bool(default: false)
                added.append(AddedToken(
                    id: Int32(try t.sub("id").int()), content: try t.sub("content").string(), special: special,
                    singleWord: try t.sub("single_word").bool(default: false), lstrip: try t.sub("lstrip").bool(default: false),
                    rstrip: try t.sub("rstrip").bool(default: false), normalized: try t.sub("normalized").bool(default: !special)))
            }
        }

        var normalizer: Normalizer? = nil
        let nz = root.sub("normalizer")
        if !nz.isNull {
            _ = try nz.type(["NFC"])
            normalizer = .nfc
        }

        let pre = try Self.parsePreTokenizer(root.sub("pre_tokenizer"))
        let model = try Self.parseModel(root.sub("model"))
        let post = try Self.parsePostProcessor(root.sub("post_processor"))

        var decoder = TokenDecoder.none
        let dec = root.sub("decoder")
        if !dec.isNull {
            _ = try dec.type(["ByteLevel"])
            decoder = .byteLevel
        }
        self.init(model: model, addedTokens: added, normalizer: normalizer, preTokenizer: pre, postProcessor: post, decoder: decoder)
    }

    private static func parseByteLevel(_ n: JSONNode, split: SplitPattern?) throws(TokenizerError) -> PreTokenizer {
        _ = try n.type(["ByteLevel"])
        return PreTokenizer(split: split, addPrefixSpace: try n.sub("add_prefix_space").bool(default: true),
                            useRegex: try n.sub("use_regex").bool(default: true))
    }

    private static func parsePreTokenizer(_ n: JSONNode) throws(TokenizerError) -> PreTokenizer {
        if n.isNull { throw n.fail("expected a ByteLevel pre-tokenizer (or Sequence[Split, ByteLevel]) for a byte-level BPE model") }
        let t = try n.type(["ByteLevel", "Sequence"])
        if t == "ByteLevel" { return try parseByteLevel(n, split: nil) }
        let items = try n.sub("pretokenizers").array()
        guard items.count == 2 else { throw n.sub("pretokenizers").fail("expected [Split, ByteLevel], got \(items.count) items") }
        let s = items[0]
        _ = try s.type(["Split"])
        let regexNode = s.sub("pattern").sub("Regex")
        let regex = try regexNode.string()
        guard let pattern = SplitPattern(regex: regex) else {
            throw regexNode.fail("unknown split regex (supported: the GPT-2, Llama-3 and Qwen2 patterns): \(regex)")
        }
        let behavior = try s.sub("behavior").string()
        guard behavior == "Isolated" else { throw s.sub("behavior").fail("unsupported behavior \"\(behavior)\" (expected Isolated)") }
        guard try !s.sub("invert").bool(default: false) else { throw s.sub("invert").fail("inverted split is not supported") }
        return try parseByteLevel(items[1], split: pattern)
    }

    private static func parseModel(_ n: JSONNode) throws(TokenizerError) -> BPEModel {
        _ = try n.object()
        if !n.sub("type").isNull { _ = try n.type(["BPE"]) }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            let v = n.sub(key)
            if !v.isNull, try v.string() != "" { throw v.fail("not supported for byte-level BPE (expected null)") }
        }
        if try n.sub("byte_fallback").bool(default: false) { throw n.sub("byte_fallback").fail("byte_fallback is not supported") }
        let dropout = n.sub("dropout")
        if !dropout.isNull, let d = dropout.value as? Double, d != 0 { throw dropout.fail("BPE dropout is not supported") }
        let vn = n.sub("vocab")
        var vocab: [String: Int32] = [:]
        for (k, v) in try vn.object() {
            vocab[k] = Int32(try JSONNode(value: v, path: "\(vn.path)[\(k)]", file: n.file).int())
        }
        var merges: [(String, String)] = []
        let mn = n.sub("merges")
        if !mn.isNull {
            for m in try mn.array() {
                if let s = m.value as? String {
                    let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else { throw m.fail("expected \"left right\", got \"\(s)\"") }
                    merges.append((String(parts[0]), String(parts[1])))
                } else if let a = m.value as? [Any], a.count == 2, let l = a[0] as? String, let r = a[1] as? String {
                    merges.append((l, r))
                } else {
                    throw m.fail("expected a merge as \"left right\" or [\"left\", \"right\"]")
                }
            }
        }
        do {
            let unk = n.sub("unk_token")
            return try BPEModel(vocab: vocab, merges: merges, ignoreMerges: try n.sub("ignore_merges").bool(default: false),
                                unkToken: unk.isNull ? nil : try unk.string())
        } catch {
            var e = error
            e.file = n.file
            return try { () throws(TokenizerError) -> BPEModel in throw e }()
        }
    }

    private static func parseTemplate(_ n: JSONNode) throws(TokenizerError) -> [TemplatePiece] {
        try n.array().map { (p: JSONNode) throws(TokenizerError) -> TemplatePiece in
            if !p.sub("SpecialToken").isNull {
                let s = p.sub("SpecialToken")
                return .special(try s.sub("id").string(), typeId: try s.sub("type_id").int())
            }
            if !p.sub("Sequence").isNull {
                let s = p.sub("Sequence")
                return .sequence(try s.sub("id").string(), typeId: try s.sub("type_id").int())
            }
            throw p.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}")
        }
    }

    private static func parsePostProcessor(_ n: JSONNode) throws(TokenizerError) -> PostProcessor? {
        if n.isNull { return nil }
        let t = try n.type(["ByteLevel", "TemplateProcessing", "Sequence"])
        switch t {
        case "ByteLevel": return nil  // only trims offsets; adds no tokens
        case "Sequence":
            var found: PostProcessor? = nil
            for p in try n.sub("processors").array() {
                if let pp = try parsePostProcessor(p) {
                    guard found == nil else { throw p.fail("only one TemplateProcessing is supported in a Sequence") }
                    found = pp
                }
            }
            return found
        default:
            var specials: [String: [Int32]] = [:]
            let sn = n.sub("special_tokens")
            if !sn.isNull {
                for (k, _) in try sn.object() {
                    specials[k] = try sn.sub(k).sub("ids").array().map { (x: JSONNode) throws(TokenizerError) in Int32(try x.int()) }
                }
            }
            let single = try parseTemplate(n.sub("single"))
            let pair = n.sub("pair").isNull ? single : try parseTemplate(n.sub("pair"))
            for case .special(let name, _) in single + pair where specials[name] == nil {
                throw n.sub("special_tokens").fail("template uses \"\(name)\" but special_tokens does not define it")
            }
            return PostProcessor(single: single, pair: pair, specialTokens: specials)
        }
    }

    /// Loads GPT-2's `vocab.json` + `merges.txt` (ByteLevel GPT-2 pre-tokenizer and decoder);
    /// `specialTokens` names vocabulary entries to treat as special added tokens.
    public convenience init(vocabJSON: URL, mergesTXT: URL, specialTokens: [String] = []) throws(TokenizerError) {
        let vdata: Data, mtext: String
        do { vdata = try Data(contentsOf: vocabJSON) } catch {
            throw TokenizerError(file: vocabJSON.path, path: "", message: "cannot read file: \(error.localizedDescription)")
        }
        do { mtext = try String(contentsOf: mergesTXT, encoding: .utf8) } catch {
            throw TokenizerError(file: mergesTXT.path, path: "", message: "cannot read UTF-8 file: \(error.localizedDescription)")
        }
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: vdata) } catch {
            throw TokenizerError(file: vocabJSON.path, path: "", message: "not valid JSON: \(error.localizedDescription)")
        }
        let root = JSONNode(value: any, path: "", file: vocabJSON.path)
        var vocab: [String: Int32] = [:]
        for (k, v) in try root.object() {
            vocab[k] = Int32(try JSONNode(value: v, path: "[\(k)]", file: vocabJSON.path).int())
        }
        var merges: [(String, String)] = []
        for (i, line) in mtext.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.hasSuffix("\r") ? line.dropLast() : line
            if l.isEmpty || (i == 0 && l.hasPrefix("#version")) { continue }
            let parts = l.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError(file: mergesTXT.path, path: "line \(i + 1)", message: "expected \"left right\", got \"\(l)\"")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let model: BPEModel
        do { model = try BPEModel(vocab: vocab, merges: merges) } catch {
            var e = error
            e.file = mergesTXT.path
            throw e
        }
        var added: [AddedToken] = []
        for s in specialTokens {
            guard let id = vocab[s] else {
                throw TokenizerError(file: vocabJSON.path, path: "[\(s)]", message: "special token is not in the vocabulary")
            }
            added.append(AddedToken(id: id, content: s))
        }
        self.init(model: model, addedTokens: added, preTokenizer: PreTokenizer(addPrefixSpace: false, useRegex: true), decoder: .byteLevel)
    }

    /// The tokenizer as `tokenizer.json` data that the HF `tokenizers` library loads (keys sorted, merges as pairs).
    public func tokenizerJSONData() -> Data {
        func byteLevel(_ p: PreTokenizer) -> [String: Any] {
            ["type": "ByteLevel", "add_prefix_space": p.addPrefixSpace, "trim_offsets": true, "use_regex": p.useRegex]
        }
        let pre: [String: Any]
        if let split = preTokenizer.split {
            pre = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": split.regex], "behavior": "Isolated", "invert": false] as [String: Any],
                byteLevel(preTokenizer)]]
        } else {
            pre = byteLevel(preTokenizer)
        }
        func template(_ t: [TemplatePiece]) -> [[String: Any]] {
            t.map {
                switch $0 {
                case .special(let id, let ty): return ["SpecialToken": ["id": id, "type_id": ty] as [String: Any]]
                case .sequence(let id, let ty): return ["Sequence": ["id": id, "type_id": ty] as [String: Any]]
                }
            }
        }
        var post: Any = NSNull()
        if let p = postProcessor {
            var specials: [String: Any] = [:]
            for (name, ids) in p.specialTokens {
                specials[name] = ["id": name, "ids": ids.map { Int($0) }, "tokens": ids.map { idToToken($0) ?? "" }] as [String: Any]
            }
            post = ["type": "TemplateProcessing", "single": template(p.single), "pair": template(p.pair),
                    "special_tokens": specials] as [String: Any]
        }
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": addedTokens.map {
                ["id": Int($0.id), "content": $0.content, "single_word": $0.singleWord, "lstrip": $0.lstrip,
                 "rstrip": $0.rstrip, "normalized": $0.normalized, "special": $0.special] as [String: Any]
            },
            "normalizer": normalizer.map { ["type": $0.rawValue] as Any } ?? NSNull(),
            "pre_tokenizer": pre,
            "post_processor": post,
            "decoder": decoder == .byteLevel
                ? ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true] as [String: Any] as Any : NSNull(),
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": model.unkToken.map { $0 as Any } ?? NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": model.ignoreMerges,
                "vocab": model.vocab.mapValues { Int($0) }, "merges": model.merges.map { [$0.0, $0.1] },
            ] as [String: Any],
        ]
        return try! JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// Writes `tokenizer.json` atomically (temporary file, then rename).
    public func save(tokenizerJSON url: URL) throws(TokenizerError) {
        do { try tokenizerJSONData().write(to: url, options: .atomic) } catch {
            throw TokenizerError(file: url.path, path: "", message: "cannot write file: \(error.localizedDescription)")
        }
    }
}
