import Foundation
import Tether
import TetherNN

extension Module {
    /// The paths of the linear layers `targets` selects, in module order; `outputLayers` are
    /// never chosen by `.allLinear`. Throws if nothing matches (as PEFT does).
    func loraTargetPaths(_ targets: LoRATargets, outputLayers: Set<String>, file: String) throws -> [String] {
        var paths: [String] = []
        for (path, module) in namedModules() {
            // Skip the adapters' own A and B layers.
            guard module is Linear, !path.hasSuffix(".lora_A"), !path.hasSuffix(".lora_B") else { continue }
            let matched: Bool
            do { matched = try targets.matches(path, isOutput: outputLayers.contains(path)) } catch {
                throw LMError(.invalidConfig, file: file, name: "target_modules", "invalid pattern: \(error)")
            }
            if matched { paths.append(path) }
        }
        guard !paths.isEmpty else {
            throw LMError(.invalidConfig, file: file, name: "target_modules",
                          "\(targets) matches no linear layer of the model")
        }
        return paths
    }
}

extension CausalLM {
    /// Attaches fresh LoRA adapters (A Kaiming-uniform from `seed`, B zero) to the layers
    /// `config` targets and freezes everything else, so only adapters train. Replaces any
    /// adapters already attached (they must not be merged). Returns the adapted layers' paths.
    @discardableResult
    public func applyLoRA(_ config: LoRAConfig, seed: UInt64 = 0) throws -> [String] {
        try config.validate(file: "LoRAConfig")
        let paths = try loraTargetPaths(config.targetModules, outputLayers: outputLayerPaths, file: "LoRAConfig")
        removeLoRA()
        freeze()
        var rng = RandomGenerator(seed: seed)
        for path in paths {
            (module(at: path) as! Linear).attachLoRA(rank: config.r, alpha: config.alpha, dropout: config.dropout,
                                                     useRSLoRA: config.useRSLoRA, rng: &rng)
        }
        adapterConfig = config
        return paths
    }

    /// Removes every adapter; with `merge`, folds each into its base weight first. The base
    /// stays frozen (call ``Module/unfreeze()`` for full fine-tuning).
    public func removeLoRA(merge: Bool = false) {
        for (_, linear) in loraLayers() { linear.detachLoRA(merge: merge) }
        adapterConfig = nil
    }

    /// The paths of output layers, which `"all-linear"` leaves alone.
    var outputLayerPaths: Set<String> { lmHead == nil ? [] : ["lm_head"] }

    /// (trainable, total) parameter element counts, as PEFT's `get_nb_trainable_parameters`.
    public var trainableParameterCounts: (trainable: Int, total: Int) {
        (trainableParameterCount, parameterCount)
    }

    /// `"trainable params: 2,304 || all params: 30,848 || trainable%: 7.4689"`, as PEFT prints it.
    public var trainableParametersSummary: String {
        let (trainable, total) = trainableParameterCounts
        func grouped(_ n: Int) -> String {
            var digits = Array(String(n))
            var i = digits.count - 3
            while i > 0 { digits.insert(",", at: i); i -= 3 }
            return String(digits)
        }
        let percent = total == 0 ? 0 : 100 * Double(trainable) / Double(total)
        return "trainable params: \(grouped(trainable)) || all params: \(grouped(total)) || trainable%: "
            + String(format: "%.4f", percent)
    }
}
