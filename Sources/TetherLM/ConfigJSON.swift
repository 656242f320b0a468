import Foundation

/// Reading and writing Hugging Face `config.json`.
extension TransformerConfig {
    /// The `model_type`s this package can build.
    public static let supportedModelTypes = ["gpt2", "llama", "qwen2", "mistral"]

    /// Reads the `config.json` at `url`; errors name the file and the field.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LMError(.io, file: url.path, "cannot read config: \(error.localizedDescription)")
        }
        try self.init(huggingFaceJSON: data, file: url.path)
    }

    /// Parses HF config JSON; `file` is only used in error messages.
    public init(huggingFaceJSON data: Data, file: String = "config.json") throws {
        guard let dict = (try? JSONDecoder().decode(JSONValue.self, from: data))?.object else {
            throw LMError(.invalidConfig, file: file, "not a JSON object")
        }
        let f = Fields(dict: dict, file: file)
        let modelType: String = try f.required("model_type")
        switch modelType {
        case "gpt2":
            let hidden: Int = try f.required("n_embd")
            let heads: Int = try f.required("n_head")
            if try f.optional("scale_attn_by_inverse_layer_idx") ?? false {
                throw LMError(.unsupported, file: file, name: "scale_attn_by_inverse_layer_idx", "true is not supported")
            }
            if let scale: Bool = try f.optional("scale_attn_weights"), !scale {
                throw LMError(.unsupported, file: file, name: "scale_attn_weights", "false is not supported")
            }
            let act = try Self.activation(try f.optional("activation_function") ?? "gelu_new", field: "activation_function", file: file)
            self.init(modelType: modelType, family: .gpt2, vocabSize: try f.required("vocab_size"),
                      hiddenSize: hidden, layers: try f.required("n_layer"), heads: heads, kvHeads: heads,
                      intermediateSize: try f.optional("n_inner") ?? 4 * hidden,
                      maxPositions: try f.required("n_positions"),
                      normEps: Float(try f.optional("layer_norm_epsilon") ?? 1e-5 as Double),
                      tieWordEmbeddings: try f.optional("tie_word_embeddings") ?? true,
                      qkvBias: true, outputBias: true, mlpBias: true, activation: act,
                      initializerRange: Float(try f.optional("initializer_range") ?? 0.02 as Double),
                      bosTokenId: try f.optional("bos_token_id"), eosTokenIds: try f.ids("eos_token_id"),
                      padTokenId: try f.optional("pad_token_id"))
        case "llama", "qwen2", "mistral":
            let hidden: Int = try f.required("hidden_size")
            let heads: Int = try f.required("num_attention_heads")
            let act = try Self.activation(try f.optional("hidden_act") ?? "silu", field: "hidden_act", file: file)
            guard act == .silu else {
                throw LMError(.unsupported, file: file, name: "hidden_act", "only silu is supported for \(modelType)")
            }
            // Newer configs nest rope settings in `rope_parameters`; older ones use top-level fields.
            let rope = dict["rope_parameters"]?.object
            let ropeFields = rope.map { Fields(dict: $0, file: file, prefix: "rope_parameters.") }
            let theta: Double = try ropeFields?.optional("rope_theta") ?? f.optional("rope_theta") ?? 10000
            let scaling = try Self.ropeScaling(rope ?? dict["rope_scaling"]?.object,
                                               field: rope != nil ? "rope_parameters" : "rope_scaling", file: file)
            let attentionBias: Bool = try f.optional("attention_bias") ?? false
            let sliding: Int? = (try f.optional("use_sliding_window") ?? (modelType == "mistral")) ? try f.optional("sliding_window") : nil
            self.init(modelType: modelType, family: .llama, vocabSize: try f.required("vocab_size"),
                      hiddenSize: hidden, layers: try f.required("num_hidden_layers"), heads: heads,
                      kvHeads: try f.optional("num_key_value_heads") ?? heads, headDim: try f.optional("head_dim"),
                      intermediateSize: try f.required("intermediate_size"),
                      maxPositions: try f.optional("max_position_embeddings") ?? 2048,
                      normEps: Float(try f.optional("rms_norm_eps") ?? 1e-6 as Double),
                      ropeTheta: theta, ropeScaling: scaling,
                      tieWordEmbeddings: try f.optional("tie_word_embeddings") ?? false,
                      qkvBias: modelType == "qwen2" ? true : attentionBias,
                      outputBias: modelType == "qwen2" ? false : attentionBias,
                      mlpBias: try f.optional("mlp_bias") ?? false, activation: act,
                      initializerRange: Float(try f.optional("initializer_range") ?? 0.02 as Double),
                      bosTokenId: try f.optional("bos_token_id"), eosTokenIds: try f.ids("eos_token_id"),
                      padTokenId: try f.optional("pad_token_id"), slidingWindow: sliding)
        default:
            throw LMError(.unsupported, file: file, name: "model_type",
                          "unsupported architecture '\(modelType)'; supported: \(Self.supportedModelTypes.joined(separator: ", "))")
        }
        guard heads % kvHeads == 0, kvHeads > 0 else {
            throw LMError(.invalidConfig, file: file, name: "num_key_value_heads",
                          "\(kvHeads) does not divide num_attention_heads \(heads)")
        }
        if family == .gpt2 && hiddenSize % heads != 0 {
            throw LMError(.invalidConfig, file: file, name: "n_head", "\(heads) does not divide n_embd \(hiddenSize)")
        }
    }

    /// The config as HF `config.json` (keys sorted, pretty-printed); with `scoreLabels`,
    /// for a sequence-classification (reward / value) model with that many outputs.
    public func huggingFaceJSON(scoreLabels: Int? = nil) throws -> Data {
        var d: [String: Any] = ["model_type": modelType, "vocab_size": vocabSize,
                                "tie_word_embeddings": tieWordEmbeddings,
                                "initializer_range": Double(initializerRange)]
        if let bosTokenId { d["bos_token_id"] = bosTokenId }
        if eosTokenIds.count == 1 { d["eos_token_id"] = eosTokenIds[0] } else if !eosTokenIds.isEmpty { d["eos_token_id"] = eosTokenIds }
        if let padTokenId { d["pad_token_id"] = padTokenId }
        switch family {
        case .gpt2:
            d["architectures"] = ["GPT2LMHeadModel"]
            d["n_embd"] = hiddenSize; d["n_layer"] = layers; d["n_head"] = heads
            d["n_inner"] = intermediateSize; d["n_positions"] = maxPositions
            d["layer_norm_epsilon"] = Double(normEps)
            d["activation_function"] = activation == .gelu ? "gelu" : "gelu_new"
        case .llama:
            let arch = ["llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "mistral": "MistralForCausalLM"]
            d["architectures"] = [arch[modelType] ?? "LlamaForCausalLM"]
            d["hidden_size"] = hiddenSize; d["num_hidden_layers"] = layers
            d["num_attention_heads"] = heads; d["num_key_value_heads"] = kvHeads; d["head_dim"] = headDim
            d["intermediate_size"] = intermediateSize; d["max_position_embeddings"] = maxPositions
            d["rms_norm_eps"] = Double(normEps); d["rope_theta"] = ropeTheta; d["hidden_act"] = "silu"
            d["mlp_bias"] = mlpBias
            if modelType != "qwen2" { d["attention_bias"] = qkvBias }
            if let slidingWindow { d["sliding_window"] = slidingWindow; d["use_sliding_window"] = true }
            switch ropeScaling {
            case nil: break
            case .linear(let factor): d["rope_scaling"] = ["rope_type": "linear", "factor": factor]
            case .llama3(let factor, let low, let high, let original):
                d["rope_scaling"] = ["rope_type": "llama3", "factor": factor, "low_freq_factor": low,
                                     "high_freq_factor": high, "original_max_position_embeddings": original]
            }
        }
        if let scoreLabels, let arch = (d["architectures"] as? [String])?.first {
            d["architectures"] = [arch.replacingOccurrences(of: "LMHeadModel", with: "ForSequenceClassification")
                .replacingOccurrences(of: "ForCausalLM", with: "ForSequenceClassification")]
            d["num_labels"] = scoreLabels
        }
        return try JSONSerialization.data(withJSONObject: d, options: [.prettyPrinted, .sortedKeys])
    }

    /// Writes HF `config.json` to `url` (a temporary file renamed into place).
    public func write(to url: URL, scoreLabels: Int? = nil) throws {
        do { try huggingFaceJSON(scoreLabels: scoreLabels).write(to: url, options: .atomic) } catch {
            throw LMError(.io, file: url.path, "cannot write config: \(error.localizedDescription)")
        }
    }

    static func activation(_ name: String, field: String, file: String) throws -> Activation {
        switch name {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "gelu": return .gelu
        case "silu", "swish": return .silu
        default: throw LMError(.unsupported, file: file, name: field, "unsupported activation '\(name)'")
        }
    }

    static func ropeScaling(_ dict: [String: JSONValue]?, field: String, file: String) throws -> RopeScaling? {
        guard let dict else { return nil }
        let f = Fields(dict: dict, file: file, prefix: field + ".")
        let type: String = try f.optional("rope_type") ?? f.optional("type") ?? "default"
        switch type {
        case "default": return nil
        case "linear": return .linear(factor: try f.required("factor"))
        case "llama3":
            return .llama3(factor: try f.required("factor"), lowFreqFactor: try f.required("low_freq_factor"),
                           highFreqFactor: try f.required("high_freq_factor"),
                           originalMaxPositions: try f.required("original_max_position_embeddings"))
        default:
            throw LMError(.unsupported, file: file, name: field + ".rope_type",
                          "unsupported RoPE scaling '\(type)'; supported: default, linear, llama3")
        }
    }
}

