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
    }

    /// Number of cached tokens per row, S.
    public var length: Int { mask?.shape[1] ?? 0 }

    /// Appends k, v (B, Hkv, T, D) of layer `layer`; returns all keys and values (B, Hkv, S + T, D).
    public func append(layer: Int, keys k: Tensor, values v: Tensor) -> (keys: Tensor, values: Tensor) {
        let allK = keys[layer].map { Tensor.concat([$0, k], axis: 2) } ?? k
        let allV = values[layer].map { Tensor.concat([$0, v], axis: 2) } ?? v
        keys[layer] = allK
        values[layer] = allV
        return (allK, allV)
    }

    /// Drops every cached token (the cache can be reused for a new batch).
    public func reset() {
        keys = Array(repeating: nil, count: keys.count)
        values = Array(repeating: nil, count: values.count)
        mask = nil
        hasPadding = false
        nextPositions = []
    }
}
