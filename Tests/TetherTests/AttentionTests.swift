import Testing
import Tether
import TetherTestSupport

/// The fused attention op against a composite of primitive ops, and its gradients.
@Suite struct AttentionTests {
    /// Reference: softmax(q kᵀ · scale + mask) v from primitives, with kv heads repeated.
    func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, allowed: (Int, Int, Int) -> Bool) -> Tensor {
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (hkv, s) = (k.shape[1], k.shape[2])
        let rep = { (x: Tensor) in
            Tensor.concat((0..<hkv).map { i in x.slice(axis: 1, i..<(i + 1)).expand(to: [b, h / hkv, s, d]) }, axis: 1)
        }
        let scores = q.matmul(rep(k).transpose()) * (1 / Float(d).squareRoot())
        var blocked = [Float]()
        for bi in 0..<b { for _ in 0..<h { for ti in 0..<t { for j in 0..<s { blocked.append(allowed(bi, ti, j) ? 0 : 1) } } } }
        let masked = scores.maskedFill(Tensor(blocked, shape: [b, h, t, s]), -1e9)
        return masked.softmax(axis: -1).matmul(rep(v))
    }

    @Test func matchesCompositeWithGQAPaddingAndCache() {
        // 4 query heads over 2 kv heads; 3 queries after 2 cached keys; batch 1 has 1 padding key.
        let q = testTensor([2, 4, 3, 4], seed: 1), k = testTensor([2, 2, 5, 4], seed: 2), v = testTensor([2, 2, 5, 4], seed: 3)
        let keyMask = Tensor([1, 1, 1, 1, 1, 1, 1, 0, 1, 1], shape: [2, 5])
        let out = Tensor.attention(q: q, k: k, v: v, keyMask: keyMask)
        let ref = reference(q, k, v) { b, t, j in j <= 2 + t && keyMask.scalars()[b * 5 + j] != 0 }
        for (a, r) in zip(out.scalars(), ref.scalars()) { #expect(Swift.abs(a - r) < 1e-5) }
    }

    @Test func segmentsIsolatePackedSequences() {
        // Two packed sequences [0, 0, 0 | 1, 1] in one row: the second never sees the first.
        let q = testTensor([1, 2, 5, 3], seed: 4), k = testTensor([1, 2, 5, 3], seed: 5), v = testTensor([1, 2, 5, 3], seed: 6)
        let seg = IndexTensor([0, 0, 0, 1, 1], shape: [1, 5])
        let out = Tensor.attention(q: q, k: k, v: v, segments: seg)
        let alone = Tensor.attention(q: q.slice(axis: 2, 3..<5), k: k.slice(axis: 2, 3..<5), v: v.slice(axis: 2, 3..<5))
        let tail = out.slice(axis: 2, 3..<5).scalars()
        for (a, r) in zip(tail, alone.scalars()) { #expect(Swift.abs(a - r) < 1e-6) }
    }

    @Test func gradients() {
        let q = testTensor([2, 4, 3, 4], seed: 7), k = testTensor([2, 2, 5, 4], seed: 8), v = testTensor([2, 2, 5, 4], seed: 9)
        let keyMask = Tensor([1, 1, 1, 1, 1, 0, 1, 1, 1, 1], shape: [2, 5])
        let seg = IndexTensor([0, 0, 1, 1, 1, 0, 0, 0, 0, 0], shape: [2, 5])
        let r = gradCheck([q, k, v], eps: 1e-3) {
            Tensor.attention(q: $0[0], k: $0[1], v: $0[2], keyMask: keyMask, segments: seg)
        }
        #expect(r.passed, "\(r)")
        // Non-causal, and q/k/v as permuted views of (B, T, H, D) projections.
        let x = testTensor([2, 4, 3, 6], seed: 10)
        let r2 = gradCheck([x], eps: 1e-3) { t in
            let parts = t[0].split([2, 2, 2], axis: 3).map { $0.transpose(1, 2) }
            return Tensor.attention(q: parts[0], k: parts[1], v: parts[2], causal: false)
        }
        #expect(r2.passed, "\(r2)")
    }

    /// The fused-projection entry point gives the split path's output and gradient exactly, with padding and
    /// packed segments, and passes a gradient check of its own.
    @Test func fusedProjectionMatchesSplitHeads() {
        let (b, t, heads, d) = (2, 5, 2, 3)
        let x = testTensor([b, t, 3 * heads * d], seed: 11)
        let keyMask = Tensor([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], shape: [2, 5])
        let seg = IndexTensor([0, 0, 1, 1, 1, 0, 0, 0, 0, 0], shape: [2, 5])
        let weights = testTensor([b, t, heads * d], seed: 12)
        func split(_ x: Tensor) -> Tensor {
            let p = x.split([heads * d, heads * d, heads * d], axis: 2).map { $0.reshape([b, t, heads, d]).transpose(1, 2) }
            let out = Tensor.attention(q: p[0], k: p[1], v: p[2], keyMask: keyMask, segments: seg)
            return out.transpose(1, 2).reshape([b, t, heads * d])
        }
        let fused = { (x: Tensor) in Tensor.attention(fused: x, heads: heads, keyMask: keyMask, segments: seg) }
        #expect(fused(x).scalars() == split(x).scalars())
        var grads: [[Float]] = []
        for f in [fused, split] {
            let leaf = Tensor(x.scalars(), shape: x.shape)
            leaf.requiresGrad = true
            (f(leaf) * weights).sum().backward()
            grads.append(leaf.grad!.scalars())
        }
        #expect(grads[0] == grads[1])
        let r = gradCheck([x], eps: 1e-3) { fused($0[0]) }
        #expect(r.passed, "\(r)")
    }
}
