import Foundation
import Tether
import Testing
@testable import TetherNN

/// A fixed two-class task that no linear model can solve: the label is whether the two
/// coordinates of a point in [-1, 1]² have the same sign (XOR of the signs).
func xorTask(count: Int, seed: UInt64) -> (x: Tensor, y: IndexTensor) {
    var rng = RandomGenerator(seed: seed)
    var points: [Float] = []
    var labels: [Int32] = []
    while labels.count < count {
        let a = rng.nextUniform(low: -1, high: 1), b = rng.nextUniform(low: -1, high: 1)
        if abs(a) < 0.1 || abs(b) < 0.1 { continue }  // keep a margin around the axes
        points += [a, b]
        labels.append(a * b > 0 ? 1 : 0)
    }
    return (Tensor(points, shape: [count, 2]), IndexTensor(labels, shape: [count]))
}

func mlp(hidden: Int, seed: UInt64) -> Sequential {
    var rng = RandomGenerator(seed: seed)
    return Sequential([Linear(in: 2, out: hidden, rng: &rng), Lambda { $0.gelu() },
                       Linear(in: hidden, out: 2, rng: &rng)])
}

/// Runs optimizer steps `steps` (full batch) with a schedule and clipping; returns the losses.
@discardableResult
func train(_ model: Sequential, _ opt: any Optimizer, _ task: (x: Tensor, y: IndexTensor),
           steps: Range<Int>, schedule: LRSchedule) -> [Float] {
    steps.map { step in
        schedule.apply(to: opt, at: step)
        opt.zeroGrad()
        let loss = Tensor.crossEntropy(logits: model(task.x), targets: task.y)
        loss.backward()
        clipGradNorm(model, maxNorm: 1)
        opt.step()
        return loss.item
    }
}

@Suite struct TrainingTests {
    @Test func mlpLearnsXor() {
        let task = xorTask(count: 64, seed: 3)
        let model = mlp(hidden: 16, seed: 7)
        let opt = AdamW(model, learningRate: 0.05, weightDecay: 0.01)
        let losses = train(model, opt, task, steps: 0..<150,
                           schedule: .cosine(peak: 0.05, warmupSteps: 10, totalSteps: 150, minRatio: 0.1))
        #expect(losses[0] > 0.6)
        let final = noGrad { Tensor.crossEntropy(logits: model(task.x), targets: task.y).item }
        #expect(final < 0.05, "loss \(losses[0]) → \(final)")
        let logits = noGrad { model(task.x) }.scalars()
        let correct = (0..<64).filter { i in (logits[2 * i + 1] > logits[2 * i] ? 1 : 0) == task.y.values[i] }.count
        #expect(correct == 64)
    }

    @Test func sgdStateSurvivesAFileRoundTrip() throws {
        let task = xorTask(count: 16, seed: 5)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = mlp(hidden: 4, seed: 2)
        let opt = SGD(model, learningRate: 0.1, momentum: 0.9, nesterov: true)
        train(model, opt, task, steps: 0..<3, schedule: .constant(0.1))
        let url = dir.appendingPathComponent("sgd.safetensors")
        try opt.save(to: url)
        let other = SGD(model, learningRate: 0.5, momentum: 0.9, nesterov: true)
        try other.load(from: url)
        #expect(other.learningRate == 0.1)
        let a = opt.state(), b = other.state()
        #expect(a.scalars == b.scalars)
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted() && a.tensors.count == 4)
        for (key, t) in a.tensors { #expect(bits(t) == bits(b.tensors[key]!), "\(key)") }
        #expect(throws: OptimizerStateError.wrongOptimizer(expected: "AdamW", found: "SGD")) {
            try AdamW(model).load(from: url)
        }
    }

    @Test func sgdMomentumAlsoLearnsXor() {
        let task = xorTask(count: 64, seed: 3)
        let model = mlp(hidden: 16, seed: 7)
        let opt = SGD(model, learningRate: 0.5, momentum: 0.9)
        train(model, opt, task, steps: 0..<200, schedule: .constant(0.5))
        let final = noGrad { Tensor.crossEntropy(logits: model(task.x), targets: task.y).item }
        #expect(final < 0.05, "loss \(final)")
    }

    @Test func resumingFromSavedStateIsBitIdentical() throws {
        let task = xorTask(count: 32, seed: 4)
        let schedule = LRSchedule.cosine(peak: 0.05, warmupSteps: 2, totalSteps: 8)

        // Uninterrupted: 8 steps.
        let straight = mlp(hidden: 8, seed: 1)
        let straightOpt = AdamW(straight, learningRate: 0, weightDecay: 0.1)
        train(straight, straightOpt, task, steps: 0..<8, schedule: schedule)

        // Interrupted after 4 steps: save model and optimizer to files, resume in new objects.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = mlp(hidden: 8, seed: 1)
        let firstOpt = AdamW(first, learningRate: 0, weightDecay: 0.1)
        train(first, firstOpt, task, steps: 0..<4, schedule: schedule)
        try first.save(to: dir.appendingPathComponent("model.safetensors"))
        try firstOpt.save(to: dir.appendingPathComponent("optimizer.safetensors"))

        let resumed = mlp(hidden: 8, seed: 99)
        try resumed.load(from: dir.appendingPathComponent("model.safetensors"))
        let resumedOpt = AdamW(resumed, learningRate: 0, weightDecay: 0.1)
        try resumedOpt.load(from: dir.appendingPathComponent("optimizer.safetensors"))
        train(resumed, resumedOpt, task, steps: 4..<8, schedule: schedule)

        for ((name, a), (_, b)) in zip(straight.namedParameters(), resumed.namedParameters()) {
            #expect(bits(a) == bits(b), "\(name)")
        }
        // Without the optimizer state the run diverges, so the comparison above can fail.
        let fresh = mlp(hidden: 8, seed: 99)
        try fresh.load(from: dir.appendingPathComponent("model.safetensors"))
        train(fresh, AdamW(fresh, learningRate: 0, weightDecay: 0.1), task, steps: 4..<8, schedule: schedule)
        #expect(bits(fresh.parameters()[0]) != bits(straight.parameters()[0]))
    }
}
