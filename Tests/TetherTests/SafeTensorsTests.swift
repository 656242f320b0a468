import Foundation
import Testing
@testable import Tether

/// A fresh, empty directory for one test, and helpers to make raw safetensors bytes.
struct ScratchDirectory: ~Copyable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tether-safetensors-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Writes `bytes` to `name` and returns its URL.
    func write(_ name: String, _ bytes: [UInt8]) -> URL {
        let u = file(name)
        try! Data(bytes).write(to: u)
        return u
    }
}

/// Safetensors bytes with `header` (space-padded to 8 unless `pad` is false) and `data`.
func safetensorsBytes(_ header: String, data: [UInt8] = [], pad: Bool = true,
                      length: UInt64? = nil) -> [UInt8] {
    var h = Array(header.utf8)
    if pad { h += [UInt8](repeating: 0x20, count: (8 - h.count % 8) % 8) }
    let n = length ?? UInt64(h.count)
    return withUnsafeBytes(of: n.littleEndian) { Array($0) } + h + data
}

/// The folder of committed fixtures.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

private func bits(_ t: Tensor) -> [UInt32] { t.scalars().map(\.bitPattern) }
private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// The tensors of Fixtures/reference_f32.safetensors, built in Swift.
private func referenceF32Tensors() -> [String: Tensor] {
    let special: [Float] = [0, -0.0, 1.5, -2.25, .infinity, -.infinity, .nan,
                            Float(bitPattern: 1), 3.4028235e38]
    return [
        "scalar": Tensor(scalar: 3.5),
        "vector": Tensor(special, shape: [9]),
        "matrix": Tensor((0..<6).map { Float($0) * 0.25 - 1 }, shape: [2, 3]),
        "rank3": Tensor((0..<8).map { Float($0) - 4 }, shape: [2, 2, 2]),
        "rank4": Tensor((0..<12).map { Float($0) * 0.5 }, shape: [1, 2, 3, 2]),
        "empty": Tensor([], shape: [0]),
        "empty2d": Tensor([], shape: [3, 0]),
        "layers.0.attn.weight": Tensor([1, 2, 3, 4], shape: [2, 2]),
    ]
}

private let referenceNote = "quote \" backslash \\ slash / newline \n tab \t \u{e9} \u{2211} \u{1}"

