import Foundation
import Tether
import TetherNN
import Testing
@testable import TetherLM

/// Parameter counts PEFT reported for a fixture adapter.
private struct PEFTCounts: Decodable {
    var trainable_params: Int
    var total_params: Int
    var max_adapter_effect: Double
}

/// Largest |a - b| over two equal-length arrays.
private func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Logits of real (non-pad) positions of a model on a fixture batch, flattened.
private func realLogits(_ model: CausalLM, _ ref: Parity) -> [Float] {
    let logits = noGrad { model(ref.ids, attentionMask: ref.mask) }.scalars()
    let (b, t, v) = (ref.input_ids.count, ref.input_ids[0].count, model.config.vocabSize)
    var out: [Float] = []
    for row in 0..<b {
        for j in 0..<t where ref.attention_mask[row][j] != 0 { out += logits[((row * t + j) * v)..<((row * t + j + 1) * v)] }
    }
    return out
}

/// Gives every adapter's B random values, so adapters change the output.
private func randomizeB(_ model: Module, seed: UInt64 = 3) {
    var rng = RandomGenerator(seed: seed)
    for (_, linear) in model.loraLayers() {
        let b = linear.lora!.b.weight
        let fresh = Tensor.normal(b.shape, std: 0.3, rng: &rng)
        Strided.copy(fresh, into: b.data)
    }
}

