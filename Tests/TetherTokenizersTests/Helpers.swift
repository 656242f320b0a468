import Foundation
@testable import TetherTokenizers

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

struct FixtureCase: Decodable {
    let text: String
    let ids: [Int32]
    let ids_plain: [Int32]
    let decoded: String
    let decoded_skip: String
}

/// The `tokenizers` library's encodings, by tokenizer file (see Fixtures/make_tokenizer_fixtures.py).
let fixtureCases: [String: [FixtureCase]] = {
    let data = try! Data(contentsOf: fixtures.appendingPathComponent("cases.json"))
    return try! JSONDecoder().decode([String: [FixtureCase]].self, from: data)
}()

func loadFixture(_ name: String) throws -> Tokenizer {
    try Tokenizer(tokenizerJSON: fixtures.appendingPathComponent(name))
}

/// A small seeded generator (SplitMix64) for property tests.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
