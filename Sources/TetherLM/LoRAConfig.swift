import Foundation

/// Which linear layers receive adapters, as PEFT's `target_modules`.
public enum LoRATargets: Sendable, Equatable {
    /// Layers whose path equals a name or ends with `.` + name (`["q_proj", "v_proj"]`).
    case names([String])
    /// Every linear layer except the output layer (`lm_head`): PEFT's `"all-linear"`.
    case allLinear
    /// Layers whose whole path matches a regular expression (PEFT's string form).
    case pattern(String)

    /// Whether the layer at `path` is a target (`isOutput` marks the LM head).
    func matches(_ path: String, isOutput: Bool) throws -> Bool {
        switch self {
        case .names(let names):
            return names.contains { path == $0 || path.hasSuffix("." + $0) }
        case .allLinear:
            return !isOutput
        case .pattern(let source):
            return try Regex(source).wholeMatch(in: path) != nil
        }
    }
}

/// The settings of a LoRA adapter, read from and written to PEFT's `adapter_config.json`.
public struct LoRAConfig: Sendable, Equatable {
    /// The rank r of A (r, in) and B (out, r).
    public var r: Int
    /// `lora_alpha`: the scale is alpha / r (alpha / √r with ``useRSLoRA``).
    public var alpha: Float
    /// `lora_dropout`: dropout on the adapter's input during training.
    public var dropout: Float
    /// `target_modules`: which linear layers are adapted.
    public var targetModules: LoRATargets
    /// `use_rslora`: scale by alpha / √r (rank-stabilised LoRA).
    public var useRSLoRA: Bool
    /// `base_model_name_or_path`: the model the adapter was trained on, if known.
    public var baseModel: String?

    /// A configuration; PEFT's defaults are r 8, alpha 8, dropout 0.
    public init(r: Int = 8, alpha: Float = 8, dropout: Float = 0, targetModules: LoRATargets,
                useRSLoRA: Bool = false, baseModel: String? = nil) {
        self.r = r
        self.alpha = alpha
        self.dropout = dropout
        self.targetModules = targetModules
        self.useRSLoRA = useRSLoRA
        self.baseModel = baseModel
    }

    /// The factor on B·A.
    public var scale: Float { useRSLoRA ? alpha / Float(r).squareRoot() : alpha / Float(r) }

    /// Checks values a user could get wrong; `file` is named in the error.
    func validate(file: String) throws {
        guard r > 0 else { throw LMError(.invalidConfig, file: file, name: "r", "expected a positive rank, found \(r)") }
        guard alpha.isFinite else { throw LMError(.invalidConfig, file: file, name: "lora_alpha", "expected a finite number, found \(alpha)") }
        guard dropout >= 0 && dropout < 1 else {
            throw LMError(.invalidConfig, file: file, name: "lora_dropout", "expected a probability in [0, 1), found \(dropout)")
        }
        switch targetModules {
        case .names(let names) where names.isEmpty:
            throw LMError(.invalidConfig, file: file, name: "target_modules", "expected at least one module name")
        case .pattern(let source):
            do { _ = try Regex(source) } catch {
                throw LMError(.invalidConfig, file: file, name: "target_modules", "invalid regular expression '\(source)': \(error)")
            }
        default: break
        }
    }
}

