import Foundation
import Testing
@testable import TetherTokenizers

/// Encodings and decodings equal those of the HF `tokenizers` library on the same files.
@Suite struct FixtureTests {
    func check(_ tok: Tokenizer, _ file: String, withSpecial: Bool = true) {
        let cases = fixtureCases[file]!
        #expect(cases.count > 90)
        for c in cases {
            if withSpecial {
                #expect(tok.encode(c.text) == c.ids, "\(file): \(c.text.debugDescription)")
            }
            #expect(tok.encode(c.text, addSpecialTokens: false) == c.ids_plain, "\(file): \(c.text.debugDescription)")
            #expect(tok.decode(c.ids) == c.decoded, "\(file): \(c.text.debugDescription)")
            #expect(tok.decode(c.ids, skipSpecialTokens: true) == c.decoded_skip, "\(file): \(c.text.debugDescription)")
        }
    }

    @Test func gpt2MatchesTokenizersLibrary() throws {
        let tok = try loadFixture("gpt2.json")
        #expect(tok.preTokenizer == PreTokenizer(split: nil, addPrefixSpace: false, useRegex: true))
        #expect(tok.addedTokens.count == 3)
        check(tok, "gpt2.json")
    }

    @Test func gpt2PrefixSpaceMatchesTokenizersLibrary() throws {
        let tok = try loadFixture("gpt2_prefix.json")
        #expect(tok.preTokenizer.addPrefixSpace)
        check(tok, "gpt2_prefix.json")
    }

    @Test func llama3MatchesTokenizersLibrary() throws {
        let tok = try loadFixture("llama3.json")
        #expect(tok.preTokenizer.split == .llama3)
        #expect(tok.model.ignoreMerges)
        #expect(tok.postProcessor != nil)
        check(tok, "llama3.json")
    }

    @Test func qwen2WithNFCAndStrippedTokensMatchesTokenizersLibrary() throws {
        let tok = try loadFixture("qwen2.json")
        #expect(tok.normalizer == .nfc && tok.preTokenizer.split == .qwen2)
        check(tok, "qwen2.json")
    }

    @Test func gpt2VocabAndMergesFilesMatchTokenizersLibrary() throws {
        let tok = try Tokenizer(vocabJSON: fixtures.appendingPathComponent("gpt2_vocab.json"),
                                mergesTXT: fixtures.appendingPathComponent("gpt2_merges.txt"))
        check(tok, "gpt2_vocab.json")
    }

    @Test func savedJSONLoadsBackWithTheSameEncodings() throws {
        for file in ["gpt2.json", "llama3.json", "gpt2_prefix.json", "qwen2.json"] {
            let tok = try loadFixture(file)
            let again = try Tokenizer(tokenizerJSONData: tok.tokenizerJSONData(), file: "saved \(file)")
            #expect(again.addedTokens == tok.addedTokens)
            #expect(again.model.merges.count == tok.model.merges.count)
            check(again, file)
        }
    }

    @Test func lossyDecodingOfPartialTokensMatchesTokenizersLibrary() throws {
        let tok = try loadFixture("llama3.json")
        let singles = fixtureCases["single_id_decodes"]!, triples = fixtureCases["byte_pair_decodes"]!
        #expect(singles.count == 700 && triples.count == 300)
        #expect(singles.contains { $0.decoded.contains("\u{FFFD}") })
        for c in singles + triples {
            #expect(tok.decode(c.ids) == c.decoded, "\(c.ids)")
            #expect(tok.decode(c.ids, skipSpecialTokens: true) == c.decoded_skip, "\(c.ids)")
        }
    }

    @Test func offsetsPointAtEachTokensBytes() throws {
        for file in ["gpt2.json", "llama3.json"] {
            let tok = try loadFixture(file)
            for c in fixtureCases[file]! {
                let (ids, starts) = tok.encodeWithOffsets(c.text)
                #expect(ids == c.ids_plain)
                let bytes = Array(c.text.utf8)
                var covered = 0
                for (id, start) in zip(ids, starts) {
                    let tb = tok.idBytes[Int(id)]!
                    #expect(start >= covered, "\(file): \(c.text.debugDescription)")
                    // Model tokens sit exactly at their bytes; added tokens may swallow whitespace first (lstrip).
                    let at = tok.addedTokens.contains { $0.id == id } ? bytes[start...].firstRange(of: tb)?.lowerBound : start
                    #expect(at.map { Array(bytes[$0..<($0 + tb.count)]) == tb } == true, "\(file): \(c.text.debugDescription)")
                    covered = (at ?? start) + tb.count
                }
                #expect(covered == bytes.count, "\(file): \(c.text.debugDescription)")
            }
        }
    }

    @Test func pairEncodingUsesThePairTemplate() throws {
        let tok = try loadFixture("llama3.json")
        let cases = fixtureCases["llama3_pairs"]!
        #expect(cases.count == 3)
        for c in cases {
            let parts = c.text.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            let e = tok.encode(parts[0], pair: parts[1])
            #expect(e.ids == c.ids && e.typeIds == c.ids_plain, "\(parts)")
        }
    }

    @Test func batchEncodeEqualsSingleEncodes() throws {
        let tok = try loadFixture("llama3.json")
        let texts = fixtureCases["llama3.json"]!.map(\.text)
        let batch = tok.encodeBatch(texts, threads: 2)
        #expect(batch == texts.map { tok.encode($0) })
    }
}
