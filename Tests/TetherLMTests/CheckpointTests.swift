import Foundation
import Tether
import Testing
@testable import TetherLM

/// Loading and saving HF model folders: exact round trips, shards, prefixes and errors.
@Suite struct CheckpointTests {
    @Test(arguments: ["tiny-gpt2", "tiny-qwen2", "tiny-llama"])
    func saveLoadRoundTripIsExact(_ name: String) throws {
        let model = try CausalLM(contentsOf: fixture(name))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try model.save(to: folder)
        // The saved file has the original's names, HF shapes (Conv1D (in, out)) and bits.
        let original = try SafeTensorsFile(url: fixture(name).appendingPathComponent("model.safetensors"))
        let saved = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        #expect(saved.names == original.names)
        for key in original.names {
            #expect(try saved.shape(of: key) == original.shape(of: key), "\(key)")
            #expect(try saved.tensor(key).scalars() == original.tensor(key).scalars(), "\(key)")
        }
        let again = try CausalLM(contentsOf: folder)
        #expect(again.config == model.config)
        let a = Dictionary(uniqueKeysWithValues: model.namedParameters())
        for (key, p) in again.namedParameters() {
            #expect(p.scalars().map(\.bitPattern) == a[key]!.scalars().map(\.bitPattern), "\(key)")
        }
    }

    @Test func tiedModelHasNoLMHeadAndSharesTheEmbedding() throws {
        let model = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        #expect(model.lmHead == nil)
        #expect(model.outputWeight === model.transformer.tokenEmbedding.weight)
        #expect(!model.namedParameters().map(\.0).contains("lm_head.weight"))
        let untied = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        #expect(untied.lmHead != nil)
    }

    @Test func parameterNamesAreHuggingFaceNames() throws {
        for name in ["tiny-gpt2", "tiny-qwen2", "tiny-llama"] {
            let config = try TransformerConfig(contentsOf: fixture(name).appendingPathComponent("config.json"))
            let fresh = CausalLM(config: config, seed: 1)
            let file = try SafeTensorsFile(url: fixture(name).appendingPathComponent("model.safetensors"))
            #expect(fresh.namedParameters().map(\.0).sorted() == file.names, "\(name)")
        }
    }

