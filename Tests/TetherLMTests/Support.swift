import Foundation
import Tether
@testable import TetherLM

/// The folder of a fixture model made by Scripts/make_lm_fixtures.py.
func fixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
}

/// Reference outputs of a fixture model (parity.json).
struct Parity: Decodable {
    struct Grad: Decodable {
        var shape: [Int]
        var values: [Double]
    }

    var input_ids: [[Int32]]
    var attention_mask: [[Float]]
    var position_ids: [[Int32]]?
    var targets: [[Int32]]?
    var logits: [Double]?
    var logits_shape: [Int]?
    var loss: Double?
    var grads: [String: Grad]?
    var scores: [Double]?

    static func load(_ name: String) throws -> Parity {
        try JSONDecoder().decode(Parity.self, from: Data(contentsOf: fixture(name).appendingPathComponent("parity.json")))
    }

    var ids: IndexTensor { IndexTensor(input_ids.flatMap { $0 }, shape: [input_ids.count, input_ids[0].count]) }
    var mask: Tensor { Tensor(attention_mask.flatMap { $0 }, shape: [attention_mask.count, attention_mask[0].count]) }
    var targetIds: IndexTensor { IndexTensor(targets!.flatMap { $0 }, shape: [targets!.count, targets![0].count]) }
}

/// Largest |a - b| / (atol + rtol·|b|); ≤ 1 means close.
func worstRatio(_ a: [Float], _ b: [Double], rtol: Double = 1e-4, atol: Double = 1e-4) -> Double {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs(Double($0) - $1) / (atol + rtol * abs($1)) }.max() ?? 0
}

/// A fresh temporary folder.
func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tether-lm-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A copy of a fixture folder's files into a temporary folder, to corrupt.
func copyOfFixture(_ name: String) throws -> URL {
    let dst = temporaryFolder()
    for file in ["config.json", "model.safetensors"] {
        try FileManager.default.copyItem(at: fixture(name).appendingPathComponent(file),
                                         to: dst.appendingPathComponent(file))
    }
    return dst
}
