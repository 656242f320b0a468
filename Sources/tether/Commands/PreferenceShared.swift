import ArgumentParser
import Foundation
import TetherAlign
import TetherLM
import TetherTokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Flags shared by `dpo`, `kto` and `orpo`; each overrides the config file only when given.
struct PreferenceOptions: ParsableArguments {
    @Option(help: "The model folder to start from (config.json, model.safetensors, tokenizer.json). Required.")
    var model: String

    @Option(help: "Training data, JSONL or JSON: prompt+chosen+rejected records (or chosen+rejected with an implicit prompt). Required.")
    var data: String

    @Option(help: "Evaluation data in the same format (default: none, or eval_size records held out if the config sets it).")
    var evalData: String?

    @Option(help: "β, the strength of the leash to the reference; for orpo, λ, the weight of the odds-ratio term (beta; default: 0.1).")
    var beta: Float?

    @Option(help: "Prompt tokens kept, the last ones (max_prompt_length; default: 512).")
    var maxPromptLength: Int?

    @Option(help: "Completion tokens kept, the first ones (max_completion_length; default: no limit).")
    var maxCompletionLength: Int?

    @Option(help: "Train LoRA adapters on every linear layer but the LM head, true or false (use_peft; default: false).")
    var usePeft: Bool?

    @Option(help: "LoRA rank (lora_r; default: 16).")
    var loraR: Int?

    @Option(help: "LoRA alpha (lora_alpha; default: 32).")
    var loraAlpha: Float?

    @Option(help: "Continue the run in this folder (e.g. runs/NAME) from its newest checkpoint, with the same data and starting model; the run's saved config is used, so no --config or training flags (default: start a new run).")
    var resume: String?

    /// The method flags given, which `--resume` refuses.
    var given: [String] {
        [("--beta", beta != nil), ("--max-prompt-length", maxPromptLength != nil),
         ("--max-completion-length", maxCompletionLength != nil), ("--use-peft", usePeft != nil), ("--lora-r", loraR != nil),
         ("--lora-alpha", loraAlpha != nil)].filter(\.1).map(\.0)
    }

    /// Writes the shared flags that were given over `p`.
    func apply(to p: inout PreferenceSettings) {
        if let maxPromptLength { p.maxPromptLength = maxPromptLength }
        if let maxCompletionLength { p.maxCompletionLength = maxCompletionLength }
        if let usePeft { p.usePeft = usePeft }
        if let loraR { p.loraR = loraR }
        if let loraAlpha { p.loraAlpha = loraAlpha }
    }

    /// The method's config: the run's saved one with `--resume`, else `effective()`.
    func config<C: Decodable>(_ type: C.Type, effective: () throws -> C) throws -> C {
        try resume.map { try RunFiles.savedConfig(C.self, run: URL(fileURLWithPath: $0)) } ?? effective()
    }

    /// The trainer continuing the `--resume` run, or a new run's trainer (its effective `config` saved in the run
    /// folder); and the run folder.
    func start<T, C: Encodable>(_ config: C, training: TrainingConfig, new: () throws -> T,
                                resuming: (URL) throws -> T) throws -> (trainer: T, run: URL) {
        if let resume {
            let run = URL(fileURLWithPath: resume)
            return (try resuming(run), run)
        }
        let run = RunFiles.folder(training)
        let trainer = try new()
        try RunFiles.saveEffectiveConfig(config, run: run)
        return (trainer, run)
    }

    /// Throws if `--resume` comes with a config file or flags it would ignore.
    func refuseWithResume(_ training: TrainingOptions, extra: [String] = []) throws {
        try training.refuseWithResume(resume)
        let flags = given + extra
        guard resume != nil, !flags.isEmpty else { return }
        throw ValidationError("--resume continues with the run's saved config; drop \(flags.joined(separator: ", "))")
    }
}

/// Where the reference log-probs of `dpo` and `kto` come from; each flag overrides the config file only when given.
struct ReferenceOptions: ParsableArguments {
    @Option(help: "Reference log-probs from a frozen copy of the model (copy) or from the model with its LoRA adapters switched off (adapters_off, needs --use-peft true) (reference; default: copy).")
    var reference: ReferenceSource?