extension LoRAConfig {
    /// Reads PEFT's `adapter_config.json`. Unsupported PEFT features (DoRA, per-layer rank
    /// or alpha patterns, trained biases, extra saved modules) are errors naming the field.
    public init(contentsOf url: URL) throws {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LMError(.io, file: file, "cannot read adapter config: \(error.localizedDescription)")
        }
        guard let dict = (try? JSONDecoder().decode(JSONValue.self, from: data))?.object else {
            throw LMError(.invalidConfig, file: file, "expected a JSON object")
        }
        let f = Fields(dict: dict, file: file)
        let peftType: String = try f.required("peft_type")
        guard peftType == "LORA" else {
            throw LMError(.unsupported, file: file, name: "peft_type", "only LORA adapters are supported, found '\(peftType)'")
        }
        if let task: String = try f.optional("task_type"), task != "CAUSAL_LM" {
            throw LMError(.unsupported, file: file, name: "task_type", "only CAUSAL_LM adapters are supported, found '\(task)'")
        }
        let bias: String = try f.optional("bias") ?? "none"
        guard bias == "none" else {
            throw LMError(.unsupported, file: file, name: "bias", "only bias \"none\" is supported, found '\(bias)'")
        }
        if try f.optional("use_dora") ?? false {
            throw LMError(.unsupported, file: file, name: "use_dora", "DoRA adapters are not supported")
        }
        for key in ["rank_pattern", "alpha_pattern"] {
            if case .object(let o)? = dict[key], !o.isEmpty {
                throw LMError(.unsupported, file: file, name: key, "per-layer ranks and alphas are not supported")
            }
        }
        for key in ["modules_to_save", "layers_to_transform", "exclude_modules"] {
            if let v = dict[key], !(v.isNull) {
                throw LMError(.unsupported, file: file, name: key, "expected null, found \(v)")
            }
        }
        let targets: LoRATargets
        switch dict["target_modules"] {
        case .array(let list)?:
            targets = .names(try list.enumerated().map { i, v in
                guard case .string(let s) = v else {
                    throw LMError(.invalidConfig, file: file, name: "target_modules[\(i)]", "expected a module name, found \(v)")
                }
                return s
            }.sorted())
        case .string(let s)?:
            targets = s == "all-linear" ? .allLinear : .pattern(s)
        default:
            throw LMError(.invalidConfig, file: file, name: "target_modules", "expected a list of module names or a string")
        }
        let alpha: Double = try f.optional("lora_alpha") ?? 8
        let dropout: Double = try f.optional("lora_dropout") ?? 0
        self.init(r: try f.required("r"), alpha: Float(alpha), dropout: Float(dropout), targetModules: targets,
                  useRSLoRA: try f.optional("use_rslora") ?? false, baseModel: try f.optional("base_model_name_or_path"))
        try validate(file: file)
    }

    /// PEFT's `adapter_config.json` fields for this adapter (`fanInFanOut` for GPT-2's Conv1D).
    func json(fanInFanOut: Bool) -> [String: Any] {
        let targets: Any
        switch targetModules {
        case .names(let names): targets = names
        case .allLinear: targets = "all-linear"
        case .pattern(let s): targets = s
        }
        return [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": Double(alpha),
            "lora_dropout": Double(dropout), "target_modules": targets, "bias": "none",
            "fan_in_fan_out": fanInFanOut, "use_rslora": useRSLoRA, "use_dora": false,
            "base_model_name_or_path": baseModel ?? NSNull(), "inference_mode": false,
            "init_lora_weights": true, "modules_to_save": NSNull(), "layers_to_transform": NSNull(),
            "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](),
        ]
    }

    /// Writes `adapter_config.json` (to a temporary file, then renamed).
    func write(to url: URL, fanInFanOut: Bool) throws {
        do {
            let data = try JSONSerialization.data(withJSONObject: json(fanInFanOut: fanInFanOut),
                                                  options: [.prettyPrinted, .sortedKeys])
            try data.write(to: url, options: .atomic)
        } catch {
            throw LMError(.io, file: url.path, "cannot write adapter config: \(error.localizedDescription)")
        }
    }
}

extension JSONValue {
    /// Whether this is JSON null.
    var isNull: Bool { if case .null = self { return true } else { return false } }
}

extension LoRATargets: Codable {
    /// A list of names, `"all-linear"`, or any other string as a pattern.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let names = try? c.decode([String].self) {
            self = .names(names)
        } else {
            let s = try c.decode(String.self)
            self = s == "all-linear" ? .allLinear : .pattern(s)
        }
    }

    /// Encodes as PEFT writes `target_modules`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .names(let names): try c.encode(names)
        case .allLinear: try c.encode("all-linear")
        case .pattern(let s): try c.encode(s)
        }
    }
}

extension LoRAConfig: Codable {
    enum CodingKeys: String, CodingKey {
        case r, alpha = "lora_alpha", dropout = "lora_dropout", targetModules = "target_modules"
        case useRSLoRA = "use_rslora", baseModel = "base_model_name_or_path"
    }

    /// Decodes PEFT's field names (a run config's `lora:` section); absent fields take
    /// PEFT's defaults except `target_modules`, which is required.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(r: try c.decodeIfPresent(Int.self, forKey: .r) ?? 8,
                  alpha: try c.decodeIfPresent(Float.self, forKey: .alpha) ?? 8,
                  dropout: try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0,
                  targetModules: try c.decode(LoRATargets.self, forKey: .targetModules),
                  useRSLoRA: try c.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false,
                  baseModel: try c.decodeIfPresent(String.self, forKey: .baseModel))
    }
}
