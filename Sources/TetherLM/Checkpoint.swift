import Foundation
import Tether
import TetherNN

/// Hugging Face model folders: `config.json` plus `model.safetensors` (or shards listed in
/// `model.safetensors.index.json`), with HF tensor names and layouts.
///
/// Our parameter names are HF's; the only layout difference is GPT-2's Conv1D, which stores
/// `c_attn`, `c_proj` and `c_fc` weights as (in, out): they are transposed on load and save.
/// LoRA adapter factors are not part of a checkpoint: they go to an adapter folder
/// (``CausalLM/saveAdapter(to:)``), or are merged first to bake them into the weights.
public enum Checkpoint {
    /// Checkpoint keys that are buffers, not parameters, and are skipped on load.
    static let bufferSuffixes = [".attn.bias", ".attn.masked_bias", "rotary_emb.inv_freq"]

    /// Whether `name` is a GPT-2 Conv1D weight, stored (in, out) in checkpoints.
    public static func isConv1D(_ name: String, family: TransformerConfig.Family) -> Bool {
        family == .gpt2 && [".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"]
            .contains { name.hasSuffix($0) }
    }

    /// `module`'s parameters by HF name in HF layout (Conv1D weights transposed), detached.
    public static func huggingFaceTensors(of module: Module, family: TransformerConfig.Family) -> [String: Tensor] {
        noGrad {
            var out: [String: Tensor] = [:]
            for (name, p) in module.namedParameters() where !LoRA.isAdapterParameter(name) {
                out[name] = isConv1D(name, family: family) ? p.detach().transpose().contiguousData() : p.detach()
            }
            return out
        }
    }

    /// Writes `config.json` and `model.safetensors` (F32, written to a temporary file and
    /// renamed) into `folder`, creating it if needed; `scoreLabels` marks a scorer's config.
    public static func save(_ module: Module, config: TransformerConfig, to folder: URL,
                            scoreLabels: Int? = nil) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw LMError(.io, file: folder.path, "cannot create folder: \(error.localizedDescription)")
        }
        try SafeTensors.save(huggingFaceTensors(of: module, family: config.family), metadata: ["format": "pt"],
                             to: folder.appendingPathComponent("model.safetensors"))
        try config.write(to: folder.appendingPathComponent("config.json"), scoreLabels: scoreLabels)
    }

    /// Copies every parameter of `module` from the checkpoint in `folder`, in place.
    ///
    /// A parameter the checkpoint lacks is an error unless `allowMissing` accepts its name
    /// (it then keeps its value); a shape that differs is an error naming the tensor, the
    /// file and both shapes. Nothing is changed when it throws. Returns the checkpoint
    /// tensors that were not used (other heads, buffers are skipped silently).
    @discardableResult
    public static func load(into module: Module, family: TransformerConfig.Family, from folder: URL,
                            allowMissing: (String) -> Bool = { _ in false }) throws -> [String] {
        let source = try TensorSource(folder: folder)
        let prefix = trunkName(family) + "."
        var plan: [(parameter: Tensor, name: String, key: String)] = []
        var used = Set<String>()
        for (name, parameter) in module.namedParameters() where !LoRA.isAdapterParameter(name) {
            // GPT-2 checkpoints come with or without the `transformer.` prefix (bare trunks).
            let candidates = name.hasPrefix(prefix) ? [name, String(name.dropFirst(prefix.count))] : [name]
            guard let key = candidates.first(where: { source.contains($0) }) else {
                if allowMissing(name) { continue }
                throw LMError(.missingTensor, file: source.describe(name), name: name,
                              "the checkpoint has no tensor '\(name)', needed with shape \(hfShape(parameter.shape, name, family))")
            }
            let expected = hfShape(parameter.shape, name, family)
            let found = try source.shape(of: key)
            guard found == expected else {
                throw LMError(.shapeMismatch, file: source.describe(key), name: key,
                              "tensor '\(key)' has shape \(found) in the checkpoint, the model expects \(expected)")
            }
            plan.append((parameter, name, key))
            used.insert(key)
        }
        let stored = try plan.map { try source.tensor($0.key) }  // read all before changing any
        for ((parameter, name, _), tensor) in zip(plan, stored) {
            let value = isConv1D(name, family: family) ? tensor.transpose() : tensor
            parameter.storage.markModified()
            noGrad { Strided.copy(value.detach(), into: parameter.data) }
        }
        return source.names.filter { key in
            !used.contains(key) && !bufferSuffixes.contains { key.hasSuffix($0) }
        }.sorted()
    }

    /// A parameter shape (ours) as the checkpoint stores it.
    static func hfShape(_ shape: [Int], _ name: String, _ family: TransformerConfig.Family) -> [Int] {
        isConv1D(name, family: family) ? shape.reversed() : shape
    }
}