/// A parsed JSON value (decoded with JSONDecoder, so booleans and numbers stay distinct).
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// The object's fields, or nil if this is not an object.
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
}

/// Typed access to a JSON object's fields, with errors naming the file and field.
struct Fields {
    let dict: [String: JSONValue]
    let file: String
    var prefix = ""

    /// The value of `key` converted to T, or nil when absent or null.
    func optional<T>(_ key: String) throws -> T? {
        guard let raw = dict[key] else { return nil }
        switch raw {
        case .null: return nil
        case .number(let n) where T.self == Int.self && n == n.rounded() && abs(n) < 1e15: return Int(n) as? T
        case .number(let n) where T.self == Double.self: return n as? T
        case .bool(let b) where T.self == Bool.self: return b as? T
        case .string(let s) where T.self == String.self: return s as? T
        default: throw LMError(.invalidConfig, file: file, name: prefix + key, "expected \(T.self), found \(raw)")
        }
    }

    /// The value of `key` converted to T; missing is an error.
    func required<T>(_ key: String) throws -> T {
        guard let value: T = try optional(key) else {
            throw LMError(.invalidConfig, file: file, name: prefix + key, "required field is missing")
        }
        return value
    }

    /// An id or a list of ids (`eos_token_id` may be either).
    func ids(_ key: String) throws -> [Int] {
        if case .array(let list)? = dict[key] {
            return try list.enumerated().map { i, v in
                guard case .number(let n) = v, n == n.rounded() else {
                    throw LMError(.invalidConfig, file: file, name: "\(prefix)\(key)[\(i)]", "expected an integer id, found \(v)")
                }
                return Int(n)
            }
        }
        return try optional(key).map { [$0] } ?? []
    }
}