@Suite("Safetensors reading and writing")
struct SafeTensorsTests {
    @Test("Round trip: ranks 0-4, empty and strided tensors, metadata")
    func roundTrip() throws {
        let dir = ScratchDirectory()
        let base = Tensor((0..<24).map { Float($0) / 7 }, shape: [2, 3, 4])
        let transposed = Tensor(storage: base.storage, shape: [4, 3, 2], strides: [1, 4, 12])
        let tensors: [String: Tensor] = [
            "r0": Tensor(scalar: -1.25),
            "r1": Tensor([1, 2, 3], shape: [3]),
            "r2": Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]),
            "r3": base,
            "r4": Tensor((0..<16).map { Float($0) }, shape: [2, 2, 2, 2]),
            "t": transposed,
            "empty": Tensor([], shape: [2, 0, 3]),
            "ünïcode name/with \"quotes\"": Tensor([7], shape: [1]),
        ]
        let metadata = ["format": "pt", "b": "line\nbreak \u{1} \u{1F600}", "": "empty key"]
        let url = dir.file("model.safetensors")
        try SafeTensors.save(tensors, metadata: metadata, to: url)

        let file = try SafeTensorsFile(url: url)
        #expect(file.metadata == metadata)
        #expect(file.names == tensors.keys.sorted())
        let loaded = try SafeTensors.load(url)
        #expect(Set(loaded.keys) == Set(tensors.keys))
        for (name, t) in tensors {
            let l = try #require(loaded[name])
            #expect(l.shape == t.shape, "\(name)")
            #expect(bits(l) == bits(t), "\(name)")
            #expect(try file.dtype(of: name) == .f32)
        }
        #expect(try file.shape(of: "t") == [4, 3, 2])
        #expect(loaded["t"]!.scalars() == transposed.scalars())
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["model.safetensors"])
    }

    @Test("Writes the reference library's bytes exactly")
    func byteExactAgainstReference() throws {
        let dir = ScratchDirectory()
        let url = dir.file("ours.safetensors")
        try SafeTensors.save(referenceF32Tensors(), metadata: ["note": referenceNote], to: url)
        let ours = try Data(contentsOf: url)
        let reference = try Data(contentsOf: fixtures.appendingPathComponent("reference_f32.safetensors"))
        #expect(ours.count == reference.count)
        #expect(ours == reference)
        #expect(ours.prefix(8) == reference.prefix(8))  // the header length (incl. padding) matches
    }

    @Test("Reads the reference library's F32 file")
    func readsReferenceF32() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("reference_f32.safetensors"))
        #expect(file.metadata == ["note": referenceNote])
        for (name, expected) in referenceF32Tensors() {
            let t = try file.tensor(name)
            #expect(t.shape == expected.shape, "\(name)")
            #expect(bits(t) == bits(expected), "\(name)")
        }
    }

    @Test("Converts F16, BF16, F64, F8 and integer dtypes to Float32 exactly")
    func readsReferenceDtypes() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("reference_dtypes.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        let inf = Float.infinity
        // F16: 1, -2, max, smallest subnormal, largest subnormal, smallest normal, 0x3555, inf, -0, NaN.
        let f16 = try file.tensor("f16")
        #expect(try f16.shape == [2, 5] && file.dtype(of: "f16") == .f16)
        #expect(bits(f16) == bits([1, -2, 65504, 0x1p-24, 1023 * 0x1p-24, 0x1p-14, 0.333251953125, inf, -0.0])
            + [0x7FC0_0000])
        // BF16 is the top half of a Float32.
        #expect(bits(try file.tensor("bf16")) == [0x3F80_0000, 0xC000_0000, 0x4049_0000, 0x7F80_0000,
                                                  0x0001_0000, 0xFF80_0000, 0x8000_0000, 0x3EAB_0000])
        #expect(try file.tensor("bf16").scalars()[2] == 3.140625)
        #expect(bits(try file.tensor("f64")) == bits([Float(0.1), -inf, Float(1.0 / 3.0)]))
        // F8 E4M3 (fn): 1, 448 (max), 2^-9 (smallest subnormal), -1, NaN, 2^-6 (smallest normal).
        let e4m3 = try file.tensor("f8_e4m3").scalars()
        #expect(bits(Array(e4m3[0..<4])) == bits([1, 448, 0x1p-9, -1]) && e4m3[4].isNaN)
        #expect(e4m3[5].bitPattern == Float(0x1p-6).bitPattern)
        // F8 E5M2: 1, 57344 (max), inf, 2^-16 (smallest subnormal), -2.
        #expect(bits(try file.tensor("f8_e5m2")) == bits([1, 57344, inf, 0x1p-16, -2]))
        #expect(try file.tensor("i64").scalars() == [0, -1, 0x1p40, 7])
        #expect(try file.tensor("i32").scalars() == [1, 2, 3, -4])
        #expect(try file.tensor("i16").scalars() == [-32768, 32767])
        #expect(try file.tensor("u8").scalars() == [0, 255])
        #expect(try file.tensor("i8").scalars() == [-128, 127])
        #expect(try file.tensor("bool").scalars() == [1, 0, 1])

        #expect(try file.indexTensor("i32") == IndexTensor([1, 2, 3, -4], shape: [2, 2]))
        #expect(try file.indexTensor("bool").values == [1, 0, 1])
        #expect(try file.indexTensor("u8").values == [0, 255])
        let tooBig = #expect(throws: SafeTensorsError.self) { try file.indexTensor("i64") }
        #expect(tooBig?.kind == .unsupportedDtype)
        #expect(tooBig?.description.contains("'i64'") == true && tooBig?.description.contains("element 2") == true)
        let notInteger = #expect(throws: SafeTensorsError.self) { try file.indexTensor("f16") }
        #expect(notInteger?.kind == .unsupportedDtype && notInteger?.tensor == "f16")
    }

    @Test("F16 conversion matches the IEEE definition for all 65536 bit patterns")
    func halfExhaustive() {
        // The expectation is computed from the definition in Double: hardware conversion
        // (Float16 -> Float) flushes subnormal halves to zero on threads with DAZ set, as
        // the thread pool's threads have.
        func definition(_ h: UInt16) -> Float {
            let sign: Double = h >> 15 == 1 ? -1 : 1
            let exponent = Int(h >> 10 & 0x1F), mantissa = Double(h & 0x3FF)
            switch exponent {
            case 0: return Float(sign * mantissa * 0x1p-24)
            case 31: return mantissa == 0 ? Float(sign * .infinity) : (sign < 0 ? -Float.nan : .nan)
            default: return Float(sign * (1 + mantissa / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1))
            }
        }
        for h in 0...UInt16.max {
            let ours = SafeTensorsFile.halfToFloat(h)
            let expected = definition(h)
            if expected.isNaN {
                #expect(ours.isNaN && ours.bitPattern >> 31 == expected.bitPattern >> 31, "\(h)")
            } else if ours.bitPattern != expected.bitPattern {
                Issue.record("F16 \(String(h, radix: 16)): \(ours) != \(expected)")
            }
        }
    }

    @Test("F8 E4M3 conversion matches its definition for all 256 bit patterns")
    func e4m3Exhaustive() {
        for b in 0...UInt8.max {
            let sign: Float = b & 0x80 != 0 ? -1 : 1
            let e = Int(b >> 3) & 0xF, m = Float(b & 7)
            let v = SafeTensorsFile.e4m3ToFloat(b)
            if e == 15 && m == 7 {
                #expect(v.isNaN)
            } else {
                let expected = e == 0 ? sign * m / 8 * 0x1p-6 : sign * (1 + m / 8) * Float(sign: .plus, exponent: e - 7, significand: 1)
                #expect(v.bitPattern == expected.bitPattern, "\(b)")
            }
        }
    }

    @Test("F32 tensors borrow the mapping: copy-on-write, outlive the file object")
    func borrowedStorage() throws {
        let dir = ScratchDirectory()
        let url = dir.file("w.safetensors")
        try SafeTensors.save(["w": Tensor([1, 2, 3, 4], shape: [4])], to: url)
        let before = try Data(contentsOf: url)
        var t: Tensor
        do {
            let file = try SafeTensorsFile(url: url)
            t = try file.tensor("w")
            // Two reads of a borrowed tensor view the same mapped bytes; a copy does not.
            #expect(try file.tensor("w").data == t.data)
            let copy = try file.tensor("w", copy: true)
            #expect(copy.data != t.data && copy.scalars() == t.scalars())
        }
        // The file object is gone; the tensor keeps the mapping alive and is writable.
        t.data[0] = 42
        #expect(t.scalars() == [42, 2, 3, 4])
        #expect(try Data(contentsOf: url) == before)
        #expect(try SafeTensorsFile(url: url).tensor("w").scalars() == [1, 2, 3, 4])

        // Saving over a mapped file replaces it by rename; the mapped tensor keeps the old bytes.
        try SafeTensors.save(["w": Tensor([9, 9], shape: [2])], to: url)
        #expect(t.scalars() == [42, 2, 3, 4])
        #expect(try SafeTensors.load(url)["w"]!.scalars() == [9, 9])
    }

    @Test("Unaligned F32 data is copied correctly")
    func unalignedF32() throws {
        let dir = ScratchDirectory()
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}"#
        let data: [UInt8] = [7] + withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian) { Array($0) }
            + withUnsafeBytes(of: Float(-3).bitPattern.littleEndian) { Array($0) }
        let url = dir.write("u.safetensors", safetensorsBytes(header, data: data))
        let file = try SafeTensorsFile(url: url)
        #expect(try file.tensor("b").scalars() == [1.5, -3])
        #expect(try file.tensor("a").scalars() == [7])
    }

    @Test("Saving over an existing file replaces it and leaves no temporary file")
    func atomicReplace() throws {
        let dir = ScratchDirectory()
        let url = dir.file("ckpt.safetensors")
        try SafeTensors.save(["a": Tensor([1], shape: [1])], metadata: ["step": "1"], to: url)
        try SafeTensors.save(["b": Tensor([2, 3], shape: [2])], metadata: ["step": "2"], to: url)
        let file = try SafeTensorsFile(url: url)
        #expect(file.names == ["b"] && file.metadata == ["step": "2"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["ckpt.safetensors"])

        // A failed save leaves the previous file as it was.
        let bytes = try Data(contentsOf: url)
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.save(["__metadata__": Tensor([1], shape: [1])], to: url)
        }
        #expect(error?.kind == .invalidArgument && error?.description.contains(url.path) == true)
        #expect(try Data(contentsOf: url) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["ckpt.safetensors"])
    }

    @Test("A save that cannot create its file names the file")
    func saveIntoMissingDirectory() {
        let url = URL(fileURLWithPath: "/nonexistent-dir-\(UUID().uuidString)/model.safetensors")
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.save(["a": Tensor([1], shape: [1])], to: url)
        }
        #expect(error?.kind == .io)
        #expect(error?.description.contains(url.path) == true)
    }
}
