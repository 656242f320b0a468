import CTetherKernels
import Foundation
import Synchronization

/// A persistent pool of worker threads that runs data-parallel loops.
///
/// A job is split into chunks that threads claim one at a time from a shared counter, so a
/// worker that the OS has descheduled never stalls the job: the others take its chunks.
/// Idle workers spin briefly (ops come back to back in training) and then sleep, so a job
/// that shares the cores with another process does not burn them.
public final class ThreadPool: @unchecked Sendable {
    /// The pool every op uses: `TETHER_NUM_THREADS` threads, or one per core.
    public static let shared = ThreadPool(threads: ThreadPool.defaultThreadCount())

    /// Threads that work on a job, the caller included.
    public let threadCount: Int

    // The job slot. `state` packs generation (24 bits) | chunk count (20) | next chunk (20).
    private let state = Atomic<UInt64>(0)
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private var body: ((Int) -> Void)?
    private let submitLock = Mutex(())
    private let sleepMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let sleepCond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Spin iterations before an idle worker sleeps (about 20-50 microseconds).
    private let spinLimit = 4000
    private static let indexBits: UInt64 = 20
    private static let indexMask: UInt64 = (1 << indexBits) - 1
    /// Largest number of chunks in one job.
    public static let maxChunks = Int(indexMask)

    /// Creates a pool with `threads` threads in all (the caller plus `threads - 1` workers).
    /// Its workers never exit, so make pools once (e.g. in a `static let`), not per call.
    public init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(sleepMutex, nil)
        pthread_cond_init(sleepCond, nil)
        for _ in 1..<threadCount {
            // Workers keep the pool alive: a pool lives as long as the process.
            let thread = Thread { self.workerLoop() }
            thread.stackSize = 1 << 21
            thread.start()
        }
    }

    /// `TETHER_NUM_THREADS` if set to a positive number, else the number of active cores.
    public static func defaultThreadCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["TETHER_NUM_THREADS"],
           let n = Int(text), n > 0 {
            return n
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the pool's threads.
    /// Nested calls, and calls made while another thread's job runs, run serially.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        tk_enable_flush_denormals()
        if count <= 0 { return }
        if count == 1 || threadCount == 1 {
            for i in 0..<count { body(i) }
            return
        }
        precondition(count <= Self.maxChunks, "parallelFor: \(count) chunks exceed \(Self.maxChunks)")
        let ran: Void? = submitLock.withLockIfAvailable { _ in
            withoutActuallyEscaping(body) { escaping in
                run(count: count, escaping)
            }
        }
        if ran == nil {
            for i in 0..<count { body(i) }
        }
    }

    /// Splits `0..<total` into contiguous ranges of at least `grain` elements and runs
    /// them in parallel; runs inline when the work is too small to share.
    public func parallelRanges(_ total: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(max(1, total / max(1, grain)), threadCount * 4)
        if chunks <= 1 || threadCount == 1 {
            if total > 0 { body(0..<total) }
            return
        }
        parallelFor(chunks) { c in
            body((total * c / chunks)..<(total * (c + 1) / chunks))
        }
    }

    private func run(count: Int, _ job: @escaping (Int) -> Void) {
        body = job
        finished.store(0, ordering: .relaxed)
        let old = state.load(ordering: .relaxed)
        let generation = ((old >> (2 * Self.indexBits)) + 1) & 0xFF_FFFF
        let published = generation << (2 * Self.indexBits) | UInt64(count) << Self.indexBits
        state.store(published, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(sleepMutex)
            pthread_cond_broadcast(sleepCond)
            pthread_mutex_unlock(sleepMutex)
        }
        workOn(generation: generation)
        while finished.load(ordering: .acquiring) < count { tk_cpu_relax() }
        body = nil
    }

    /// Claims and runs chunks of job `generation` until none are left.
    private func workOn(generation: UInt64) {
        while true {
            let s = state.load(ordering: .acquiring)
            if s >> (2 * Self.indexBits) != generation { return }
            let count = (s >> Self.indexBits) & Self.indexMask
            let index = s & Self.indexMask
            if index >= count { return }
            if state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged {
                // Chunk `index` is ours and unfinished, so the job (and `body`) is still live.
                body!(Int(index))
                finished.add(1, ordering: .releasing)
            }
        }
    }

    private func generation(of s: UInt64) -> UInt64 { s >> (2 * Self.indexBits) }

    private func workerLoop() {
        tk_enable_flush_denormals()
        var seen = generation(of: state.load(ordering: .acquiring))
        while true {
            var spins = 0
            while generation(of: state.load(ordering: .acquiring)) == seen {
                spins += 1
                if spins < spinLimit {
                    tk_cpu_relax()
                    continue
                }
                pthread_mutex_lock(sleepMutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation(of: state.load(ordering: .sequentiallyConsistent)) == seen {
                    pthread_cond_wait(sleepCond, sleepMutex)
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(sleepMutex)
            }
            seen = generation(of: state.load(ordering: .acquiring))
            workOn(generation: seen)
        }
    }
}
