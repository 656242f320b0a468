import Foundation
import Testing
@testable import TetherLM

/// Reading and writing HF config.json, and its errors.
@Suite struct ConfigTests {
    func parse(_ json: String) throws -> TransformerConfig {
        try TransformerConfig(huggingFaceJSON: Data(json.utf8), file: "/models/x/config.json")
    }

    @Test func fixturesParse() throws {
        let gpt2 = try TransformerConfig(contentsOf: fixture("tiny-gpt2").appendingPathComponent("config.json"))
        #expect(gpt2.family == .gpt2 && gpt2.tieWordEmbeddings && gpt2.intermediateSize == 128)
        #expect(gpt2.activation == .geluTanh && gpt2.maxPositions == 32 && gpt2.eosTokenIds == [63])
        let qwen = try TransformerConfig(contentsOf: fixture("tiny-qwen2").appendingPathComponent("config.json"))
        #expect(qwen.family == .llama && qwen.qkvBias && !qwen.outputBias && !qwen.tieWordEmbeddings)
        #expect(qwen.kvHeads == 2 && qwen.headDim == 8 && qwen.ropeTheta == 10000 && qwen.padTokenId == 0)
        let llama = try TransformerConfig(contentsOf: fixture("tiny-llama").appendingPathComponent("config.json"))
        #expect(llama.ropeScaling == .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8))
        #expect(llama.ropeTheta == 500000 && llama.eosTokenIds == [2, 3] && llama.tieWordEmbeddings && !llama.qkvBias)
    }

    @Test(arguments: ["tiny-gpt2", "tiny-qwen2", "tiny-llama"])
    func writtenConfigReadsBackEqual(_ name: String) throws {
        let config = try TransformerConfig(contentsOf: fixture(name).appendingPathComponent("config.json"))
        let again = try TransformerConfig(huggingFaceJSON: config.huggingFaceJSON())
        #expect(again == config)
        // And our own Codable form round-trips too.
        let decoded = try JSONDecoder().decode(TransformerConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
    }

    @Test func olderTopLevelRopeFieldsAndLinearScaling() throws {
        let c = try parse("""
            {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
             "num_hidden_layers": 1, "num_attention_heads": 2, "rope_theta": 1000.0,
             "rope_scaling": {"type": "linear", "factor": 2.0}, "eos_token_id": 2}
            """)
        #expect(c.ropeTheta == 1000 && c.ropeScaling == .linear(factor: 2) && c.kvHeads == 2)
        // Linear scaling divides every frequency by the factor.
        let plain = RotaryEmbedding(headDim: 4, theta: 1000)
        let scaled = RotaryEmbedding(headDim: 4, theta: 1000, scaling: c.ropeScaling)
        #expect(zip(plain.inverseFrequencies, scaled.inverseFrequencies).allSatisfy { $0 / 2 == $1 })
    }

    @Test func unsupportedModelTypeNamesFileAndField() throws {
        let error = try #require(throws: LMError.self) { try parse(#"{"model_type": "bert", "vocab_size": 10}"#) }
        #expect(error.kind == .unsupported && error.name == "model_type" && error.file == "/models/x/config.json")
        #expect(error.description.contains("bert") && error.description.contains("/models/x/config.json"))
    }

    @Test func unknownRopeScalingIsAnError() throws {
        let error = try #require(throws: LMError.self) {
            try parse("""
                {"model_type": "qwen2", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}
                """)
        }
        #expect(error.kind == .unsupported && error.name == "rope_scaling.rope_type" && error.description.contains("yarn"))
    }

    @Test func missingOrMistypedFieldNamesIt() throws {
        let missing = try #require(throws: LMError.self) { try parse(#"{"model_type": "gpt2", "n_embd": 8, "n_head": 2}"#) }
        #expect(missing.kind == .invalidConfig && missing.name == "vocab_size")
        let mistyped = try #require(throws: LMError.self) {
            try parse(#"{"model_type": "gpt2", "vocab_size": "ten", "n_embd": 8, "n_head": 2}"#)
        }
        #expect(mistyped.name == "vocab_size" && mistyped.description.contains("ten"))
        let badHeads = try #require(throws: LMError.self) {
            try parse("""
                {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                 "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3}
                """)
        }
        #expect(badHeads.name == "num_key_value_heads")
    }

    @Test func nonObjectIsAnError() throws {
        let error = try #require(throws: LMError.self) { try parse("[1, 2]") }
        #expect(error.kind == .invalidConfig && error.file == "/models/x/config.json")
    }
}