/// The tensors of a model folder: one safetensors file or the shards of an index.
struct TensorSource {
    let folder: URL
    /// Tensor name → the file holding it.
    private var fileOf: [String: String] = [:]
    private var files: [String: SafeTensorsFile] = [:]

    init(folder: URL) throws {
        self.folder = folder
        let single = folder.appendingPathComponent("model.safetensors")
        let index = folder.appendingPathComponent("model.safetensors.index.json")
        let fm = FileManager.default
        if fm.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(url: single)
            files["model.safetensors"] = file
            for name in file.names { fileOf[name] = "model.safetensors" }
        } else if fm.fileExists(atPath: index.path) {
            guard let data = try? Data(contentsOf: index),
                  let map = (try? JSONDecoder().decode(JSONValue.self, from: data))?.object?["weight_map"]?.object else {
                throw LMError(.invalidConfig, file: index.path, name: "weight_map", "expected an object mapping tensor names to shard files")
            }
            for (name, value) in map {
                guard case .string(let shard) = value, !shard.contains("/") else {
                    throw LMError(.invalidConfig, file: index.path, name: "weight_map.\(name)", "expected a shard file name, found \(value)")
                }
                fileOf[name] = shard
                if files[shard] == nil {
                    files[shard] = try SafeTensorsFile(url: folder.appendingPathComponent(shard))
                }
                guard files[shard]!.contains(name) else {
                    throw LMError(.missingTensor, file: folder.appendingPathComponent(shard).path, name: name,
                                  "the index lists '\(name)' in this shard but the shard lacks it")
                }
            }
        } else {
            throw LMError(.io, file: folder.path,
                          "no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are supported)")
        }
    }

    /// Every tensor name in the checkpoint.
    var names: [String] { Array(fileOf.keys) }

    func contains(_ name: String) -> Bool { fileOf[name] != nil }

    /// The file that holds `name` (or would: the single file, or the folder), for messages.
    func describe(_ name: String) -> String {
        fileOf[name].map { folder.appendingPathComponent($0).path }
            ?? (files.count == 1 ? folder.appendingPathComponent(files.keys.first!).path : folder.path)
    }

    func shape(of name: String) throws -> [Int] { try files[fileOf[name]!]!.shape(of: name) }

    func tensor(_ name: String) throws -> Tensor { try files[fileOf[name]!]!.tensor(name) }
}

extension CausalLM {
    /// Loads a causal LM from an HF model folder (`config.json`, safetensors weights).
    public convenience init(contentsOf folder: URL) throws {
        let config = try TransformerConfig(contentsOf: folder.appendingPathComponent("config.json"))
        var zeros = WeightSource(rng: nil)  // every weight is overwritten: skip drawing them
        self.init(config: config, weights: &zeros)
        try Checkpoint.load(into: self, family: config.family, from: folder)
    }

    /// Saves `config.json` and `model.safetensors` in HF layout (tied heads are not written).
    public func save(to folder: URL) throws {
        try Checkpoint.save(self, config: config, to: folder)
    }
}

extension ScoreModel {
    /// Loads a scorer from an HF folder. With `requireHead` false, a checkpoint without
    /// `score.weight` (a causal LM, say) loads the trunk and keeps a fresh head (and a zero
    /// verifier). `verifier` nil: one exactly when the checkpoint has `verifier.weight`.
    public convenience init(contentsOf folder: URL, labels: Int = 1, requireHead: Bool = true, verifier: Bool? = nil,
                            seed: UInt64 = 0) throws {
        let config = try TransformerConfig(contentsOf: folder.appendingPathComponent("config.json"))
        let withVerifier = try verifier ?? TensorSource(folder: folder).contains("verifier.weight")
        var zeros = WeightSource(rng: nil)
        // A random head, kept when the checkpoint has none.
        self.init(config: config, labels: labels, verifier: withVerifier, weights: &zeros,
                  head: WeightSource(rng: RandomGenerator(seed: seed)))
        try Checkpoint.load(into: self, family: config.family, from: folder,
                            allowMissing: { !requireHead && ($0 == "score.weight" || $0 == "verifier.weight") })
    }

    /// Saves `config.json` (a `...ForSequenceClassification` with `num_labels`) and
    /// `model.safetensors` in HF layout, the head as `score.weight`.
    public func save(to folder: URL) throws {
        try Checkpoint.save(self, config: config, to: folder, scoreLabels: labels)
    }
}
