import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM
import TetherNN
#if canImport(Glibc)
import Glibc
#endif

/// The shared loop: accumulation, resume, interruption, stops, guards, outputs.
@Suite(.serialized) struct LoopTests {
    /// Gradients after one accumulated step of 4 rows split as micro × accumulation.
    func gradients(micro: Int, accumulation: Int, concurrent: Bool = false) throws -> [[Float]] {
        var c = smallConfig(steps: 1)
        c.microBatchSize = micro
        c.gradientAccumulationSteps = accumulation
        c.concurrentMicroBatches = concurrent
        let model = tinyGPT2()
        let examples = randomExamples(4)
        let loop = try TrainingLoop(config: c, objective: CausalLMObjective(model: model), train: lmData(examples))
        let batches = (0..<accumulation).map { k in lmData(examples).batch(Array((k * micro)..<((k + 1) * micro))) }
        _ = try loop.accumulateGradients(batches)
        return model.trainableParameters.map { $0.grad!.scalars() }
    }

    @Test func gradientsDoNotDependOnTheMicroBatchSplit() throws {
        let whole = try gradients(micro: 4, accumulation: 1)
        #expect(whole.contains { $0.contains { $0 != 0 } })
        for (m, a) in [(2, 2), (1, 4)] {
            let split = try gradients(micro: m, accumulation: a)
            let worst = maxDifference(whole, split)
            #expect(worst <= 1e-5, "\(m)x\(a): max difference \(worst)")
        }
    }

    @Test func concurrentMicroBatchesGiveTheSameGradientsEveryTime() throws {
        let sequential = try gradients(micro: 1, accumulation: 4)
        let concurrent = try gradients(micro: 1, accumulation: 4, concurrent: true)
        let worst = maxDifference(sequential, concurrent)
        #expect(worst <= 1e-5, "max difference \(worst)")
        #expect(try gradients(micro: 1, accumulation: 4, concurrent: true) == concurrent)  // deterministic
    }

