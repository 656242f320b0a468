import Foundation
import Tether
import Testing
@testable import TetherNN

@Suite struct ClipGradTests {
    @Test func clipsToMaxNormAndReturnsThePreClipNorm() {
        let a = Tensor([0, 0], shape: [2], requiresGrad: true)
        let b = Tensor([0], shape: [1], requiresGrad: true)
        let c = Tensor([0], shape: [1], requiresGrad: true)  // no gradient: counts as zero
        a.grad = Tensor([3, 4], shape: [2])
        b.grad = Tensor([12], shape: [1])
        let norm = clipGradNorm([a, b, c], maxNorm: 6.5)
        #expect(norm == 13)
        let scale = 6.5 / (13 + 1e-6)
        #expect(close(a.grad!.scalars(), [3 * scale, 4 * scale], rtol: 1e-6))
        #expect(close(b.grad!.scalars(), [12 * scale], rtol: 1e-6))
        #expect(close(gradNorm([a, b, c]), 6.5, rtol: 1e-6))
        #expect(c.grad == nil)
    }

    @Test func leavesSmallGradientsAlone() {
        let a = Tensor([0, 0], shape: [2], requiresGrad: true)
        a.grad = Tensor([0.3, 0.4], shape: [2])
        #expect(close(clipGradNorm([a], maxNorm: 1), 0.5))
        #expect(a.grad!.scalars() == [0.3, 0.4])
    }

    @Test func largeGradientNormMatchesDoubleReference() {
        var rng = RandomGenerator(seed: 11)
        let p = Tensor.zeros([100_001], requiresGrad: true)
        p.grad = Tensor.normal([100_001], rng: &rng)
        let ref = p.grad!.scalars().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let norm = clipGradNorm([p], maxNorm: 1)
        #expect(close(norm, ref, rtol: 1e-6))
        #expect(close(gradNorm([p]), 1, rtol: 1e-5))
    }

    @Test func nonFiniteNormLeavesGradientsUntouched() {
        let a = Tensor([0, 0], shape: [2], requiresGrad: true)
        a.grad = Tensor([.nan, 1], shape: [2])
        #expect(clipGradNorm([a], maxNorm: 1).isNaN)
        #expect(a.grad!.scalars()[1] == 1)
    }
}

@Suite struct ScheduleTests {
    @Test func cosineWithWarmup() {
        let s = LRSchedule.cosine(peak: 1e-3, warmupSteps: 10, totalSteps: 110, minRatio: 0.1)
        #expect(s.learningRate(at: 0) == 0)
        #expect(close(s.learningRate(at: 5), 5e-4))
        #expect(close(s.learningRate(at: 10), 1e-3))
        #expect(close(s.learningRate(at: 35), 1e-3 * (0.1 + 0.9 * 0.5 * (1 + cos(Double.pi / 4)))))
        #expect(close(s.learningRate(at: 60), 1e-3 * (0.1 + 0.9 * 0.5)))
        #expect(close(s.learningRate(at: 110), 1e-4))
        #expect(close(s.learningRate(at: 500), 1e-4))
        let toZero = LRSchedule.cosine(peak: 2, warmupSteps: 0, totalSteps: 100)
        #expect(toZero.learningRate(at: 0) == 2)
        #expect(close(toZero.learningRate(at: 100), 0, atol: 1e-7))
    }

    @Test func linearWithWarmup() {
        let s = LRSchedule.linear(peak: 1e-3, warmupSteps: 10, totalSteps: 110)
        #expect(s.learningRate(at: 0) == 0)
        #expect(close(s.learningRate(at: 1), 1e-4))
        #expect(close(s.learningRate(at: 10), 1e-3))
        #expect(close(s.learningRate(at: 60), 5e-4))
        #expect(s.learningRate(at: 110) == 0)
        #expect(s.learningRate(at: 120) == 0)
        let floor = LRSchedule.linear(peak: 1, warmupSteps: 0, totalSteps: 10, minRatio: 0.2)
        #expect(close(floor.learningRate(at: 5), 0.6))
    }

    @Test func constantSchedules() {
        #expect(LRSchedule.constant(3e-4).learningRate(at: 1000) == 3e-4)
        let w = LRSchedule.constantWithWarmup(peak: 1, warmupSteps: 4)
        #expect([0, 1, 2, 4, 100].map(w.learningRate(at:)) == [0, 0.25, 0.5, 1, 1])
    }

    @Test func appliesToAnOptimizerAndRoundTripsThroughJSON() throws {
        let s = LRSchedule.cosine(peak: 1e-3, warmupSteps: 10, totalSteps: 110, minRatio: 0.1)
        let opt = SGD([("w", Tensor.zeros([1], requiresGrad: true))], learningRate: 1)
        s.apply(to: opt, at: 5)
        #expect(opt.learningRate == s.learningRate(at: 5))
        let decoded = try JSONDecoder().decode(LRSchedule.self, from: JSONEncoder().encode(s))
        #expect(decoded == s)
    }
}