@Suite struct LoRATests {
    @Test func freshAdapterLeavesOutputsUnchangedAndFreezesTheBase() throws {
        let ref = try Parity.load("tiny-gpt2")
        let model = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        let before = realLogits(model, ref)
        let paths = try model.applyLoRA(LoRAConfig(r: 4, alpha: 8, targetModules: .names(["c_attn"])))
        #expect(paths == ["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"])
        #expect(realLogits(model, ref) == before)
        let trainable = model.trainableNamedParameters.map(\.0)
        #expect(trainable == ["transformer.h.0.attn.c_attn.lora_A.weight", "transformer.h.0.attn.c_attn.lora_B.weight",
                              "transformer.h.1.attn.c_attn.lora_A.weight", "transformer.h.1.attn.c_attn.lora_B.weight"])
        // A is Kaiming-uniform (±1/√in, not all zero), B zero.
        let a = model.loraLayers()[0].1.lora!.a.weight.scalars()
        #expect(a.allSatisfy { abs($0) <= 1 / Float(32).squareRoot() } && a.contains { $0 != 0 })
        #expect(model.loraLayers()[0].1.lora!.b.weight.scalars().allSatisfy { $0 == 0 })
        let counts = model.trainableParameterCounts
        #expect(counts.trainable == 2 * (4 * 32 + 96 * 4))
        #expect(counts.total == counts.trainable + (try CausalLM(contentsOf: fixture("tiny-gpt2"))).parameterCount)
    }

    @Test func targetMatchingBySuffixAllLinearAndPattern() throws {
        let model = try CausalLM(contentsOf: fixture("tiny-qwen2"))  // untied lm_head
        let qv = try model.applyLoRA(LoRAConfig(targetModules: .names(["q_proj", "v_proj"])))
        #expect(qv.count == 2 * model.config.layers && qv.allSatisfy { $0.hasSuffix(".q_proj") || $0.hasSuffix(".v_proj") })
        let all = try model.applyLoRA(LoRAConfig(targetModules: .allLinear))
        #expect(all.count == 7 * model.config.layers && !all.contains("lm_head"))
        #expect(model.loraLayers().count == all.count)  // the first adapters were replaced
        let pattern = try model.applyLoRA(LoRAConfig(targetModules: .pattern(#"model\.layers\.0\..*_proj"#)))
        #expect(pattern.count == 7 && pattern.allSatisfy { $0.hasPrefix("model.layers.0.") })
        // A suffix must match a whole name component.
        #expect(throws: LMError.self) { try model.applyLoRA(LoRAConfig(targetModules: .names(["proj"]))) }
        // lm_head can be named explicitly.
        #expect(try model.applyLoRA(LoRAConfig(targetModules: .names(["lm_head"]))) == ["lm_head"])
    }

    @Test func gradientsReachOnlyAdaptersAndTrainingLowersTheLoss() throws {
        let ref = try Parity.load("tiny-llama")
        let model = try CausalLM(contentsOf: fixture("tiny-llama"))
        try model.applyLoRA(LoRAConfig(r: 4, alpha: 8, dropout: 0.1, targetModules: .allLinear), seed: 1)
        let base = model.namedParameters().filter { !$0.0.contains("lora_") }
        let baseBefore = base.map { $0.1.scalars() }
        let optimizer = AdamW(model, learningRate: 1e-2, weightDecay: 0)
        func loss() -> Tensor {
            let logp = model.tokenLogProbs(hidden: model.hidden(ref.ids, attentionMask: ref.mask), tokens: ref.targetIds)
            return -(logp * ref.mask).sum() / ref.mask.sum()
        }
        let first = noGrad { model.withAdaptersDisabled { loss().item } }
        var last = first
        for step in 0..<30 {
            model.zeroGrad()
            let l = loss()
            l.backward()
            if step == 0 {
                for (name, p) in model.namedParameters() {
                    if name.contains("lora_") {
                        // B starts at zero, so only B gets a gradient on the first step.
                        if name.hasSuffix("lora_B.weight") { #expect(p.grad != nil, "\(name) has no gradient") }
                    } else {
                        #expect(p.grad == nil, "base parameter \(name) got a gradient")
                    }
                }
            }
            optimizer.step()
            last = l.item
        }
        model.eval()
        last = noGrad { loss().item }
        #expect(last < first - 0.5, "loss \(first) → \(last)")
        for ((name, p), before) in zip(base, baseBefore) { #expect(p.scalars() == before, "\(name) changed") }
        #expect(model.namedParameters().filter { $0.0.hasSuffix("lora_A.weight") }.allSatisfy { $0.1.grad != nil })
    }

    @Test func mergeAndUnmerge() throws {
        let ref = try Parity.load("tiny-gpt2")
        let model = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        try model.applyLoRA(LoRAConfig(r: 4, alpha: 16, targetModules: .names(["c_attn", "c_fc", "c_proj"])))
        randomizeB(model)
        let weights = model.loraLayers().map { $0.1.weight.scalars() }
        let unmerged = realLogits(model, ref)
        model.mergeAdapters()
        #expect(model.loraLayers().allSatisfy { $0.1.lora!.isMerged })
        #expect(zip(model.loraLayers(), weights).contains { maxDiff($0.0.1.weight.scalars(), $0.1) > 1e-2 })
        let merged = realLogits(model, ref)
        #expect(maxDiff(merged, unmerged) <= 1e-4)
        model.mergeAdapters()  // merging twice changes nothing
        #expect(maxDiff(realLogits(model, ref), unmerged) <= 1e-4)
        model.unmergeAdapters()
        for ((_, linear), w) in zip(model.loraLayers(), weights) { #expect(maxDiff(linear.weight.scalars(), w) <= 1e-6) }
        #expect(maxDiff(realLogits(model, ref), unmerged) <= 1e-5)
        // removeLoRA(merge:) keeps the adapted function in plain weights.
        model.removeLoRA(merge: true)
        #expect(model.loraLayers().isEmpty && model.adapterConfig == nil)
        #expect(maxDiff(realLogits(model, ref), unmerged) <= 1e-4)
    }

    @Test func disabledScopeGivesTheBaseModelExactly() throws {
        let ref = try Parity.load("tiny-llama")
        let plain = try CausalLM(contentsOf: fixture("tiny-llama"))
        let model = try CausalLM(contentsOf: fixture("tiny-llama"))
        try model.applyLoRA(LoRAConfig(r: 2, alpha: 4, targetModules: .names(["q_proj", "v_proj", "down_proj"])))
        randomizeB(model)
        let adapted = realLogits(model, ref)
        let base = realLogits(plain, ref)
        #expect(maxDiff(adapted, base) > 1e-2)
        let disabled = model.withAdaptersDisabled { realLogits(model, ref) }
        #expect(disabled == base)
        #expect(realLogits(model, ref) == adapted)  // re-enabled after the scope
    }

    @Test(arguments: ["gpt2", "llama", "qwen2"])
    func peftAdapterGivesPEFTLogits(_ family: String) throws {
        let ref = try Parity.load("lora-\(family)")
        let counts = try JSONDecoder().decode(PEFTCounts.self,
                                              from: Data(contentsOf: fixture("lora-\(family)").appendingPathComponent("parity.json")))
        let model = try CausalLM(contentsOf: fixture("tiny-\(family)"))
        let config = try model.loadAdapter(from: fixture("lora-\(family)"))
        #expect(config.baseModel == "tiny-\(family)")
        #expect(model.trainableParameterCounts == (counts.trainable_params, counts.total_params))
        let theirs = try #require(ref.logits)
        let (b, t, v) = (ref.input_ids.count, ref.input_ids[0].count, model.config.vocabSize)
        var expected: [Double] = []
        for row in 0..<b {
            for j in 0..<t where ref.attention_mask[row][j] != 0 { expected += theirs[((row * t + j) * v)..<((row * t + j + 1) * v)] }
        }
        #expect(counts.max_adapter_effect > 1)  // the fixture's adapter does change the logits
        let ratio = worstRatio(realLogits(model, ref), expected)
        #expect(ratio <= 1, "lora-\(family): logits differ from PEFT, worst ratio \(ratio)")

        // Gradients of Σ log p(target) over real tokens reach the adapter factors as in PEFT.
        model.eval()
        let logp = model.tokenLogProbs(hidden: model.hidden(ref.ids, attentionMask: ref.mask), tokens: ref.targetIds)
        (logp * ref.mask).sum().backward()
        let grads = try #require(ref.grads)
        let adapterNames = model.trainableNamedParameters.map(\.0)
        #expect(Set(grads.keys) == Set(adapterNames))
        for (name, p) in model.namedParameters() {
            guard let reference = grads[name] else {
                #expect(p.grad == nil, "base parameter \(name) got a gradient")
                continue
            }
            let g = try #require(p.grad, "no gradient for \(name)")
            #expect(g.shape == reference.shape)
            let scale = reference.values.map(abs).max() ?? 1
            let r = worstRatio(g.scalars(), reference.values, rtol: 1e-4, atol: 1e-4 * Swift.max(scale, 1))
            #expect(r <= 1, "lora-\(family): gradient of \(name) differs, worst ratio \(r)")
        }
    }

    @Test func allLinearIsSavedExpandedAsPEFTDoes() throws {
        let model = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        try model.applyLoRA(LoRAConfig(r: 2, alpha: 4, targetModules: .allLinear))
        let folder = temporaryFolder()
        try model.saveAdapter(to: folder)
        func targets(_ url: URL) throws -> [String]? {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("adapter_config.json")))
            return (json as? [String: Any])?["target_modules"] as? [String]
        }
        let ours = try #require(try targets(folder))
        #expect(ours == (try targets(fixture("lora-qwen2"))))
        #expect(ours.count == 14 && !ours.contains("lm_head"))
        let keys = try SafeTensorsFile(url: folder.appendingPathComponent("adapter_model.safetensors")).names
        let peftKeys = try SafeTensorsFile(url: fixture("lora-qwen2").appendingPathComponent("adapter_model.safetensors")).names
        #expect(keys == peftKeys)
    }

    @Test func saveLoadRoundTripMatchesPEFTLayout() throws {
        let ref = try Parity.load("tiny-gpt2")
        let model = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        let config = LoRAConfig(r: 3, alpha: 5, dropout: 0.05, targetModules: .names(["c_attn", "c_fc"]),
                                useRSLoRA: true, baseModel: "tiny-gpt2")
        try model.applyLoRA(config)
        randomizeB(model)
        let folder = temporaryFolder()
        try model.saveAdapter(to: folder)
        let keys = try SafeTensorsFile(url: folder.appendingPathComponent("adapter_model.safetensors")).names
        #expect(keys.contains("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"))
        #expect(keys.contains("base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight") && keys.count == 8)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        #expect(json["peft_type"] as? String == "LORA" && json["task_type"] as? String == "CAUSAL_LM")
        #expect(json["r"] as? Int == 3 && json["lora_alpha"] as? Double == 5 && json["bias"] as? String == "none")
        #expect(json["fan_in_fan_out"] as? Bool == true && json["use_rslora"] as? Bool == true)
        #expect(json["target_modules"] as? [String] == ["c_attn", "c_fc"])

        let loaded = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        #expect(try loaded.loadAdapter(from: folder) == config)
        #expect(realLogits(loaded, ref) == realLogits(model, ref))
        for ((name, p), (name2, q)) in zip(model.namedParameters(), loaded.namedParameters()) {
            #expect(name == name2 && p.scalars() == q.scalars() && p.requiresGrad == q.requiresGrad)
        }
    }

    @Test func loadErrorsNameTheFileAndKey() throws {
        let model = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        try model.applyLoRA(LoRAConfig(r: 2, targetModules: .names(["c_attn"])))
        let good = temporaryFolder()
        try model.saveAdapter(to: good)
        let weights = try SafeTensors.load(good.appendingPathComponent("adapter_model.safetensors"))
        let key = "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"

        func variant(config edit: (inout [String: Any]) -> Void = { _ in },
                     weights change: (inout [String: Tensor]) -> Void = { _ in }) throws -> URL {
            let folder = temporaryFolder()
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: good.appendingPathComponent("adapter_config.json"))) as! [String: Any]
            edit(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent("adapter_config.json"))
            var w = weights
            change(&w)
            try SafeTensors.save(w, to: folder.appendingPathComponent("adapter_model.safetensors"))
            return folder
        }
        func expectError(_ folder: URL, _ kind: LMError.Kind, file: String, name: String?) {
            let target = try! CausalLM(contentsOf: fixture("tiny-gpt2"))
            do {
                try target.loadAdapter(from: folder)
                Issue.record("expected \(kind) for \(name ?? "-")")
            } catch let error as LMError {
                #expect(error.kind == kind, "\(error)")
                #expect(error.file == folder.appendingPathComponent(file).path, "\(error)")
                #expect(error.name == name, "\(error)")
                #expect(target.loraLayers().isEmpty && target.trainableParameterCount == target.parameterCount)  // untouched
            } catch { Issue.record("unexpected error \(error)") }
        }
        let wfile = "adapter_model.safetensors", cfile = "adapter_config.json"
        expectError(try variant(weights: { $0[key] = nil }), .missingTensor, file: wfile, name: key)
        expectError(try variant(weights: { $0["base_model.model.lm_head.lora_A.weight"] = Tensor.zeros([2, 32]) }),
                    .unexpectedTensor, file: wfile, name: "base_model.model.lm_head.lora_A.weight")
        expectError(try variant(weights: { $0[key] = Tensor.zeros([96, 3]) }), .shapeMismatch, file: wfile, name: key)
        // r in the config disagrees with the tensors.
        expectError(try variant(config: { $0["r"] = 4 }), .shapeMismatch, file: wfile,
                    name: "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight")
        expectError(try variant(config: { $0["r"] = "two" }), .invalidConfig, file: cfile, name: "r")
        expectError(try variant(config: { $0["r"] = 0 }), .invalidConfig, file: cfile, name: "r")
        expectError(try variant(config: { $0["peft_type"] = "IA3" }), .unsupported, file: cfile, name: "peft_type")
        expectError(try variant(config: { $0["use_dora"] = true }), .unsupported, file: cfile, name: "use_dora")
        expectError(try variant(config: { $0["bias"] = "all" }), .unsupported, file: cfile, name: "bias")
        expectError(try variant(config: { $0["target_modules"] = ["nothing"] }), .invalidConfig, file: cfile, name: "target_modules")
        expectError(try variant(config: { $0["rank_pattern"] = ["c_attn": 4] }), .unsupported, file: cfile, name: "rank_pattern")
        #expect(throws: LMError.self) { try CausalLM(contentsOf: fixture("tiny-gpt2")).saveAdapter(to: temporaryFolder()) }
    }
}

@Suite struct LoRACheckpointTests {
    @Test func checkpointsHoldBaseWeightsOnlyAndMergedAdaptersBakeIn() throws {
        let ref = try Parity.load("tiny-gpt2")
        let model = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        try model.applyLoRA(LoRAConfig(r: 2, alpha: 4, targetModules: .names(["c_attn"])))
        randomizeB(model)
        #expect(model.trainableParametersSummary
                == "trainable params: 512 || all params: 29,056 || trainable%: 1.7621")
        let adapted = realLogits(model, ref)
        let plainFolder = temporaryFolder()
        try model.save(to: plainFolder)
        let names = try SafeTensorsFile(url: plainFolder.appendingPathComponent("model.safetensors")).names
        #expect(!names.contains { $0.contains("lora_") })
        #expect(realLogits(try CausalLM(contentsOf: plainFolder), ref) == realLogits(try CausalLM(contentsOf: fixture("tiny-gpt2")), ref))
        // A checkpoint loads into a model that already carries adapters, leaving them be.
        try Checkpoint.load(into: model, family: .gpt2, from: plainFolder)
        #expect(realLogits(model, ref) == adapted)

        model.removeLoRA(merge: true)
        let mergedFolder = temporaryFolder()
        try model.save(to: mergedFolder)
        #expect(maxDiff(realLogits(try CausalLM(contentsOf: mergedFolder), ref), adapted) <= 1e-4)
    }
}

@Suite struct LoRAConfigCodingTests {
    @Test func codableWithPEFTFieldNames() throws {
        let json = #"{"r": 16, "lora_alpha": 32, "target_modules": "all-linear", "use_rslora": true}"#
        let config = try JSONDecoder().decode(LoRAConfig.self, from: Data(json.utf8))
        #expect(config == LoRAConfig(r: 16, alpha: 32, dropout: 0, targetModules: .allLinear, useRSLoRA: true))
        let named = LoRAConfig(r: 2, alpha: 4, dropout: 0.1, targetModules: .names(["q_proj", "v_proj"]), baseModel: "m")
        #expect(try JSONDecoder().decode(LoRAConfig.self, from: JSONEncoder().encode(named)) == named)
        let pattern = LoRAConfig(targetModules: .pattern(#".*\.q_proj"#))
        #expect(try JSONDecoder().decode(LoRAConfig.self, from: JSONEncoder().encode(pattern)) == pattern)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LoRAConfig.self, from: Data(#"{"r": 4}"#.utf8)) }
    }
}
