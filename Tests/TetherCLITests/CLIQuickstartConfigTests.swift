import Foundation
import Testing
import TetherAlign
@testable import tether

/// `tether quickstart --config FILE`: the file is written over the built-in settings key by key, flags win, and a
/// bad file is refused naming its line and dotted key.
@Suite struct CLIQuickstartConfigTests {
    /// The config `quickstart --config` reads from a file holding `yaml`, with `flags` after it.
    func config(_ yaml: String, _ flags: [String] = []) throws -> QuickstartConfig {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tether-qs-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try QuickstartCommand.parse(["--config", file.path] + flags).effectiveConfig()
    }

    /// The error message `quickstart --config` gives for a file holding `yaml`.
    func failure(_ yaml: String) -> String {
        do { _ = try config(yaml); return "no error" } catch { return "\(error)" }
    }

    @Test func aNestedKeyChangesOnlyItself() throws {
        let c = try config("sft:\n  weight_decay: 0.5\nrepeats: {mul_2x1: 10, add_3x3: 2}\nlayers: 3\n")
        var expected = QuickstartConfig()
        expected.sft.weightDecay = 0.5
        expected.repeats = ["mul_2x1": 10, "add_3x3": 2]
        expected.layers = 3
        #expect(c == expected)
        #expect(c.sft.maxSteps == 7_000 && c.sft.learningRate == 2e-3)   // the stage's other settings stay
    }

    @Test func aSavedConfigReadsBackWhole() throws {
        var saved = QuickstartConfig()          // as a run's config.json holds it
        saved.seed = 9
        saved.sft.weightDecay = 0.3
        saved.validationProblems = 20
        saved.preference?.prompts = 300
        let json = String(decoding: try JSONEncoder().encode(saved), as: UTF8.self)
        #expect(try config(json) == saved)
    }

    @Test func flagsOverrideTheFileAndAnEmptyFileIsTheDefaults() throws {
        let c = try config("seed: 4\nvalidation_problems: 50\nsft: {max_steps: 100}\n", ["--seed", "7", "--arithmetic-only"])
        #expect(c.seed == 7 && c.validationProblems == 50 && c.sft.maxSteps == 100 && c.preference == nil)
        #expect(try config("") == QuickstartConfig())
        #expect(try config("preference: {beta: 0.2}\n").preference?.beta == 0.2)
    }

    @Test func badFilesNameTheLineAndKey() {
        let unknown = failure("seed: 1\nsft:\n  weight_decy: 0.5\n")
        #expect(unknown.contains(":3: field 'sft.weight_decy': unknown key") && unknown.contains("weight_decay"), "\(unknown)")
        let type = failure("sft:\n  weight_decay: heavy\n")
        #expect(type.contains(":2: field 'sft.weight_decay': expected a number"), "\(type)")
        let element = failure("layers: 2\ntasks:\n  - operation: add\n    digits_a: 3\n")
        #expect(element.contains(":3: field 'tasks.0.digits_b': required key missing"), "\(element)")
        let range = failure("seed: 1\npretrain:\n  learning_rate: -1\n")
        #expect(range.contains(":3: field 'pretrain.learning_rate':"), "\(range)")
        #expect(failure("- 1\n- 2\n").contains("expected a mapping"))
        #expect(failure("sft: [1\n").contains("not valid YAML"))
    }
}
