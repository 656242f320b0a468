import CTetherKernels
import Synchronization

/// Weights packed for the GEMM once and reused, for as long as a scope runs and their
/// storage is unchanged: decoding multiplies a few rows by every weight matrix each step,
/// and packing a weight costs as much as such a product.
///
/// `Tensor.linear` consults the cache of the current scope (``withCache(limitBytes:_:)``) for
/// products of more than ``Gemm/dotRows`` rows; fewer rows already read weights unpacked.
/// An entry is keyed by the weight's storage, offset, shape and strides and remembers the
/// storage's ``Storage/version``; a weight written since (an optimizer step, a state dict
/// load, ``Tensor/assign(_:)``: everything that calls ``Storage/markModified()``) is packed
/// again. A write through a raw `data` pointer that does not call `markModified()` is not
/// seen, which is why caching is scoped rather than global: generation, which only reads the
/// model, opens a scope for its own duration.
///
/// Products with a packed weight are bit for bit those without. The cache may be shared by
/// tasks (child tasks inherit the scope): its table is guarded by a lock, packing happens
/// outside it.
public final class WeightPackCache: Sendable {
    /// The cache of the innermost enclosing scope, if any.
    @TaskLocal public static var current: WeightPackCache?

    /// Most bytes of packed weights kept; past it, further weights are not cached.
    public let limitBytes: Int

    private struct Key: Hashable {
        var storage: ObjectIdentifier
        var offset: Int
        var shape: [Int]
        var strides: [Int]
        var isa: tk_isa.RawValue
    }

    private struct Entry {
        /// Keeps the storage alive, so its identifier is not reused while the entry exists.
        var storage: Storage
        var version: Int
        var packed: PackedGemmB
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var packs = 0
    }

    private let state = Mutex(State())

    /// An empty cache holding at most `limitBytes` of packed weights.
    public init(limitBytes: Int = 1 << 30) {
        self.limitBytes = limitBytes
    }

    /// Runs `body` with a fresh cache as ``current``; the packed weights are freed after.
    public static func withCache<R>(limitBytes: Int = 1 << 30, _ body: () throws -> R) rethrows -> R {
        try $current.withValue(WeightPackCache(limitBytes: limitBytes), operation: body)
    }

    /// Number of times a weight was packed (a miss or a stale entry), for tests.
    public var packCount: Int { state.withLock { $0.packs } }

    /// Bytes of packed weights held.
    public var byteCount: Int { state.withLock { $0.bytes } }

    /// `b` (k, n), a 2-D view of a weight, packed for the active kernels or those of `isa`:
    /// from the cache if its storage is unchanged, else packed now (and kept while under
    /// the byte limit).
    public func packed(_ b: Tensor, isa: tk_isa? = nil) -> PackedGemmB {
        precondition(b.rank == 2, "WeightPackCache: B must be 2-D, got \(b.shape)")
        let activeISA = isa ?? tk_active_isa()
        let key = Key(storage: ObjectIdentifier(b.storage), offset: b.offset, shape: b.shape,
                      strides: b.strides, isa: activeISA.rawValue)
        let version = b.storage.version
        if let hit = state.withLock({ s -> PackedGemmB? in
            guard let e = s.entries[key], e.version == version else { return nil }
            return e.packed
        }) { return hit }
        let packed = PackedGemmB(k: b.shape[0], n: b.shape[1], b: b.data, rowStrideB: b.strides[0],
                                 colStrideB: b.strides[1], isa: isa)
        state.withLock { s in
            s.packs += 1
            if let old = s.entries.removeValue(forKey: key) { s.bytes -= old.packed.byteCount }
            if s.bytes + packed.byteCount <= limitBytes {
                s.entries[key] = Entry(storage: b.storage, version: version, packed: packed)
                s.bytes += packed.byteCount
            }
        }
        return packed
    }
}
