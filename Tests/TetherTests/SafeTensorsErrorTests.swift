import Foundation
import Testing
@testable import Tether

/// Opens `url`, reads every tensor, and returns the error thrown (nil if none).
private func openAndReadAll(_ url: URL) -> (any Error)? {
    do {
        let file = try SafeTensorsFile(url: url)
        for name in file.names {
            _ = try file.tensor(name).scalars()
            if try file.dtype(of: name).isInteger { _ = try? file.indexTensor(name) }
        }
        return nil
    } catch {
        return error
    }
}

private let f32x2 = #""x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

@Suite("Safetensors errors")
struct SafeTensorsErrorTests {
    /// A bad file, the kind of error it must raise, the tensor the message must name (if
    /// any), and a phrase the message must contain.
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let bytes: [UInt8]
        let kind: SafeTensorsError.Kind
        let tensor: String?
        let phrase: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "empty file", bytes: [], kind: .truncated, tensor: nil, phrase: "shorter than the 8-byte"),
        Case(label: "5-byte file", bytes: [1, 0, 0, 0, 0], kind: .truncated, tensor: nil, phrase: "5 bytes"),
        Case(label: "header length past the end", bytes: safetensorsBytes("{\(f32x2)}", data: [UInt8](repeating: 0, count: 8), length: 4096),
             kind: .truncated, tensor: nil, phrase: "header length 4096 runs past the end"),
        Case(label: "header length near 2^64", bytes: safetensorsBytes("{}", length: .max), kind: .truncated, tensor: nil,
             phrase: "runs past the end"),
        Case(label: "invalid JSON", bytes: safetensorsBytes(#"{"x": {"dtype": "F32", "#), kind: .invalidHeader, tensor: nil,
             phrase: "invalid JSON header"),
        Case(label: "trailing garbage after JSON", bytes: safetensorsBytes(#"{} x"#), kind: .invalidHeader, tensor: nil,
             phrase: "after the JSON value"),
        Case(label: "header not an object", bytes: safetensorsBytes("[1, 2]"), kind: .invalidHeader, tensor: nil,
             phrase: "expected a JSON object"),
        Case(label: "invalid UTF-8 in a name", bytes: safetensorsBytes("{\"\u{1}\"}").enumerated().map { $0.offset == 10 ? 0xFF : $0.element },
             kind: .invalidHeader, tensor: nil, phrase: "UTF-8"),
        Case(label: "duplicate tensor name", bytes: safetensorsBytes("{\(f32x2),\(f32x2)}", data: [UInt8](repeating: 0, count: 8)),
             kind: .invalidHeader, tensor: nil, phrase: "duplicate key 'x'"),
        Case(label: "entry without dtype", bytes: safetensorsBytes(#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
             kind: .invalidHeader, tensor: "w", phrase: "no \"dtype\""),
        Case(label: "entry not an object", bytes: safetensorsBytes(#"{"w":[1]}"#), kind: .invalidHeader, tensor: "w",
             phrase: "expected an object"),
        Case(label: "negative dimension", bytes: safetensorsBytes(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#),
             kind: .invalidHeader, tensor: "w", phrase: "non-negative integers"),
        Case(label: "fractional dimension", bytes: safetensorsBytes(#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}}"#),
             kind: .invalidHeader, tensor: "w", phrase: "non-negative integers"),
        Case(label: "three offsets", bytes: safetensorsBytes(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#),
             kind: .invalidHeader, tensor: "w", phrase: "data_offsets"),
        Case(label: "unknown dtype", bytes: safetensorsBytes(#"{"w":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]),
             kind: .unknownDtype, tensor: "w", phrase: "unknown dtype 'F12'"),
        Case(label: "metadata value not a string", bytes: safetensorsBytes(#"{"__metadata__":{"step":3}}"#),
             kind: .invalidHeader, tensor: nil, phrase: "'step' is a number"),
        Case(label: "offsets past the end (truncated data)", bytes: safetensorsBytes("{\(f32x2)}", data: [0, 0, 0, 0]),
             kind: .invalidOffsets, tensor: "x", phrase: "run past the 4-byte data section"),
        Case(label: "offsets not matching shape", bytes: safetensorsBytes(#"{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
             kind: .invalidOffsets, tensor: "w", phrase: "needs 6"),
        Case(label: "offsets ending before they begin", bytes: safetensorsBytes(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]),
             kind: .invalidOffsets, tensor: "w", phrase: "end before they begin"),
        Case(label: "overlapping tensors", bytes: safetensorsBytes(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            data: [UInt8](repeating: 0, count: 8)), kind: .invalidOffsets, tensor: "b", phrase: "overlap tensor 'a'"),
        Case(label: "gap between tensors", bytes: safetensorsBytes(
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            data: [UInt8](repeating: 0, count: 12)), kind: .invalidOffsets, tensor: "b", phrase: "gap of 4 bytes after tensor 'a'"),
        Case(label: "bytes after the last tensor", bytes: safetensorsBytes("{\(f32x2)}", data: [UInt8](repeating: 0, count: 12)),
             kind: .invalidOffsets, tensor: "x", phrase: "4 bytes after the last tensor"),
        Case(label: "shape overflowing Int", bytes: safetensorsBytes(
            #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#),
             kind: .invalidOffsets, tensor: "w", phrase: "too large"),
        Case(label: "deep nesting", bytes: safetensorsBytes(#"{"__metadata__":"# + String(repeating: "[", count: 10_000)),
             kind: .invalidHeader, tensor: nil, phrase: "nesting deeper"),
    ]

    @Test("Bad files throw errors naming the file, the tensor and the problem", arguments: cases)
    func badFile(_ c: Case) throws {
        let dir = ScratchDirectory()
        let url = dir.write("bad file.safetensors", c.bytes)
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(url: url) }
        #expect(error?.kind == c.kind)
        #expect(error?.file == url.path)
        #expect(error?.tensor == c.tensor)
        let message = error?.description ?? ""
        #expect(message.contains("'\(url.path)'"), "\(message)")
        if let t = c.tensor { #expect(message.contains("tensor '\(t)'"), "\(message)") }
        #expect(message.contains(c.phrase), "\(message)")
    }

    @Test("A missing tensor, a missing file and a directory are named in the error")
    func missingThings() throws {
        let dir = ScratchDirectory()
        let url = dir.file("m.safetensors")
        try SafeTensors.save(["alpha": Tensor([1], shape: [1]), "beta": Tensor([2], shape: [1])], to: url)
        let file = try SafeTensorsFile(url: url)
        let missing = #expect(throws: SafeTensorsError.self) { try file.tensor("gamma") }
        #expect(missing?.kind == .missingTensor && missing?.tensor == "gamma")
        #expect(missing?.description.contains(url.path) == true)
        #expect(missing?.description.contains("'alpha', 'beta'") == true)
        #expect((#expect(throws: SafeTensorsError.self) { try file.shape(of: "gamma") })?.kind == .missingTensor)

        let nowhere = dir.file("absent.safetensors")
        let absent = #expect(throws: SafeTensorsError.self) { try SafeTensors.load(nowhere) }
        #expect(absent?.kind == .io && absent?.description.contains(nowhere.path) == true)
        #expect(absent?.description.contains("No such file") == true)

        let directory = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(url: dir.url) }
        #expect(directory?.kind == .io && directory?.description.contains("not a regular file") == true)

        let fifo = dir.file("pipe.safetensors")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let pipe = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(url: fifo) }
        #expect(pipe?.kind == .io && pipe?.description.contains("not a regular file") == true)
    }

    @Test("Random corruptions of valid files never crash: they load or throw SafeTensorsError")
    func corruptionFuzz() throws {
        let dir = ScratchDirectory()
        let sources = [
            try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("reference_dtypes.safetensors"))),
            try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("reference_f32.safetensors"))),
        ]
        var rng = RandomGenerator(seed: 0x5afe).fork(1)
        var outcomes = [0, 0]  // loaded, threw
        for trial in 0..<1500 {
            var bytes = sources[trial % 2]
            let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
            switch rng.nextInt(below: 4) {
            case 0:  // truncate anywhere
                bytes.removeLast(rng.nextInt(below: bytes.count) + 1)
            case 1:  // overwrite bytes in the length prefix or the header
                for _ in 0...rng.nextInt(below: 4) {
                    bytes[rng.nextInt(below: headerEnd)] = UInt8(truncatingIfNeeded: rng.nextUInt32())
                }
            case 2:  // overwrite one header byte with a JSON-significant character
                let specials = Array("{}[]\",:0123456789-e. ".utf8)
                bytes[8 + rng.nextInt(below: headerEnd - 8)] = specials[rng.nextInt(below: specials.count)]
            default:  // flip bits anywhere
                for _ in 0...rng.nextInt(below: 8) {
                    bytes[rng.nextInt(below: bytes.count)] ^= UInt8(1) << rng.nextInt(below: 8)
                }
            }
            let url = dir.write("fuzz.safetensors", bytes)
            if let error = openAndReadAll(url) {
                #expect(error is SafeTensorsError, "trial \(trial): \(error)")
                if let e = error as? SafeTensorsError {
                    #expect(e.description.contains(url.path), "trial \(trial): \(e)")
                }
                outcomes[1] += 1
            } else {
                outcomes[0] += 1
            }
        }
        // Both outcomes occur, so the fuzzing reaches past the first checks.
        #expect(outcomes[0] > 50 && outcomes[1] > 50, "\(outcomes)")
    }
}
