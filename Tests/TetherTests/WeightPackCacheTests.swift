import CTetherKernels
import Testing
@testable import Tether

/// `Tensor.linear` inside a ``WeightPackCache`` scope: same floats as without, one packing
/// per weight while it is unchanged, a new one after every announced write.
@Suite struct WeightPackCacheTests {
    let weight = Tensor(pseudoRandom(96 * 40, seed: 7), shape: [96, 40])   // (out, in)
    let bias = Tensor(pseudoRandom(96, seed: 8), shape: [96])

    func input(rows: Int, seed: UInt32 = 9) -> Tensor {
        Tensor(pseudoRandom(rows * 40, seed: seed), shape: [rows, 40])     // (rows, in)
    }

    @Test func sameFloatsAndOnePackPerWeight() {
        for rows in [3, 8, 64] {
            let x = input(rows: rows)
            let plain = Tensor.linear(x, weight: weight, bias: bias).scalars()
            let cache = WeightPackCache()
            WeightPackCache.$current.withValue(cache) {
                for _ in 0..<3 {
                    #expect(Tensor.linear(x, weight: weight, bias: bias).scalars() == plain, "rows \(rows)")
                    #expect(Tensor.linear(x, weight: weight, bias: nil).scalars().count == rows * 96)
                }
            }
            // Few rows read the weight unpacked (dot products) where the ISA has them.
            let dot = Gemm.usesDotPath(m: rows, k: 40, colStrideA: 1, rowStrideB: 1)
            #expect(cache.packCount == (dot ? 0 : 1), "rows \(rows)")
        }
    }

    @Test func announcedWritesRepack() {
        let w = Tensor(weight.scalars(), shape: weight.shape)
        let x = input(rows: 8)
        WeightPackCache.withCache {
            let cache = WeightPackCache.current!
            _ = Tensor.linear(x, weight: w, bias: nil)
            // assign announces its write.
            w.assign(Tensor(pseudoRandom(96 * 40, seed: 11), shape: [96, 40]))
            let afterAssign = Tensor.linear(x, weight: w, bias: nil).scalars()
            #expect(cache.packCount == 2)
            // A raw write followed by markModified().
            w.data[5] += 1
            w.storage.markModified()
            let afterRaw = Tensor.linear(x, weight: w, bias: nil).scalars()
            #expect(cache.packCount == 3)
            let reference = WeightPackCache.$current.withValue(nil) { Tensor.linear(x, weight: w, bias: nil).scalars() }
            #expect(afterRaw == reference)
            #expect(afterAssign != afterRaw)
        }
    }

    @Test func scopeEndsAndLimit() {
        let x = input(rows: 16)
        WeightPackCache.withCache(limitBytes: 0) {
            let cache = WeightPackCache.current!
            let plain = WeightPackCache.$current.withValue(nil) { Tensor.linear(x, weight: weight, bias: bias).scalars() }
            #expect(Tensor.linear(x, weight: weight, bias: bias).scalars() == plain)
            #expect(Tensor.linear(x, weight: weight, bias: bias).scalars() == plain)
            #expect(cache.packCount == 2 && cache.byteCount == 0)   // over the limit: packed, not kept
        }
        #expect(WeightPackCache.current == nil)
    }

    /// One cache shared by concurrent tasks (child tasks inherit the scope).
    @Test func sharedByTasks() async {
        let x = input(rows: 8), w = weight
        let plain = Tensor.linear(x, weight: w, bias: nil).scalars()
        let cache = WeightPackCache()
        let results = await WeightPackCache.$current.withValue(cache) {
            await withTaskGroup(of: [Float].self) { group in
                for _ in 0..<4 { group.addTask { noGrad { Tensor.linear(x, weight: w, bias: nil).scalars() } } }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(results.count == 4 && results.allSatisfy { $0 == plain })
        #expect(cache.packCount >= 1 && cache.packCount <= 4)
    }
}
