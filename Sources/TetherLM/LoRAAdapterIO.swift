import Foundation
import Tether
import TetherNN

/// PEFT's adapter folders: `adapter_config.json` plus `adapter_model.safetensors`, whose
/// keys are `base_model.model.` + the parameter path (`….c_attn.lora_A.weight`). A is
/// (r, in) and B (out, r) for every layer, GPT-2's Conv1D included (PEFT's lora_A/lora_B
/// are plain linear layers; `fan_in_fan_out` only affects how PEFT merges).
public enum LoRAAdapterFile {
    /// The prefix PEFT puts before a causal LM's parameter names.
    public static let keyPrefix = "base_model.model."
    /// The config file's name.
    public static let configName = "adapter_config.json"
    /// The weights file's name.
    public static let weightsName = "adapter_model.safetensors"
}

extension CausalLM {
    /// Writes the attached adapters as PEFT does: `adapter_config.json` and
    /// `adapter_model.safetensors` (each written to a temporary file and renamed), creating
    /// `folder` if needed. Merged adapters are saved as their A and B all the same.
    public func saveAdapter(to folder: URL) throws {
        guard let config = adapterConfig else {
            throw LMError(.invalidConfig, file: folder.path, "the model has no LoRA adapters to save")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw LMError(.io, file: folder.path, "cannot create folder: \(error.localizedDescription)")
        }
        var tensors: [String: Tensor] = [:]
        for (path, linear) in loraLayers() {
            let lora = linear.lora!
            tensors[LoRAAdapterFile.keyPrefix + path + ".lora_A.weight"] = lora.a.weight.detach()
            tensors[LoRAAdapterFile.keyPrefix + path + ".lora_B.weight"] = lora.b.weight.detach()
        }
        try SafeTensors.save(tensors, metadata: ["format": "pt"],
                             to: folder.appendingPathComponent(LoRAAdapterFile.weightsName))
        // PEFT saves "all-linear" expanded to the adapted layers' paths.
        var written = config
        if config.targetModules == .allLinear { written.targetModules = .names(loraLayers().map(\.0).sorted()) }
        // GPT-2's projections are Conv1D in PyTorch: PEFT records fan_in_fan_out for them.
        try written.write(to: folder.appendingPathComponent(LoRAAdapterFile.configName),
                         fanInFanOut: self.config.family == .gpt2)
    }

    /// Reads a PEFT adapter folder, attaches its adapters (replacing any) and loads their
    /// weights; the base is frozen and the adapters are trainable. Returns the config.
    ///
    /// Every expected key must be present with shape A (r, in) / B (out, r), and no other
    /// key may appear; errors name the file and the key. Nothing changes when it throws.
    @discardableResult
    public func loadAdapter(from folder: URL, seed: UInt64 = 0) throws -> LoRAConfig {
        let configURL = folder.appendingPathComponent(LoRAAdapterFile.configName)
        let weightsURL = folder.appendingPathComponent(LoRAAdapterFile.weightsName)
        let config = try LoRAConfig(contentsOf: configURL)
        let paths = try loraTargetPaths(config.targetModules, outputLayers: outputLayerPaths, file: configURL.path)
        let file = try SafeTensorsFile(url: weightsURL)
        var expected: [String: [Int]] = [:]
        for path in paths {
            let linear = module(at: path) as! Linear
            expected[LoRAAdapterFile.keyPrefix + path + ".lora_A.weight"] = [config.r, linear.inFeatures]
            expected[LoRAAdapterFile.keyPrefix + path + ".lora_B.weight"] = [linear.outFeatures, config.r]
        }
        if let unknown = file.names.sorted().first(where: { expected[$0] == nil }) {
            throw LMError(.unexpectedTensor, file: weightsURL.path, name: unknown,
                          "tensor '\(unknown)' belongs to no adapted layer (target_modules \(config.targetModules))")
        }
        var values: [String: Tensor] = [:]
        for (key, shape) in expected.sorted(by: { $0.key < $1.key }) {
            guard file.contains(key) else {
                throw LMError(.missingTensor, file: weightsURL.path, name: key,
                              "the adapter has no tensor '\(key)', needed with shape \(shape)")
            }
            let found = try file.shape(of: key)
            guard found == shape else {
                throw LMError(.shapeMismatch, file: weightsURL.path, name: key,
                              "tensor '\(key)' has shape \(found), expected \(shape) (r = \(config.r) in \(LoRAAdapterFile.configName))")
            }
            values[key] = try file.tensor(key)
        }
        try applyLoRA(config, seed: seed)
        for (path, linear) in loraLayers() {
            let lora = linear.lora!
            lora.a.weight.storage.markModified()
            lora.b.weight.storage.markModified()
            noGrad {
                Strided.copy(values[LoRAAdapterFile.keyPrefix + path + ".lora_A.weight"]!, into: lora.a.weight.data)
                Strided.copy(values[LoRAAdapterFile.keyPrefix + path + ".lora_B.weight"]!, into: lora.b.weight.data)
            }
        }
        return config
    }
}
