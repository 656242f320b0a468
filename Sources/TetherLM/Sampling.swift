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
    ///
    /// The tempered softmax (B, V) is one vectorised op; filtering and the draw then run
    /// row by row in parallel (each row has its own stream, so the thread count never
    /// changes a result).
    public func sample(logits: Tensor, rngs: inout [RandomGenerator]) -> [SampledToken] {
        precondition(logits.rank == 2 && logits.shape[0] == rngs.count,
                     "Sampler: logits \(logits.shape) must be (B, V) with B = \(rngs.count) generators")
        let (b, v) = (logits.shape[0], logits.shape[1])
        precondition(v > 0, "Sampler: logits \(logits.shape) have an empty vocabulary")
        let x = logits.contiguousData()
        var tokens = [Int32](repeating: 0, count: b)
        var q = [Float](repeating: 0, count: b)
        if config.isGreedy {
            for row in 0..<b { tokens[row] = Int32(Self.argmax(UnsafeBufferPointer(start: x.data + row * v, count: v))) }
        } else {
            let probs = noGrad { (x * (1 / config.temperature)).softmax(axis: -1) }.contiguousData()  // (B, V)
            let (px, pp) = (x.data, probs.data)
            tokens.withUnsafeMutableBufferPointer { pt in
                q.withUnsafeMutableBufferPointer { pq in
                    rngs.withUnsafeMutableBufferPointer { pr in
                        ThreadPool.shared.parallelRanges(b, grain: 1) { range in
                            for row in range {
                                (pt[row], pq[row]) = choose(logits: px + row * v, probs: pp + row * v, count: v,
                                                            rng: &pr[row])
                            }
                        }
                    }
                }
            }
        }
        let logp = noGrad { Tensor.tokenLogProbs(logits: x, tokens: IndexTensor(tokens, shape: [b])) }.scalars()  // (B)
        return (0..<b).map { SampledToken(token: tokens[$0], logprob: logp[$0], samplingLogprob: q[$0]) }
    }

    /// The token for one row of raw logits (V) and its log-prob under the sampling
    /// distribution (the same computation as one row of ``sample(logits:rngs:)``).
    public func pick(_ logits: UnsafeBufferPointer<Float>, rng: inout RandomGenerator) -> (token: Int32, samplingLogprob: Float) {
        var rngs = [rng]
        let s = sample(logits: Tensor(Array(logits), shape: [1, logits.count]), rngs: &rngs)[0]
        rng = rngs[0]
        return (s.token, s.samplingLogprob)
    }

    /// Filters one row and draws from it: `logits` are raw (V), `probs` their tempered softmax.
    private func choose(logits: UnsafePointer<Float>, probs: UnsafePointer<Float>, count v: Int,
                        rng: inout RandomGenerator) -> (Int32, Float) {
        // Candidates as indices, in (logit desc, index asc) order; nil means the whole
        // vocabulary in index order.
        var candidates: [Int32]? = nil
        if let k = config.topK, k > 0, k < v {
            candidates = Self.topK(UnsafeBufferPointer(start: logits, count: v), k)
        }
        if config.topP < 1 {
            var list: [Int32]
            var total = 0.0
            if let candidates {
                list = candidates
                total = list.reduce(0.0) { $0 + Double(probs[Int($1)]) }
            } else {
                list = Self.sortedByLogit(nucleusPrefix(probs, count: v, total: &total), logits)
            }
            let target = Double(config.topP) * total
            var cumulative = 0.0, keep = 0
            while keep < list.count {
                cumulative += Double(probs[Int(list[keep])])
                keep += 1
                if cumulative >= target { break }
            }
            list.removeSubrange(keep...)
            candidates = list
        }
        // Min-p: p_i < minP · p_max is dropped (weight 0); the max itself always stays.
        var floor: Float = 0
        if config.minP > 0 {
            var pMax: Float = 0
            if let candidates { pMax = probs[Int(candidates[0])] } else { for i in 0..<v { pMax = Swift.max(pMax, probs[i]) } }
            floor = config.minP * pMax
        }
        @inline(__always) func weight(_ i: Int) -> Double { probs[i] >= floor ? Double(probs[i]) : 0 }

        // Draw u ∈ [0, S) and walk the cumulative weights in candidate order.
        var total = 0.0
        if let candidates { for i in candidates { total += weight(Int(i)) } } else { for i in 0..<v { total += weight(i) } }
        let threshold = Double(rng.nextFloat()) * total
        var cumulative = 0.0
        var chosen = -1, lastPositive = -1
        @inline(__always) func visit(_ i: Int) -> Bool {
            let w = weight(i)
            guard w > 0 else { return false }
            lastPositive = i
            cumulative += w
            if cumulative > threshold { chosen = i; return true }
            return false
        }
        if let candidates { for i in candidates where visit(Int(i)) { break } } else { for i in 0..<v where visit(i) { break } }
        if chosen < 0 { chosen = lastPositive }   // rounding left u·S past the last weight
        return (Int32(chosen), Float(Foundation.log(weight(chosen)) - Foundation.log(total)))
    }

    /// The tokens with p ≥ τ for the largest τ in {p_max/4, p_max/64, …, 0} whose mass
    /// reaches `topP` of the total (set in `total`). Such a set is a prefix of the (logit
    /// desc, index asc) order, as p is monotone in the logit, and holds the whole nucleus:
    /// sorting it instead of the vocabulary gives the same nucleus, much faster. (The margin
    /// covers summing in another order.)
    private func nucleusPrefix(_ probs: UnsafePointer<Float>, count v: Int, total: inout Double) -> [Int32] {
        var pMax: Float = 0
        total = 0
        for i in 0..<v {
            pMax = Swift.max(pMax, probs[i])
            total += Double(probs[i])
        }
        let target = Double(config.topP) * total
        for factor: Float in [0x1p-2, 0x1p-6, 0x1p-12, 0x1p-20] {
            let tau = pMax * factor
            var mass = 0.0
            for i in 0..<v where probs[i] >= tau { mass += Double(probs[i]) }
            if mass >= target * (1 + 1e-9) { return (0..<Int32(v)).filter { probs[Int($0)] >= tau } }
        }
        return Array(0..<Int32(v))
    }

    /// `ids` in (logit desc, index asc) order, sorted as packed UInt64 keys (no comparator calls).
    static func sortedByLogit(_ ids: [Int32], _ logits: UnsafePointer<Float>) -> [Int32] {
        var keys = ids.map { i -> UInt64 in
            let bits = (logits[Int(i)] + 0).bitPattern           // + 0 turns -0 into +0
            let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000  // ascending with the float
            return UInt64(~ordered) << 32 | UInt64(UInt32(bitPattern: i))
        }
        keys.sort()
        return keys.map { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) }
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
