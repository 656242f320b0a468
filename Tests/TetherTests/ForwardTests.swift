import Foundation
import Testing
@testable import Tether
import TetherTestSupport

/// Forward values against direct computations, views, broadcasting and the graph's lifetime.
@Suite struct ForwardTests {
    func close(_ a: [Float], _ b: [Float], _ tol: Float = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) where Swift.abs(x - y) > tol * Swift.max(1, Swift.abs(y)) {
            Issue.record("\(x) != \(y)", sourceLocation: sourceLocation)
            return
        }
    }

    @Test func broadcastingValues() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([10, 20, 30], shape: [3])
        let c = Tensor([100, 200], shape: [2, 1])
        close((a + b).scalars(), [11, 22, 33, 14, 25, 36])
        close((a * c).scalars(), [100, 200, 300, 800, 1000, 1200])
        close((b - c).scalars(), [-90, -80, -70, -190, -180, -170])
        #expect((b - c).shape == [2, 3])
    }

    @Test func viewsShareStorageAndReadStrided() {
        let a = Tensor.arange(0, 24).reshape([2, 3, 4])
        let t = a.permute([2, 0, 1])
        #expect(t.shape == [4, 2, 3])
        #expect(t.storage === a.storage)
        #expect(!t.isContiguous)
        close(t.slice(axis: 0, 1..<2).scalars(), [1, 5, 9, 13, 17, 21])
        let s = a.slice(axis: 2, 1..<3)
        close(s.scalars(), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        close(Tensor([1, 2], shape: [2, 1]).expand(to: [2, 3]).scalars(), [1, 1, 1, 2, 2, 2])
        // Element-wise ops on non-contiguous inputs read through the strides.
        close((t + 1).slice(axis: 0, 0..<1).scalars(), [1, 5, 9, 13, 17, 21])
        close((a.transpose(0, 2) * a.transpose(0, 2)).sum().scalars(), [Float((0..<24).map { $0 * $0 }.reduce(0, +))])
    }

    @Test func matmulMatchesNaive() {
        let a = testTensor([5, 7], seed: 1), b = testTensor([7, 3], seed: 2)
        let (av, bv) = (a.scalars(), b.scalars())
        var ref = [Float](repeating: 0, count: 15)
        for i in 0..<5 { for j in 0..<3 { for p in 0..<7 { ref[i * 3 + j] += av[i * 7 + p] * bv[p * 3 + j] } } }
        close(a.matmul(b).scalars(), ref)
        close(a.transpose().contiguous().transpose().matmul(b).scalars(), ref)
    }

    @Test func softmaxAndLogSumExp() {
        let x = Tensor([1, 2, 3, 1000, 1000, -1000], shape: [2, 3])
        let s = x.softmax(axis: -1).scalars()
        let e = [exp(-2.0), exp(-1.0), 1.0].map { Float($0 / (exp(-2.0) + exp(-1.0) + 1)) }
        close(Array(s[0..<3]), e)
        close(Array(s[3..<6]), [0.5, 0.5, 0])  // max subtraction keeps huge logits finite
        close(x.logSumExp(axis: -1).scalars(), [Float(3 + log(exp(-2.0) + exp(-1.0) + 1)), 1000 + Float(log(2.0))])
        close(x.logSoftmax(axis: -1).exp().scalars(), s, 1e-5)
    }

    @Test func crossEntropyValues() {
        let logits = Tensor([2, 0, -1, 0, 0, 0, 5, 5, 5], shape: [3, 3])
        let targets = IndexTensor([0, 2, -100], shape: [3])
        let ce = Tensor.crossEntropy(logits: logits, targets: targets)
        let l0 = -(2 - log(exp(2.0) + 1 + exp(-1.0))), l1 = log(3.0)
        close(ce.scalars(), [Float((l0 + l1) / 2)])
        let lp = Tensor.tokenLogProbs(logits: logits, tokens: IndexTensor([0, 2, 1], shape: [3]))
        close(lp.scalars(), [Float(-l0), Float(-l1), Float(-log(3.0))])
        // Every target ignored: zero loss, not NaN.
        #expect(Tensor.crossEntropy(logits: logits, targets: IndexTensor([-100, -100, -100], shape: [3])).item == 0)
    }

    @Test func normsNormalise() {
        let x = testTensor([4, 16], seed: 3, low: -5, high: 9, requiresGrad: false)
        let y = x.layerNorm(weight: nil, bias: nil, eps: 0)
        for row in 0..<4 {
            let r = Array(y.scalars()[(row * 16)..<((row + 1) * 16)])
            let mean = r.reduce(0, +) / 16
            let variance = r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
            #expect(Swift.abs(mean) < 1e-5 && Swift.abs(variance - 1) < 1e-4)
        }
        let z = x.rmsNorm(weight: nil, eps: 0)
        let ms = z.slice(axis: 0, 0..<1).pow(2).mean().item
        #expect(Swift.abs(ms - 1) < 1e-5)
    }

    @Test func reductionsValues() {
        let x = Tensor([3, -1, 4, 1, -5, 9], shape: [2, 3])
        close(x.sum(axis: 0).scalars(), [4, -6, 13])
        close(x.mean(axis: 1, keepDim: true).scalars(), [2, 5.0 / 3])
        close(x.max(axis: 1).scalars(), [4, 9])
        close(x.min(axis: 0).scalars(), [1, -5, 4])
        #expect(x.sum().item == 11)
    }

    @Test func gradientsAccumulateAndNoGradRecordsNothing() {
        let w = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        (w * w).sum().backward()
        (w * 2).sum().backward()
        close(w.grad!.scalars(), [4, 6, 8])  // 2w + 2, added across two backward calls
        let y = noGrad { w * 3 }
        #expect(!y.requiresGrad && y.isLeaf)
        #expect(!w.detach().requiresGrad)
    }

    @Test func gradientsOfViewsReachTheBase() {
        let base = Tensor.arange(0, 6).reshape([2, 3])
        base.requiresGrad = true
        let leaf = Tensor(storage: base.storage, shape: [2, 3], requiresGrad: true)
        leaf.transpose().slice(axis: 0, 1..<2).sum().backward()
        close(leaf.grad!.scalars(), [0, 1, 0, 0, 1, 0])
    }

    @Test func graphIsFreedWithoutBackward() {
        // An output must not keep itself alive through its own backward closure.
        weak var weakOut: Tensor?
        weak var weakStorage: Storage?
        do {
            let w = testTensor([8, 8], seed: 4)
            let out = w.softmax().exp() / 3
            weakOut = out
            weakStorage = out.storage
        }
        #expect(weakOut == nil && weakStorage == nil)
    }

    @Test func gradCheckCatchesAWrongGradient() {
        // The checker itself must fail on a deliberately wrong backward (twice the truth).
        let x = testTensor([3], seed: 5)
        let r = gradCheck([x]) { t in
            let y = Tensor.binaryForward(t[0], t[0], .mul)
            return Tensor.record(y, op: "wrong", inputs: [t[0]]) { g, _ in [g * t[0] * 4] }
        }
        #expect(!r.passed)
    }

    static let pool = ThreadPool(threads: 3)

    @Test func threadPoolRunsEveryChunkOnce() {
        let pool = Self.pool
        for round in 0..<200 {
            let n = 1 + round % 37
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: n)
            hits.initialize(repeating: 0, count: n)
            pool.parallelFor(n) { i in hits[i] += 1 }
            #expect((0..<n).allSatisfy { hits[$0] == 1 })
            hits.deallocate()
        }
        // Nested calls run inline instead of deadlocking.
        var total = 0
        let lock = NSLock()
        pool.parallelFor(4) { _ in pool.parallelFor(3) { _ in lock.lock(); total += 1; lock.unlock() } }
        #expect(total == 12)
    }
}
