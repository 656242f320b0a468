import Foundation
import Tether

/// One token drawn from a row of logits.
public struct SampledToken: Sendable, Equatable {
    /// The chosen token id.
    public var token: Int32
    /// log p(token) under the model's own distribution: log-softmax of the raw logits,
    /// at temperature 1 and before any filter. This is the log-prob RL objectives need,
    /// and it equals teacher-forced ``logProbs(model:prompt:completion:)``.
    public var logprob: Float
    /// log q(token) under the distribution actually sampled from (after temperature, top-k,
    /// top-p and min-p, renormalised); 0 for greedy decoding.
    public var samplingLogprob: Float
}

/// Turns rows of logits into tokens: greedy, or temperature, top-k, top-p and min-p
/// applied in Hugging Face's order, then one draw from the row's own random stream.
public struct Sampler: Sendable {
    /// The filters and temperature in use.
    public let config: SamplingConfig

    /// A sampler for `config` (validated).
    public init(config: SamplingConfig) throws {
        try config.validate()
        self.config = config
    }

    /// Samples one token per row of `logits` (B, V); `rngs[b]` is row b's stream (one value
    /// drawn per sampled row, none when greedy). Model log-probs come from the fused
    /// ``Tensor/tokenLogProbs(logits:tokens:)``, the function teacher forcing uses.
    public func sample(logits: Tensor, rngs: inout [RandomGenerator]) -> [SampledToken] {
        precondition(logits.rank == 2 && logits.shape[0] == rngs.count,
                     "Sampler: logits \(logits.shape) must be (B, V) with B = \(rngs.count) generators")
        let (b, v) = (logits.shape[0], logits.shape[1])
        let x = logits.contiguousData()
        var out: [SampledToken] = []
        out.reserveCapacity(b)
        for row in 0..<b {
            let values = UnsafeBufferPointer(start: x.data + row * v, count: v)
            let (token, q) = pick(values, rng: &rngs[row])
            out.append(SampledToken(token: token, logprob: 0, samplingLogprob: q))
        }
        let logp = noGrad { Tensor.tokenLogProbs(logits: x, tokens: IndexTensor(out.map(\.token), shape: [b])) }
        for (row, value) in logp.scalars().enumerated() { out[row].logprob = value }  // (B)
        return out
    }

    /// The token for one row of raw logits (V) and its log-prob under the sampling distribution.
    public func pick(_ logits: UnsafeBufferPointer<Float>, rng: inout RandomGenerator) -> (token: Int32, samplingLogprob: Float) {
        let v = logits.count
        precondition(v > 0, "Sampler: empty row of logits")
        if config.isGreedy { return (Int32(Self.argmax(logits)), 0) }
        let invT = 1 / config.temperature
        // Candidates as indices; nil means the whole vocabulary in index order.
        var candidates: [Int32]? = nil
        var sorted = false                       // candidates are in (logit desc, index asc) order
        if let k = config.topK, k > 0, k < v {
            candidates = Self.topK(logits, k)
            sorted = true
        }
        var zMax = -Float.infinity               // the largest scaled logit among candidates
        if let candidates { zMax = logits[Int(candidates[0])] * invT }
        else { zMax = logits[Self.argmax(logits)] * invT }

        if config.topP < 1 {
            var list = candidates ?? (0..<Int32(v)).map { $0 }
            if !sorted {
                list.sort { a, b in
                    let (x, y) = (logits[Int(a)], logits[Int(b)])
                    return x > y || (x == y && a < b)
                }
            }
            var weights = list.map { Double(Foundation.exp(logits[Int($0)] * invT - zMax)) }
            let total = weights.reduce(0, +)
            let target = Double(config.topP) * total
            var cumulative = 0.0, keep = 0
            while keep < list.count {
                cumulative += weights[keep]
                keep += 1
                if cumulative >= target { break }
            }
            list.removeSubrange(keep...)
            weights.removeSubrange(keep...)
            candidates = list
        }
        if config.minP > 0 {
            // p_i < minP · p_max  ⇔  z_i − z_max < log(minP); the max itself always stays.
            let floor = zMax + Foundation.log(config.minP)
            let list = candidates ?? (0..<Int32(v)).map { $0 }
            candidates = list.filter { logits[Int($0)] * invT >= floor }
        }

        // Draw u ∈ [0, S) and walk the cumulative weights in candidate order.
        let u = Double(rng.nextFloat())
        func weight(_ i: Int) -> Double { Double(Foundation.exp(logits[i] * invT - zMax)) }
        var total = 0.0
        if let candidates { for i in candidates { total += weight(Int(i)) } }
        else { for i in 0..<v { total += weight(i) } }
        let threshold = u * total
        var cumulative = 0.0
        var chosen = -1, lastPositive = -1
        func visit(_ i: Int) -> Bool {
            let w = weight(i)
            if w > 0 { lastPositive = i }
            cumulative += w
            if cumulative > threshold && w > 0 { chosen = i; return true }
            return false
        }
        if let candidates { for i in candidates where visit(Int(i)) { break } }
        else { for i in 0..<v where visit(i) { break } }
        if chosen < 0 { chosen = lastPositive }   // rounding left u·S past the last weight
        let q = Float(Double(logits[chosen] * invT - zMax) - Foundation.log(total))
        return (Int32(chosen), q)
    }

    /// Index of the largest value (the lowest index among ties).
    static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<values.count where values[i] > values[best] { best = i }
        return best
    }

    /// The `k` largest entries, in (value desc, index asc) order, via a size-k min-heap.
    static func topK(_ values: UnsafeBufferPointer<Float>, _ k: Int) -> [Int32] {
        // "a ranks below b": smaller value, or equal value and larger index.
        @inline(__always) func below(_ a: Int32, _ b: Int32) -> Bool {
            let (x, y) = (values[Int(a)], values[Int(b)])
            return x < y || (x == y && a > b)
        }
        var heap: [Int32] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && below(heap[l], heap[m]) { m = l }
                if r < heap.count && below(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in 0..<Int32(values.count) {
            if heap.count < k {
                heap.append(i)
                var c = heap.count - 1
                while c > 0 {
                    let p = (c - 1) / 2
                    if below(heap[c], heap[p]) { heap.swapAt(c, p); c = p } else { break }
                }
            } else if below(heap[0], i) {
                heap[0] = i
                siftDown(0)
            }
        }
        return heap.sorted { below($1, $0) }
    }
}
