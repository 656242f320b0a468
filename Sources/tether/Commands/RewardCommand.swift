import ArgumentParser
import Foundation
import TetherAlign
import TetherLM

/// `tether reward train|score`: Bradley–Terry reward models and ensembles of them.
struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Train reward models (a transformer with a scalar head) on preference pairs, and score with them.",
        subcommands: [TrainCommand.self, ScoreCommand.self])

    /// `tether reward train`.
    struct TrainCommand: TrainingCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a reward model (or an ensemble) with the Bradley–Terry loss; prints and saves the held-out eval_accuracy in RUN/metrics.json (for gold-world --eval-data also by kind of pair).")

        @OptionGroup var training: TrainingOptions

        @Option(help: "The model folder to start from (a causal LM gets a fresh scalar head; a reward model keeps its own). Required.")
        var model: String

        @Option(help: "Training data, JSONL or JSON: prompt+chosen+rejected records, optionally with a numeric margin column. Required.")
        var data: String

        @Option(help: "Held-out pairs in the same format (default: eval_size of the data, 0.1 when the config leaves it unset).")
        var evalData: String?

        @Option(help: "c in c·(r_chosen + r_rejected)², pulling rewards towards mean zero (center_rewards_coefficient; default: off).")
        var centerRewardsCoefficient: Float?

        @Option(help: "Members of an ensemble, member k with seed SEED+k and data order DATA_SEED+k, saved in RUN/member-k (ensemble_size; default: 1).")
        var ensembleSize: Int?

        @Option(help: "Train each ensemble member on a bootstrap resample of the training pairs, true or false (ensemble_bootstrap; default: false).")
        var ensembleBootstrap: Bool?

        @Option(help: "Give a fresh scorer the token verifier, true or false: a learned per-token weight on the LM head's log-prob of each written token, summed into the reward, so a trunk that can compute an answer can check the written one (token_verifier; default: false; a reward model keeps what it has).")
        var tokenVerifier: Bool?

        @Option(help: "Continue the run in this folder (e.g. runs/NAME) from its newest checkpoint, with the same data and starting model; an ensemble continues each member from its own newest checkpoint and starts the members not begun yet. The run's saved config is used, so no --config or training flags (default: start a new run).")
        var resume: String?

        /// The effective config: the file, the reward defaults where it is silent, then the flags.
        func effectiveConfig() throws -> RewardConfig {
            var c = try ConfigFile.load(RewardConfig.self, from: training.config, empty: RewardConfig()) { c, keys in
                if !keys.contains("learning_rate") { c.training.learningRate = 1e-5 }  // TRL's RewardConfig default
                if !keys.contains("eval_size") { c.evalSize = .fraction(0.1) }
            }
            training.apply(to: &c.training)
            if let centerRewardsCoefficient { c.centerRewardsCoefficient = centerRewardsCoefficient }
            if let ensembleSize { c.ensembleSize = ensembleSize }
            if let ensembleBootstrap { c.ensembleBootstrap = ensembleBootstrap }
            if let tokenVerifier { c.tokenVerifier = tokenVerifier }
            try c.validate()
            return c
        }

        /// Trains; returns the run folder (the ensemble's folder when there are several members) and the last checkpoint.
        /// Ctrl-C stops after the member being trained has saved its checkpoint; `--resume` carries on from there.
        @discardableResult
        func train() throws -> (run: URL, checkpoint: URL?) {
            try training.refuseWithResume(resume)
            if resume != nil, centerRewardsCoefficient != nil || ensembleSize != nil || ensembleBootstrap != nil
                || tokenVerifier != nil {
                throw ValidationError("--resume continues with the run's saved config; drop the reward flags")
            }
            let config = try resume.map { try RunFiles.savedConfig(RewardConfig.self, run: URL(fileURLWithPath: $0)) } ?? effectiveConfig()
            let tok = try PreferenceFiles.tokenizers(model: model)
            let shape = try TransformerConfig(contentsOf: URL(fileURLWithPath: model).appendingPathComponent("config.json"))
            let length = PreferencePairs.lengthLimit(config.training.maxLength, model: shape)
            let all = try PreferenceFiles.pairs(data, tok.examples).map { RewardPair($0.tokens, margin: $0.margin, maxLength: length) }
            let given = try evalData.map { try PreferenceFiles.pairs($0, tok.examples).map { RewardPair($0.tokens, margin: $0.margin, maxLength: length) } }
            let (trainSet, evalSet) = try RewardTrainer.split(config: config, train: all, eval: given)
            let run = resume.map { URL(fileURLWithPath: $0) } ?? RunFiles.folder(config.training)
            guard resume != nil || !FileManager.default.fileExists(atPath: run.path) else { throw TrainingError.runExists(path: run.path) }
            if resume == nil && config.ensembleSize > 1 {  // the ensemble's own config, for --resume
                try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
                try RunFiles.saveEffectiveConfig(config, run: run)
            }
            var members: [ScoreModel] = [], accuracies: [Double] = [], last: URL? = nil
            for k in 0..<config.ensembleSize {
                let member = config.member(k, in: run)
                let memberRun = RunFiles.folder(member.training)
                let scorer = try ScoreModel(contentsOf: URL(fileURLWithPath: model), requireHead: false,
                                            verifier: config.tokenVerifier ? true : nil, seed: member.training.seed)
                let rows = config.ensembleBootstrap ? RewardTrainer.bootstrap(trainSet, seed: member.training.seed) : trainSet
                let trainer: RewardTrainer
                if resume != nil && FileManager.default.fileExists(atPath: memberRun.path) {
                    trainer = try RewardTrainer(resuming: memberRun, config: member, model: scorer, train: rows, eval: evalSet, padId: tok.pad)
                } else {
                    trainer = try RewardTrainer(config: member, model: scorer, train: rows, eval: evalSet, padId: tok.pad)
                    try RunFiles.saveEffectiveConfig(config.ensembleSize > 1 ? member : config, run: trainer.loop.runDirectory)
                }
                let outcome = try trainer.train()
                try RunFiles.copyTokenizer(tok.url, into: trainer.loop.runDirectory)
                if case .interrupted(let checkpoint) = outcome {
                    print("stopped during \(memberRun.lastPathComponent); continue with --resume \(run.path)")
                    return (run, checkpoint)
                }
                members.append(scorer)
                accuracies.append(evalSet.map { RewardEnsemble(members: [scorer]).accuracy($0, padId: tok.pad) } ?? .nan)
                last = trainer.loop.lastCheckpoint
            }
            var metrics: [String: Any] = ["eval_pairs": evalSet?.count ?? 0, "train_pairs": trainSet.count]
            // Pairs of the gold world (a given --eval-data file, one pair per record) are also counted by kind.
            let accuracy = try evalSet.map {
                RewardAccuracy(rankedRight: RewardEnsemble(members: members).rankedRight($0, padId: tok.pad),
                               kinds: try evalData.flatMap(PreferenceFiles.goldPairKinds))
            }
            if let accuracy {
                metrics["eval_accuracy"] = accuracy.evalAccuracy
                if !accuracy.byKind.isEmpty { metrics["eval_accuracy_by_kind"] = accuracy.byKindObject }
                if members.count > 1 { metrics["member_eval_accuracy"] = accuracies }
            }
            let data = try JSONSerialization.data(withJSONObject: metrics, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: run.appendingPathComponent("metrics.json"), options: .atomic)
            if let accuracy {
                print("eval_accuracy: \(String(format: "%.4f", accuracy.evalAccuracy)) on \(accuracy.evalPairs) held-out pairs"
                      + (members.count > 1 ? " (ensemble of \(members.count), mean)" : ""))
                for l in accuracy.kindLines { print(l) }
            }
            return (run, members.count > 1 ? nil : last)
        }
    }

    /// `tether reward score`.
    struct ScoreCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "score",
            abstract: "Score records with a reward model or an ensemble: one JSON line per record; for pairs, the accuracy at the end (gold-world pairs also by kind).")

        @Option(help: "A reward-model folder; repeat for an ensemble (each member is scored, then aggregated). Required.")
        var model: [String]

        @Option(help: "Records to score, JSONL or JSON: prompt+chosen+rejected pairs, prompt+completion, or text. Required.")
        var data: String

        @Option(help: "How an ensemble's rewards combine: mean, min, or mean-std (mean − λ·std) (default: mean).")
        var aggregate = "mean"

        @Option(help: "λ of mean-std (default: 1).")
        var lambda: Float = 1

        @Option(help: "Longest sequence scored, in tokens (at most a GPT-2 model's positions); longer ones keep their start (default: 1024).")
        var maxLength = 1024

        func validate() throws {
            if model.isEmpty { throw ValidationError("give at least one --model") }
            if EnsembleAggregation(name: aggregate, lambda: lambda) == nil {
                throw ValidationError("--aggregate must be mean, min or mean-std, got '\(aggregate)'")
            }
        }

        /// The output lines: one JSON object per record, then, for pairs, `{"accuracy": ...}`.
        func outputLines() throws -> [String] {
            let tok = try PreferenceFiles.tokenizers(model: model[0])
            let ensemble = RewardEnsemble(members: try model.map { try ScoreModel(contentsOf: URL(fileURLWithPath: $0)) },
                                          aggregation: EnsembleAggregation(name: aggregate, lambda: lambda)!)
            let records = try DatasetLoader.load(URL(fileURLWithPath: data)).examples
            func line(_ fields: [String: Any]) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
            }
            // A GPT-2 member cannot read past its learned positions: keep the start, as training did.
            let limit = ensemble.members.map { PreferencePairs.lengthLimit(maxLength, model: $0.config) }.min()!
            func score(_ seqs: [[Int32]]) -> (aggregate: [Float], members: [[Float]]) {
                let m = ensemble.memberScores(seqs.map { Array($0.prefix(limit)) }, padId: tok.pad)
                return (ensemble.aggregation.aggregate(m), m)
            }
            var lines: [String] = []
            if case .preference? = records.first {
                let pairs = try PreferenceFiles.pairs(data, tok.examples)
                let c = score(pairs.map { $0.tokens.prompt + $0.tokens.chosen }), r = score(pairs.map { $0.tokens.prompt + $0.tokens.rejected })
                for i in pairs.indices {
                    var f: [String: Any] = ["chosen": Double(c.aggregate[i]), "rejected": Double(r.aggregate[i])]
                    if model.count > 1 { f["chosen_members"] = c.members.map { Double($0[i]) }; f["rejected_members"] = r.members.map { Double($0[i]) } }
                    lines.append(try line(f))
                }
                let accuracy = RewardAccuracy(rankedRight: zip(c.aggregate, r.aggregate).map { $0 > $1 },
                                              kinds: try PreferenceFiles.goldPairKinds(data))
                var f: [String: Any] = ["accuracy": accuracy.evalAccuracy, "pairs": pairs.count]
                if !accuracy.byKind.isEmpty { f["by_kind"] = accuracy.byKindObject }
                lines.append(try line(f))
                return lines
            }
            let seqs: [[Int32]] = try records.enumerated().map { i, e in
                do throws(DatasetError) {
                    switch e {
                    case .promptCompletion(let x):
                        let t = try tok.examples.tokenizeApart(prompt: x.prompt, completion: x.completion)
                        return t.prompt + t.completion
                    case .languageModeling(let x): return try tok.examples.tokenize(x).ids
                    default: throw DatasetError(field: nil, "reward score takes preference, prompt+completion or text records, got \(e.datasetType.rawValue)")
                    }
                } catch {
                    var located = error
                    located.file = data
                    located.item = i
                    throw located
                }
            }
            let s = score(seqs)
            for i in seqs.indices {
                var f: [String: Any] = ["reward": Double(s.aggregate[i])]
                if model.count > 1 { f["members"] = s.members.map { Double($0[i]) } }
                lines.append(try line(f))
            }
            return lines
        }

        func run() throws { for l in try outputLines() { print(l) } }
    }
}
