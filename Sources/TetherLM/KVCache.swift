import Tether

/// Keys and values of every layer for the tokens seen so far, so that a forward pass over
/// T new tokens attends to all S earlier ones without recomputing them.
///
/// Pass the same cache to successive forward calls; each call appends its T tokens. The
/// cache also keeps the attention mask of every cached token (padding stays masked) and
/// each row's next position, so left-padded rows keep counting from their first real token.
public final class KVCache {
    /// Per layer: keys (B, Hkv, S, D), or nil before the first call.
    public private(set) var keys: [Tensor?]
    /// Per layer: values (B, Hkv, S, D), or nil before the first call.
    public private(set) var values: [Tensor?]
    /// 0/1 mask of the cached tokens: (B, S), or nil while empty.
    public internal(set) var mask: Tensor?
    /// Whether any cached token is padding (so attention needs the mask).
    public internal(set) var hasPadding = false
    /// Per row: the position the next real token gets. (B)
    public internal(set) var nextPositions: [Int32] = []

    /// An empty cache for a model with `layers` blocks.
    public init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
        buffers = Array(repeating: nil, count: layers)
    }

    /// Number of cached tokens per row, S.
    public var length: Int { mask?.shape[1] ?? 0 }

    /// Per layer: preallocated key and value buffers (B, Hkv, capacity, D) whose first S
    /// positions hold the cache, when filled without autograd.
    private var buffers: [(keys: Tensor, values: Tensor)?]

    /// Appends k, v (B, Hkv, T, D) of layer `layer`; returns all keys and values (B, Hkv, S + T, D).
    ///
    /// Without gradients (generation), tokens are written into buffers that grow by doubling
    /// and the result is a view of them, so a step copies only its new tokens. With
    /// gradients, the cache is a concatenation that keeps the autograd graph.
    public func append(layer: Int, keys k: Tensor, values v: Tensor) -> (keys: Tensor, values: Tensor) {
        let past = keys[layer]?.shape[2] ?? 0
        let total = past + k.shape[2]
        let tracked = GradMode.isEnabled && (k.requiresGrad || v.requiresGrad
            || keys[layer]?.requiresGrad == true || values[layer]?.requiresGrad == true)
        if tracked {
            buffers[layer] = nil
            keys[layer] = keys[layer].map { Tensor.concat([$0, k], axis: 2) } ?? k
            values[layer] = values[layer].map { Tensor.concat([$0, v], axis: 2) } ?? v
            return (keys[layer]!, values[layer]!)
        }
        noGrad {
            if buffers[layer] == nil || buffers[layer]!.keys.shape[2] < total {
                var shape = k.shape
                shape[2] = Swift.max(total, 2 * (buffers[layer]?.keys.shape[2] ?? 0))
                let grown = (keys: Tensor(uninitialized: shape), values: Tensor(uninitialized: shape))
                if let oldK = keys[layer], let oldV = values[layer] {
                    grown.keys.slice(axis: 2, 0..<past).assign(oldK)
                    grown.values.slice(axis: 2, 0..<past).assign(oldV)
                }
                buffers[layer] = grown
            }
            let buffer = buffers[layer]!
            buffer.keys.slice(axis: 2, past..<total).assign(k)
            buffer.values.slice(axis: 2, past..<total).assign(v)
            keys[layer] = buffer.keys.slice(axis: 2, 0..<total)
            values[layer] = buffer.values.slice(axis: 2, 0..<total)
        }
        return (keys[layer]!, values[layer]!)
    }

    /// Number of tokens layer `layer` can hold before its buffers grow (0 when concatenating).
    public func capacity(layer: Int) -> Int { buffers[layer]?.keys.shape[2] ?? 0 }

    /// Drops every cached token (the cache can be reused for a new batch).
    public func reset() {
        keys = Array(repeating: nil, count: keys.count)
        values = Array(repeating: nil, count: values.count)
        buffers = Array(repeating: nil, count: buffers.count)
        mask = nil
        hasPadding = false
        nextPositions = []
    }
}

extension KVCache {
    /// Keeps only batch rows `rows` (in that order), e.g. to stop computing finished samples.
    /// Without gradients the kept rows are copied into new buffers of the same capacity.
    public func keepRows(_ rows: [Int]) {
        guard let mask else { return }
        let b = mask.shape[0], s = mask.shape[1]
        precondition(!rows.isEmpty && rows.allSatisfy { $0 >= 0 && $0 < b },
                     "KVCache.keepRows: rows \(rows) must be a non-empty selection of 0..<\(b)")
        func pick(_ t: Tensor) -> Tensor {
            Tensor.concat(rows.map { t.slice(axis: 0, $0..<($0 + 1)) }, axis: 0)
        }
        for layer in 0..<keys.count {
            guard let k = keys[layer], let v = values[layer] else { continue }
            if let buffer = buffers[layer] {
                let grown = noGrad { (keys: pick(buffer.keys), values: pick(buffer.values)) }
                buffers[layer] = grown
                keys[layer] = grown.keys.slice(axis: 2, 0..<k.shape[2])
                values[layer] = grown.values.slice(axis: 2, 0..<v.shape[2])
            } else {
                keys[layer] = pick(k)
                values[layer] = pick(v)
            }
        }
        let old = mask.scalars()
        let kept = rows.flatMap { old[($0 * s)..<(($0 + 1) * s)] }
        self.mask = Tensor(kept, shape: [rows.count, s])
        hasPadding = kept.contains(0)
        if !nextPositions.isEmpty { nextPositions = rows.map { nextPositions[$0] } }
    }
}
