import Foundation
import Synchronization

/// A block of Float32 memory shared by a tensor and its views.
///
/// Buffers come from `BufferCache`, which hands freed buffers of the same size back out:
/// eager autograd allocates and frees the same shapes every step.
public final class Storage: @unchecked Sendable {
    /// The first element: 64-byte aligned when allocated here, only 4-byte aligned when borrowed (a memory-mapped file).
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int
    /// Memory this storage does not own (a memory-mapped file); kept alive with it.
    private let owner: AnyObject?
    private let versionCounter = Atomic<Int>(0)

    /// Counts in-place writes announced with ``markModified()``: caches derived from the
    /// contents (``WeightPackCache``) compare it to know they are stale.
    public var version: Int { versionCounter.load(ordering: .acquiring) }

    /// Announces that the contents were (or are about to be) overwritten in place. Every
    /// writer of existing tensors (optimizers, state dict loads, ``Tensor/assign(_:)``) calls it.
    public func markModified() { versionCounter.add(1, ordering: .releasing) }

    /// Uninitialised storage of `count` elements.
    public init(count: Int) {
        self.count = count
        self.base = BufferCache.shared.take(count)
        self.owner = nil
    }

    /// Storage filled with zeros.
    public convenience init(zeros count: Int) {
        self.init(count: count)
        base.initialize(repeating: 0, count: count)
    }

    /// Storage over memory owned by `owner` (not returned to the cache).
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.base = pointer
        self.count = count
        self.owner = owner
    }

    deinit {
        if owner == nil { BufferCache.shared.give(base, count) }
    }
}

/// A cache of freed Float32 buffers keyed by element count.
public final class BufferCache: @unchecked Sendable {
    public static let shared = BufferCache()

    // Addresses are kept as integers so the state is Sendable.
    private struct State {
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
    }
    private let state = Mutex(State())
    /// Most bytes kept for reuse; beyond it buffers go back to the system.
    public let limitBytes: Int = 2 << 30

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let reused: UInt? = state.withLock { s in
            guard let p = s.free[count]?.popLast() else { return nil }
            s.cachedBytes -= count * 4
            return p
        }
        if let p = reused { return UnsafeMutablePointer(bitPattern: p)! }
        var raw: UnsafeMutableRawPointer?
        let bytes = max(64, (count * 4 + 63) & ~63)
        precondition(posix_memalign(&raw, 64, bytes) == 0 && raw != nil,
                     "out of memory allocating \(count) floats")
        return raw!.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        let address = UInt(bitPattern: pointer)
        let kept = state.withLock { s -> Bool in
            guard s.cachedBytes + count * 4 <= limitBytes else { return false }
            s.free[count, default: []].append(address)
            s.cachedBytes += count * 4
            return true
        }
        if !kept { free(pointer) }
    }

    /// Returns every cached buffer to the system.
    public func trim() {
        let all = state.withLock { s -> [UInt] in
            let ps = s.free.values.flatMap { $0 }
            s.free = [:]
            s.cachedBytes = 0
            return ps
        }
        for p in all { free(UnsafeMutableRawPointer(bitPattern: p)) }
    }
}
