import Foundation
import Testing
import Tether
import TetherAlign
import TetherLM
import TetherNN

/// The SFT loss alone: fused (from hidden states) equals the full-logits reference, with TRL's accuracy and entropy.
@Suite struct SFTLossTests {
    @Test func fusedLossEqualsFullLogitsAndCountsAccuracyAndEntropy() {
        let model = tinyGPT2(seed: 4)
        let batch = Collator(padId: 0)(randomExamples(3, seed: 5).enumerated().map { SequenceRow($1, index: $0) })
        // Mask a few more labels so ignored positions are exercised inside rows too.
        var labels = batch.labels
        labels.values[1] = -100; labels.values[2] = -100
        let hidden = model.hidden(batch.ids, attentionMask: batch.attentionMask, positions: batch.positions, segments: batch.segments)
        let fused = sftLoss(model: model, hidden: hidden, labels: labels, chunkRows: 5)
        fused.sum.backward()
        let fusedGrads = model.trainableParameters.map { $0.grad!.scalars() }
        model.zeroGrad()

        let logits = model(batch.ids, attentionMask: batch.attentionMask, positions: batch.positions, segments: batch.segments)
        let reference = sftLoss(logits: logits, labels: labels)
        reference.sum.backward()
        let trained = labels.values.filter { $0 != -100 }.count
        #expect(fused.count == trained && reference.count == trained)
        #expect(abs(fused.sum.item - reference.sum.item) <= 1e-4 * abs(reference.sum.item))
        for (g, h) in zip(fusedGrads, model.trainableParameters.map { $0.grad!.scalars() }) {
            for (x, y) in zip(g, h) { #expect(abs(x - y) <= 1e-5) }
        }

        // Accuracy and entropy by hand from the logits, in Double.
        let v = logits.shape[2], values = logits.scalars()
        var correct = 0, entropy = 0.0
        for (i, target) in labels.values.enumerated() where target != -100 {
            let row = values[(i * v)..<((i + 1) * v)].map(Double.init)
            if row.firstIndex(of: row.max()!)! == Int(target) { correct += 1 }
            let z = row.map { exp($0) }.reduce(0, +)
            entropy -= row.map { exp($0) / z * ($0 - log(z)) }.reduce(0, +)
        }
        #expect(fused.correct == correct && reference.correct == correct)
        #expect(abs(fused.entropySum - entropy) <= 1e-4 * entropy)
        #expect(abs(reference.entropySum - entropy) <= 1e-4 * entropy)
        #expect(entropy > 0)
    }

    @Test func lossIsTheSumOverTrainedTokensOnly() {
        // Two classes, logits fixed: −log softmax is known exactly.
        let logits = Tensor([0, 0, 0, Float(log(3.0)), 5, 5], shape: [1, 3, 2])
        let stats = sftLoss(logits: logits, labels: IndexTensor([1, 1, -100], shape: [1, 3]))
        #expect(stats.count == 2)
        #expect(abs(Double(stats.sum.item) - (log(2.0) + log(4.0 / 3.0))) <= 1e-6)
        #expect(stats.correct == 1)  // position 1 predicts class 1; position 0 is a tie, argmax takes class 0
    }
}

/// Config files: TRL names, defaults for missing keys, and errors naming the field.
@Suite struct TrainingConfigTests {
    @Test func missingKeysTakeDefaultsAndTheConfigRoundTrips() throws {
        let json = #"{"learning_rate": 0.001, "gradient_accumulation_steps": 4, "lr_scheduler_type": "cosine", "max_grad_norm": null, "data_seed": 7}"#
        let c = try JSONDecoder().decode(TrainingConfig.self, from: Data(json.utf8))
        var expected = TrainingConfig()
        expected.learningRate = 0.001; expected.gradientAccumulationSteps = 4; expected.schedule = .cosine
        expected.maxGradNorm = nil; expected.dataSeed = 7
        #expect(c == expected)
        #expect(c.seed == 42 && c.dataSeed == 7)  // separate seeds
        #expect(try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(c)) == c)
        // SFT keys sit beside the training keys in one flat object, as in TRL.
        let sft = try JSONDecoder().decode(SFTConfig.self, from: Data(#"{"assistant_only_loss": true, "packing": true, "eval_size": {"count": {"_0": 3}}}"#.utf8))
        #expect(sft.assistantOnlyLoss && sft.completionOnlyLoss && sft.training.packing && sft.evalSize == .count(3))
        let flat = try JSONSerialization.jsonObject(with: JSONEncoder().encode(sft)) as! [String: Any]
        #expect(flat["packing"] as? Bool == true && flat["assistant_only_loss"] as? Bool == true && flat["training"] == nil)
        #expect(try JSONDecoder().decode(SFTConfig.self, from: JSONEncoder().encode(sft)) == sft)
    }

    @Test func aBadValueNamesItsField() {
        #expect(throws: TrainingError.badConfig(field: "gradient_accumulation_steps", "expected at least 1, got 0")) {
            _ = try JSONDecoder().decode(TrainingConfig.self, from: Data(#"{"gradient_accumulation_steps": 0}"#.utf8))
        }
    }

    @Test func stepsFromEpochs() {
        var c = TrainingConfig()
        c.microBatchSize = 4; c.gradientAccumulationSteps = 2; c.epochs = 3
        #expect(c.totalSteps(rows: 20) == 8)  // 60 rows / 8 per step, rounded up
        c.maxSteps = 5
        #expect(c.totalSteps(rows: 20) == 5)
    }
}

/// The metrics.jsonl format: sorted keys, integer counters, exact round trip.
@Suite struct MetricsFormatTests {
    @Test func linesReadBackExactly() throws {
        let record: MetricRecord = ["loss": 0.9629629629629629, "learning_rate": 1e-5, "step": 3, "num_tokens": 1234,
                                    "grad_norm": 2.7338035106658936, "epoch": 1.0 / 3.0]
        let line = Metrics.jsonLine(record)
        #expect(line.hasPrefix(#"{"epoch": 0.3333333333333333, "grad_norm": "#) && line.contains(#""num_tokens": 1234,"#)
                && line.contains(#""step": 3}"#))
        let url = tempDir().appendingPathComponent("metrics.jsonl")
        try Data((line + "\n" + Metrics.jsonLine(["loss": .nan, "step": 4]) + "\n").utf8).write(to: url)
        let back = try Metrics.read(url)
        #expect(back == [record, ["step": 4]])  // bit for bit; a NaN is written as null and read as absent
    }
}
