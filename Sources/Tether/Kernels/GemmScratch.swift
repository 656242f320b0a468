import Foundation
import Synchronization

/// Packing buffers for one GEMM task: a packed block of A and a packed panel of B.
///
/// A task borrows a pair for its duration and gives it back, so at most one pair per
/// thread is live and, in steady state, no GEMM call allocates.
final class GemmScratch: @unchecked Sendable {
    private(set) var a: UnsafeMutablePointer<Float>
    private(set) var b: UnsafeMutablePointer<Float>
    private(set) var aCapacity: Int
    private(set) var bCapacity: Int

    private init() {
        aCapacity = 0
        bCapacity = 0
        a = GemmScratch.allocate(0)
        b = GemmScratch.allocate(0)
    }

    deinit {
        free(a)
        free(b)
    }

    /// Grows the buffers to at least `aCount` and `bCount` floats (contents are dropped).
    func reserve(a aCount: Int, b bCount: Int) {
        if aCount > aCapacity {
            free(a)
            a = GemmScratch.allocate(aCount)
            aCapacity = aCount
        }
        if bCount > bCapacity {
            free(b)
            b = GemmScratch.allocate(bCount)
            bCapacity = bCount
        }
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let bytes = max(4096, (count * 4 + 4095) & ~4095)
        precondition(posix_memalign(&raw, 4096, bytes) == 0 && raw != nil,
                     "out of memory allocating \(count) floats of GEMM scratch")
        return raw!.bindMemory(to: Float.self, capacity: bytes / 4)
    }

    private static let spares = Mutex<[GemmScratch]>([])

    /// Runs `body` with a scratch pair of at least the given sizes.
    static func with<R>(a aCount: Int, b bCount: Int, _ body: (GemmScratch) -> R) -> R {
        let scratch = spares.withLock { $0.popLast() } ?? GemmScratch()
        scratch.reserve(a: aCount, b: bCount)
        defer { spares.withLock { $0.append(scratch) } }
        return body(scratch)
    }
}