    @Test func shardedCheckpointLoadsLikeASingleFile() throws {
        let original = try SafeTensorsFile(url: fixture("tiny-qwen2").appendingPathComponent("model.safetensors"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: fixture("tiny-qwen2").appendingPathComponent("config.json"),
                                         to: folder.appendingPathComponent("config.json"))
        var shards: [[String: Tensor]] = [[:], [:]]
        var map: [String: String] = [:]
        for (i, key) in original.names.enumerated() {
            shards[i % 2][key] = try original.tensor(key)
            map[key] = "model-0000\(i % 2 + 1)-of-00002.safetensors"
        }
        for i in 0..<2 {
            try SafeTensors.save(shards[i], to: folder.appendingPathComponent("model-0000\(i + 1)-of-00002.safetensors"))
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": [String: String](), "weight_map": map])
        try index.write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        let sharded = try CausalLM(contentsOf: folder)
        let single = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        let ids = IndexTensor([3, 9, 27], shape: [1, 3])
        #expect(noGrad { sharded(ids) }.scalars() == noGrad { single(ids) }.scalars())
    }

    @Test func huggingFaceShardedCheckpointLoads() throws {
        let sharded = try CausalLM(contentsOf: fixture("tiny-llama-sharded"))
        let single = try CausalLM(contentsOf: fixture("tiny-llama"))
        let a = Dictionary(uniqueKeysWithValues: single.namedParameters())
        for (key, p) in sharded.namedParameters() {
            #expect(p.scalars() == a[key]!.scalars(), "\(key)")
        }
    }

    @Test func bfloat16CheckpointLoadsAsRoundedFloat32() throws {
        let bf16 = try CausalLM(contentsOf: fixture("tiny-qwen2-bf16"))
        let f32 = Dictionary(uniqueKeysWithValues: try CausalLM(contentsOf: fixture("tiny-qwen2")).namedParameters())
        /// Round to nearest even at bfloat16's 8-bit mantissa.
        func bfloat16(_ x: Float) -> Float {
            let bits = x.bitPattern
            return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
        }
        for (key, p) in bf16.namedParameters() {
            #expect(p.scalars() == f32[key]!.scalars().map(bfloat16), "\(key)")
        }
    }

    @Test func gpt2CheckpointWithoutTransformerPrefixLoads() throws {
        let original = try SafeTensorsFile(url: fixture("tiny-gpt2").appendingPathComponent("model.safetensors"))
        let folder = try copyOfFixture("tiny-gpt2")
        defer { try? FileManager.default.removeItem(at: folder) }
        var bare: [String: Tensor] = [:]
        for key in original.names { bare[String(key.dropFirst("transformer.".count))] = try original.tensor(key) }
        bare["h.0.attn.bias"] = Tensor.ones([1, 1, 32, 32])  // old checkpoints carry the causal-mask buffer
        try SafeTensors.save(bare, to: folder.appendingPathComponent("model.safetensors"))
        let model = try CausalLM(contentsOf: folder)
        let reference = try CausalLM(contentsOf: fixture("tiny-gpt2"))
        let ids = IndexTensor([3, 9, 27], shape: [1, 3])
        #expect(noGrad { model(ids) }.scalars() == noGrad { reference(ids) }.scalars())
    }

    @Test func missingTensorIsAnErrorNamingIt() throws {
        let original = try SafeTensors.load(fixture("tiny-qwen2").appendingPathComponent("model.safetensors"))
        let folder = try copyOfFixture("tiny-qwen2")
        defer { try? FileManager.default.removeItem(at: folder) }
        var tensors = original
        tensors["model.layers.1.self_attn.k_proj.bias"] = nil
        try SafeTensors.save(tensors, to: folder.appendingPathComponent("model.safetensors"))
        let error = try #require(throws: LMError.self) { try CausalLM(contentsOf: folder) }
        #expect(error.kind == .missingTensor)
        #expect(error.name == "model.layers.1.self_attn.k_proj.bias")
        #expect(error.description.contains("model.layers.1.self_attn.k_proj.bias"))
        #expect(error.description.contains("[16]"))
        #expect(error.file.hasSuffix("model.safetensors"))
    }

    @Test func wrongShapeIsAnErrorNamingTensorAndBothShapes() throws {
        let original = try SafeTensors.load(fixture("tiny-gpt2").appendingPathComponent("model.safetensors"))
        let folder = try copyOfFixture("tiny-gpt2")
        defer { try? FileManager.default.removeItem(at: folder) }
        var tensors = original
        // Stored (out, in) instead of Conv1D's (in, out).
        tensors["transformer.h.1.mlp.c_fc.weight"] = Tensor.zeros([128, 32])
        try SafeTensors.save(tensors, to: folder.appendingPathComponent("model.safetensors"))
        let error = try #require(throws: LMError.self) { try CausalLM(contentsOf: folder) }
        #expect(error.kind == .shapeMismatch)
        #expect(error.name == "transformer.h.1.mlp.c_fc.weight")
        #expect(error.description.contains("[128, 32]") && error.description.contains("[32, 128]"))
    }

    @Test func scoreModelFromACausalCheckpointNeedsPermissionForAFreshHead() throws {
        let error = try #require(throws: LMError.self) { try ScoreModel(contentsOf: fixture("tiny-qwen2")) }
        #expect(error.name == "score.weight")
        let scorer = try ScoreModel(contentsOf: fixture("tiny-qwen2"), requireHead: false)
        #expect(scorer.score.weight.scalars().filter { $0 != 0 }.count == 32)  // a fresh random head
        let lm = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        #expect(scorer.transformer.tokenEmbedding.weight.scalars() == lm.transformer.tokenEmbedding.weight.scalars())
    }

    @Test func aVerifierOnAnUntiedModelReadsItsLMHead() throws {
        let scorer = try ScoreModel(contentsOf: fixture("tiny-qwen2"), requireHead: false, verifier: true)
        let lm = try CausalLM(contentsOf: fixture("tiny-qwen2"))
        #expect(scorer.lmHead?.weight.scalars() == lm.outputWeight.scalars())
        #expect(scorer.verifier?.weight.scalars().allSatisfy { $0 == 0 } == true)  // a fresh verifier starts at zero
        #expect(try ScoreModel(contentsOf: fixture("tiny-qwen2-score")).verifier == nil)
    }

    @Test func scoreModelRoundTrip() throws {
        let scorer = try ScoreModel(contentsOf: fixture("tiny-qwen2-score"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try scorer.save(to: folder)
        let again = try ScoreModel(contentsOf: folder)
        #expect(again.score.weight.scalars() == scorer.score.weight.scalars())
        let names = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors")).names
        #expect(names.contains("score.weight") && !names.contains("lm_head.weight"))
        let json = try String(contentsOf: folder.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(json.contains("Qwen2ForSequenceClassification") && json.contains("\"num_labels\" : 1"))
    }
}