    @Option(help: "Compute reference log-probs once before training, cached in the run folder and reused on resume, true or false (precompute_ref_log_probs; default: true).")
    var precomputeRefLogProbs: Bool?

    /// The flags given, which `--resume` refuses.
    var given: [String] {
        [("--reference", reference != nil), ("--precompute-ref-log-probs", precomputeRefLogProbs != nil)].filter(\.1).map(\.0)
    }

    /// Writes the flags that were given over a config's reference settings.
    func apply(reference r: inout ReferenceSource, precompute p: inout Bool) {
        if let reference { r = reference }
        if let precomputeRefLogProbs { p = precomputeRefLogProbs }
    }
}

extension ReferenceSource: ExpressibleByArgument {}
extension DPOLossType: ExpressibleByArgument {}

/// Loading and tokenizing preference files for the commands.
enum PreferenceFiles {
    /// The tokenizer of a model folder and the example tokenizer the preference commands use (its chat template, or
    /// ChatML; EOS appended to standard completions).
    static func tokenizers(model: String) throws -> (url: URL, tokenizer: Tokenizer, examples: ExampleTokenizer, pad: Int32) {
        let url = try tokenizerFile(model)
        let tok = try Tokenizer(tokenizerJSON: url)
        let examples = ExampleTokenizer(tokenizer: tok, template: ChatTemplate(for: tok) ?? ChatTemplate(style: .chatML),
                                        eosId: RunFiles.eosId(tok))
        return (url, tok, examples, RunFiles.eosId(tok) ?? 0)
    }

    /// The ``GoldPairKind`` of every pair of `path`, in file order, when all are gold-world pairs; nil otherwise.
    static func goldPairKinds(_ path: String) throws -> [String]? {
        GoldPairKind.kinds(try DatasetLoader.load(PreferenceExample.self, from: URL(fileURLWithPath: path)).examples)?
            .map(\.description)
    }

    /// Every preference record of `path` tokenized (prompt kept from its end, completions from their start), with its
    /// `margin` column. A malformed record is an error naming the file, line and field.
    static func pairs(_ path: String, _ tokenizer: ExampleTokenizer, settings: PreferenceSettings? = nil) throws
        -> [(tokens: PreferenceTokens, margin: Float?)] {
        let examples = try DatasetLoader.load(PreferenceExample.self, from: URL(fileURLWithPath: path)).examples
        return try examples.enumerated().map { i, e in
            do throws(DatasetError) {
                return (try tokenizer.tokenize(e, maxPromptLength: settings?.maxPromptLength,
                                               maxCompletionLength: settings?.maxCompletionLength), e.margin.map(Float.init))
            } catch {
                var located = error
                located.file = path
                located.item = i
                throw located
            }
        }
    }

    /// Unpaired records (`prompt`, `completion`, `label`) tokenized; a paired file is split into a desirable and an
    /// undesirable example per pair, as TRL does.
    static func unpaired(_ path: String, _ tokenizer: ExampleTokenizer, settings: PreferenceSettings) throws -> [KTOTokens] {
        let loaded = try DatasetLoader.load(URL(fileURLWithPath: path))
        var out: [KTOTokens] = []
        for (i, record) in loaded.examples.enumerated() {
            do throws(DatasetError) {
                switch record {
                case .unpairedPreference(let e):
                    let t = try tokenizer.tokenizeApart(prompt: e.prompt, completion: e.completion,
                                                        maxPromptLength: settings.maxPromptLength,
                                                        maxCompletionLength: settings.maxCompletionLength)
                    out.append(KTOTokens(prompt: t.prompt, completion: t.completion, desirable: e.label))
                case .preference(let e):
                    out += KTOTokens.unpaired(try tokenizer.tokenize(e, maxPromptLength: settings.maxPromptLength,
                                                                     maxCompletionLength: settings.maxCompletionLength))
                default:
                    throw DatasetError(field: nil, "KTO takes prompt+completion+label or prompt+chosen+rejected records, got \(record.datasetType.rawValue)")
                }
            } catch {
                var located = error
                located.file = path
                located.item = i
                throw located
            }
        }
        return out
    }

    /// Peak resident memory of this process so far, in MiB (getrusage's ru_maxrss).
    static func peakRSSMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024          // KiB on Linux
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / (1024 * 1024) // bytes on macOS
        #endif
    }
}
