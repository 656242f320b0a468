import Foundation
import Tether
import Testing
@testable import TetherNN

@Suite struct StateDictTests {
    func model(seed: UInt64) -> TinyTransformer {
        var rng = RandomGenerator(seed: seed)
        return TinyTransformer(vocab: 6, dim: 4, layers: 2, rng: &rng)
    }

    /// Independent copies of every tensor in `dict`.
    func cloned(_ dict: [String: Tensor]) -> [String: Tensor] { dict.mapValues(clone) }

    @Test func roundTripCopiesValuesIntoParameters() throws {
        let a = model(seed: 1), b = model(seed: 2)
        let sa = a.stateDict()
        #expect(Set(sa.keys) == Set(a.namedParameters().map(\.0)))
        #expect(sa["h.0.attn.c_attn.weight"]!.scalars() != b.stateDict()["h.0.attn.c_attn.weight"]!.scalars())
        let weightObject = b.h[0].attn.cAttn.weight
        try b.load(stateDict: cloned(sa))
        for (name, tensor) in b.stateDict() { #expect(bits(tensor) == bits(sa[name]!), "\(name)") }
        // Loaded in place: the module keeps its own tensors (and optimizers holding them stay valid).
        #expect(b.h[0].attn.cAttn.weight === weightObject)
        #expect(b.lmHead.weight === b.wte.weight)
    }

    @Test func stateDictSharesStorageWithoutHistory() {
        let a = model(seed: 1)
        let w = a.stateDict()["ln_f.weight"]!
        #expect(!w.requiresGrad)
        a.lnF.weight.data[0] = 42
        #expect(w.scalars()[0] == 42)
    }

    @Test func tiedParameterLoadsUnderAnyOfItsNames() throws {
        let a = model(seed: 1), b = model(seed: 2)
        var dict = cloned(a.stateDict())
        dict["lm_head.weight"] = dict.removeValue(forKey: "wte.weight")
        try b.load(stateDict: dict)
        #expect(bits(b.wte.weight) == bits(a.wte.weight))
    }

    @Test func strictLoadNamesMissingAndUnexpectedKeysAndChangesNothing() {
        let a = model(seed: 1), b = model(seed: 2)
        let before = bits(b.h[1].ln2.weight) + bits(b.wte.weight)
        var dict = cloned(a.stateDict())
        dict["h.1.attn.c_proj.bias"] = nil
        dict["h.1.mlp.c_fc.weight"] = Tensor.zeros([2])
        do {
            try b.load(stateDict: dict)
            Issue.record("load should have thrown")
        } catch let error as StateDictError {
            #expect(error.missingKeys == ["h.1.attn.c_proj.bias"])
            #expect(error.unexpectedKeys == ["h.1.mlp.c_fc.weight"])
            #expect(error.shapeMismatches.isEmpty)
            #expect(error.description.contains("\"h.1.attn.c_proj.bias\""))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(bits(b.h[1].ln2.weight) + bits(b.wte.weight) == before)
    }

    @Test func shapeMismatchReportsBothShapes() {
        let b = model(seed: 2)
        var dict = cloned(model(seed: 1).stateDict())
        dict["h.0.attn.c_attn.weight"] = Tensor.zeros([4, 12])
        #expect {
            try b.load(stateDict: dict, strict: false)
        } throws: { error in
            let e = error as! StateDictError
            return e.shapeMismatches == [.init(key: "h.0.attn.c_attn.weight", expected: [12, 4], found: [4, 12])]
                && e.description.contains("[12, 4]") && e.description.contains("[4, 12]")
        }
    }

    @Test func nonStrictLoadSkipsUnknownAndMissingKeys() throws {
        let a = model(seed: 1), b = model(seed: 2)
        let kept = bits(b.lnF.bias!)
        var dict = cloned(a.stateDict())
        dict["ln_f.bias"] = nil
        dict["score.weight"] = Tensor.zeros([1, 4])
        let result = try b.load(stateDict: dict, strict: false)
        #expect(result.missingKeys == ["ln_f.bias"] && result.unexpectedKeys == ["score.weight"])
        #expect(bits(b.lnF.bias!) == kept)
        #expect(bits(b.h[1].attn.cAttn.weight) == bits(a.h[1].attn.cAttn.weight))
    }

    @Test func roundTripThroughSafetensors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        let a = model(seed: 1), b = model(seed: 2)
        try a.save(to: url)
        let file = try SafeTensorsFile(url: url)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.names == a.namedParameters().map(\.0).sorted())
        #expect(try file.shape(of: "h.1.attn.c_attn.weight") == [12, 4])
        try b.load(from: url)
        for ((name, x), (_, y)) in zip(a.namedParameters(), b.namedParameters()) {
            #expect(bits(x) == bits(y), "\(name)")
        }
    }

    @Test func loadingAFileThatDoesNotFitNamesTheFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("other.safetensors")
        var rng = RandomGenerator(seed: 1)
        try TinyTransformer(vocab: 6, dim: 8, layers: 1, rng: &rng).save(to: url)
        #expect {
            try model(seed: 2).load(from: url)
        } throws: { error in
            let e = error as! StateDictError
            return e.file == url.path && e.missingKeys.allSatisfy { $0.hasPrefix("h.1.") }
                && e.shapeMismatches.contains(.init(key: "wte.weight", expected: [6, 4], found: [6, 8]))
                && e.description.contains(url.path)
        }
    }
}