    @Test func concurrentMicroBatchesRefuseSharedDropoutAndOtherObjectives() throws {
        var c = smallConfig(steps: 1)
        c.concurrentMicroBatches = true
        let model = tinyGPT2()
        try model.applyLoRA(LoRAConfig(r: 2, alpha: 4, dropout: 0.1, targetModules: .allLinear))
        let dropout = #expect(throws: TrainingError.self) {
            _ = try TrainingLoop(config: c, objective: CausalLMObjective(model: model), train: lmData(randomExamples(4)))
        }
        #expect("\(String(describing: dropout))".contains("concurrent_micro_batches"))
        let kto = #expect(throws: TrainingError.self) {
            _ = try KTOTrainer(config: KTOConfig(training: c), model: tinyGPT2(),
                               train: KTOTokens.unpaired(PreferenceTokens(prompt: [1, 2], chosen: [3], rejected: [4])))
        }
        #expect("\(String(describing: kto))".contains("concurrent_micro_batches"))
    }

    @Test func resumeEqualsAnUninterruptedRun() throws {
        let examples = randomExamples(5), held = randomExamples(3, seed: 11)
        var c = smallConfig(steps: 6)
        c.evalSteps = 3
        c.loggingSteps = 2                // the checkpoint at 3 falls inside a logging interval
        c.microBatchSize = 2
        c.gradientAccumulationSteps = 2  // 4 rows a step over 5 rows: crosses epochs, reshuffles
        let straightModel = tinyGPT2()
        let straight = try quietSFT(c, model: straightModel, train: examples, eval: held)
        guard case .completed = try straight.train() else { Issue.record("not completed"); return }

        var c2 = c
        c2.outputDir = tempDir().path
        let first = try quietSFT(c2, model: tinyGPT2(), train: examples, eval: held)
        first.loop.afterStep = { [loop = first.loop] step, _ in if step == 3 { loop.requestStop() } }
        guard case .interrupted(let cp) = try first.train() else { Issue.record("not interrupted"); return }
        #expect(cp.lastPathComponent == "checkpoint-3")
        let resumedModel = tinyGPT2(seed: 99)  // different weights: resume must restore them
        let run = URL(fileURLWithPath: c2.outputDir).appendingPathComponent(c2.runName)
        let second = try SFTTrainer(resuming: run, config: SFTConfig(training: c2), model: resumedModel,
                                    train: examples, eval: held)
        second.loop.progress = .silent
        #expect(second.loop.state.step == 3)
        guard case .completed = try second.train() else { Issue.record("resume not completed"); return }

        let a = try Metrics.read(straight.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        let b = try Metrics.read(run.appendingPathComponent("metrics.jsonl"))
        #expect(a.map { $0["step"] } == [2, 3, 4, 6] && a.last?["eval_loss"] != nil)
        #expect(timeless(a) == timeless(b))
        for ((n, p), (_, q)) in zip(straightModel.namedParameters(), resumedModel.namedParameters()) {
            #expect(p.scalars() == q.scalars(), "\(n)")
        }
    }

    @Test func loraWithDropoutResumesExactly() throws {
        let examples = randomExamples(6)
        func lora(_ seed: UInt64) throws -> CausalLM {
            let m = tinyGPT2(seed: 1)
            try m.applyLoRA(LoRAConfig(r: 2, alpha: 4, dropout: 0.3, targetModules: .allLinear), seed: seed)
            return m
        }
        var c = smallConfig(steps: 5)
        let straightModel = try lora(7)
        let straight = try quietSFT(c, model: straightModel, train: examples)
        try straight.train()

        c.outputDir = tempDir().path
        let first = try quietSFT(c, model: try lora(7), train: examples)
        first.loop.afterStep = { [loop = first.loop] step, _ in if step == 2 { loop.requestStop() } }
        try first.train()
        let resumedModel = try lora(8)  // other adapters and dropout generators: resume restores both
        let second = try SFTTrainer(resuming: first.loop.runDirectory, config: SFTConfig(training: c), model: resumedModel,
                                    train: examples)
        second.loop.progress = .silent
        try second.train()
        let a = try Metrics.read(straight.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        let b = try Metrics.read(first.loop.runDirectory.appendingPathComponent("metrics.jsonl"))
        #expect(a.count == 5 && timeless(a) == timeless(b))
        let adapters = straightModel.trainableNamedParameters
        #expect(!adapters.isEmpty && adapters.allSatisfy { $0.0.contains("lora") })
        for ((n, p), (_, q)) in zip(adapters, resumedModel.trainableNamedParameters) { #expect(p.scalars() == q.scalars(), "\(n)") }
    }

    @Test func resumeRefusesOtherDataAndAMissingRun() throws {
        let t = try quietSFT(smallConfig(steps: 4), model: tinyGPT2(), train: randomExamples(5))
        t.loop.afterStep = { [loop = t.loop] step, _ in if step == 1 { loop.requestStop() } }
        try t.train()
        let cp = t.loop.runDirectory.appendingPathComponent("checkpoint-1").path
        #expect(throws: TrainingError.dataChanged(checkpoint: cp, expectedRows: 5, rows: 4)) {
            _ = try SFTTrainer(resuming: t.loop.runDirectory, config: SFTConfig(training: t.loop.config), model: tinyGPT2(),
                               train: randomExamples(4))
        }
        let nowhere = tempDir().appendingPathComponent("none")
        #expect(throws: TrainingError.noCheckpoint(path: nowhere.path)) {
            _ = try SFTTrainer(resuming: nowhere, config: SFTConfig(), model: tinyGPT2(), train: randomExamples(4))
        }
    }

    @Test func theGradientReduceHookRunsOncePerStepBeforeClipping() throws {
        let t = try quietSFT(smallConfig(steps: 3), model: tinyGPT2(), train: randomExamples(4))
        var calls = 0
        t.loop.reduceGradients = { params in
            calls += 1
            #expect(params.count == t.loop.optimizer.namedParameters.count)
        }
        try t.train()
        #expect(calls == 3)
        // What the hook does to the gradients is what the step sees: zeroing them trips the zero-gradient guard.
        let z = try quietSFT(smallConfig(steps: 3), model: tinyGPT2(), train: randomExamples(4))
        z.loop.reduceGradients = { params in for p in params { p.zeroGrad() } }
        #expect(throws: TrainingError.zeroGradient(step: 1)) { try z.train() }
    }

    @Test func aHalfWrittenCheckpointIsIgnoredOnResume() throws {
        let t = try quietSFT(smallConfig(steps: 4), model: tinyGPT2(), train: randomExamples(5))
        t.loop.afterStep = { [loop = t.loop] step, _ in if step == 2 { loop.requestStop() } }
        try t.train()
        // A crash while writing checkpoint-3 leaves only its temporary folder, without trainer_state.json.
        let fm = FileManager.default, run = t.loop.runDirectory
        let tmp = run.appendingPathComponent(".checkpoint-3.tmp")
        try fm.copyItem(at: run.appendingPathComponent("checkpoint-2"), to: tmp)
        try fm.removeItem(at: tmp.appendingPathComponent("trainer_state.json"))
        #expect(Checkpoints.list(in: run).map(\.step) == [2])
        let resumed = try SFTTrainer(resuming: run, config: SFTConfig(training: t.loop.config), model: tinyGPT2(), train: randomExamples(5))
        #expect(resumed.loop.state.step == 2)
        resumed.loop.progress = .silent
        try resumed.train()
        #expect(Checkpoints.list(in: run).map(\.step) == [2, 4])
    }

    @Test func ctrlCSavesACheckpointAndStops() throws {
        let t = try quietSFT(smallConfig(steps: 5), model: tinyGPT2(), train: randomExamples(6))
        // To the process, not this thread, which may block the signal; then give it time to arrive.
        t.loop.afterStep = { step, _ in if step == 2 { kill(getpid(), SIGINT); usleep(100_000) } }
        let outcome = try t.train()
        let cp = t.loop.runDirectory.appendingPathComponent("checkpoint-2")
        guard case .interrupted(let saved) = outcome else { Issue.record("not interrupted: \(outcome)"); return }
        #expect(saved.standardizedFileURL.path == cp.standardizedFileURL.path)
        #expect(FileManager.default.fileExists(atPath: cp.appendingPathComponent("model.safetensors").path))
        #expect(FileManager.default.fileExists(atPath: cp.appendingPathComponent("optimizer.safetensors").path))
        // No temporary folder is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: t.loop.runDirectory.path)
        #expect(!names.contains { $0.hasSuffix(".tmp") })
    }

    @Test func aNaNLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        var c = smallConfig(steps: 6)
        c.saveSteps = 2
        let objective = FaultyObjective(model: tinyGPT2())
        objective.nanAtCall = 4  // micro-batch size 2, no accumulation: step 4
        let loop = try TrainingLoop(config: c, objective: objective, train: lmData(randomExamples(6)))
        loop.progress = .silent
        let good = loop.runDirectory.appendingPathComponent("checkpoint-2")
        do {
            _ = try loop.run()
            Issue.record("a NaN loss did not stop the run")
        } catch TrainingError.nonFinite(let step, let what, let value, let last) {
            #expect(step == 4 && what == "the loss" && value.isNaN && last == good.path)
        }
        #expect(Checkpoints.list(in: loop.runDirectory).map(\.step) == [2])
        #expect(try CausalLM(contentsOf: good).parameterCount == tinyGPT2().parameterCount)
    }

    @Test func anExistingRunIsNeverOverwritten() throws {
        let c = smallConfig(steps: 1)
        _ = try quietSFT(c, model: tinyGPT2(), train: randomExamples(2))
        let path = URL(fileURLWithPath: c.outputDir).appendingPathComponent(c.runName).path
        #expect(throws: TrainingError.runExists(path: path)) { _ = try quietSFT(c, model: tinyGPT2(), train: randomExamples(2)) }
    }

    @Test func refusesToStartWithNothingTrainable() throws {
        let model = tinyGPT2()
        model.freeze()
        #expect(throws: TrainingError.nothingTrainable(total: model.parameterCount)) {
            _ = try quietSFT(smallConfig(steps: 1), model: model, train: randomExamples(2))
        }
    }

    @Test func refusesAnExampleOrBatchWithEveryLabelMasked() throws {
        var examples = randomExamples(3)
        examples[1].lossMask = examples[1].lossMask.map { _ in false }
        do {
            _ = try quietSFT(smallConfig(steps: 1), model: tinyGPT2(), train: examples)
            Issue.record("accepted an example with no trained token")
        } catch let e as TrainingError {
            #expect(e.description.contains("example 1"))
        }
        // The loop itself refuses a micro-batch with no trained label, naming its examples.
        let loop = try TrainingLoop(config: smallConfig(steps: 1), objective: CausalLMObjective(model: tinyGPT2()),
                                    train: lmData(randomExamples(2)))
        let masked = lmData(examples).batch([1])
        #expect(throws: TrainingError.allLabelsMasked(step: 0, batch: "examples 1")) { _ = try loop.accumulateGradients([masked]) }
    }

    @Test func stopsWhenTheFirstStepHasAZeroGradient() throws {
        let objective = FaultyObjective(model: tinyGPT2())
        objective.zeroGradient = true
        let loop = try TrainingLoop(config: smallConfig(steps: 3), objective: objective, train: lmData(randomExamples(4)))
        loop.progress = .silent
        #expect(throws: TrainingError.zeroGradient(step: 1)) { _ = try loop.run() }
    }

    @Test func stopsWhenTheFirstStepChangesNoWeight() throws {
        var c = smallConfig(steps: 3)
        c.learningRate = 0
        c.warmupSteps = 0
        let t = try quietSFT(c, model: tinyGPT2(), train: randomExamples(4))
        #expect(throws: TrainingError.weightsUnchanged(step: 1)) { try t.train() }
        // With warm-up the first step's rate is 0 by design: no false alarm.
        var w = smallConfig(steps: 3)
        w.warmupSteps = 2
        #expect(throws: Never.self) { try quietSFT(w, model: tinyGPT2(), train: randomExamples(4)).train() }
    }

    @Test func writesTRLMetricsPlotsReportAndSummary() throws {
        var c = smallConfig(steps: 4)
        c.loggingSteps = 2
        c.evalSteps = 2
        let t = try quietSFT(c, model: tinyGPT2(), train: randomExamples(6), eval: randomExamples(2, seed: 8))
        try t.train()
        let run = t.loop.runDirectory
        let lines = try Metrics.read(run.appendingPathComponent("metrics.jsonl"))
        #expect(lines.map { $0["step"] } == [2, 4])
        for key in ["loss", "grad_norm", "learning_rate", "entropy", "mean_token_accuracy", "num_tokens", "epoch", "step",
                    "eval_loss", "eval_mean_token_accuracy", "eval_entropy", "tokens_per_second"] {
            #expect(lines.allSatisfy { $0[key] != nil }, "\(key)")
        }
        #expect(lines[1]["num_tokens"]! > lines[0]["num_tokens"]!)
        #expect(lines[1]["epoch"] == 8.0 / 6.0)  // 8 rows of 6 seen
        let accuracy = lines[0]["mean_token_accuracy"]!
        #expect(accuracy >= 0 && accuracy <= 1)
        for plot in ["loss", "eval_loss", "learning_rate", "grad_norm"] {
            let svg = try String(contentsOf: run.appendingPathComponent("plots/\(plot).svg"), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("<polyline"), "\(plot)")
        }
        let loss = try String(contentsOf: run.appendingPathComponent("plots/loss.svg"), encoding: .utf8)
        #expect(loss.components(separatedBy: "<polyline").count == 3 && loss.contains(">eval_loss</text>"))  // train + eval
        let report = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("![loss](plots/loss.svg)"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json"))) as! [String: Any]
        #expect(summary["tokens_per_second"] as? Double ?? 0 > 0)
        #expect(summary["trainable_parameters"] as? Int == tinyGPT2().parameterCount)
        #expect(Checkpoints.list(in: run).map(\.step) == [4])
    }

    @Test func keepsAtMostSaveTotalLimitCheckpoints() throws {
        var c = smallConfig(steps: 7)
        c.saveSteps = 2
        c.saveTotalLimit = 2
        let t = try quietSFT(c, model: tinyGPT2(), train: randomExamples(4))
        try t.train()
        #expect(Checkpoints.list(in: t.loop.runDirectory).map(\.step) == [6, 7])
    }
}
