import Foundation
// TEMPORARY: packing throughput probe for tuning.
extension KernelBench {
    public static func packProbe() {
        for (ld, lanes, depth, width, laneStride1) in [(1024, 288, 384, 8, false), (1040, 288, 384, 8, false), (768, 768, 384, 32, false), (784, 768, 384, 32, false), (4096, 288, 384, 8, true), (4112, 288, 384, 8, true), (1024, 1024, 384, 32, true), (1040, 1024, 384, 32, true)] {
            let src = randomBuffer(ld * 4096), dst = randomBuffer(lanes * depth + 64 * depth)
            let t = bestTime(reps: 20) {
                if laneStride1 {
                    GemmPack.pack(src, laneStride: 1, depthStride: ld, lanes: lanes, depth: depth, width: width, into: dst)
                } else {
                    GemmPack.pack(src, laneStride: ld, depthStride: 1, lanes: lanes, depth: depth, width: width, into: dst)
                }
            }
            print("pack ld=\(ld) lanes=\(lanes) depth=\(depth) width=\(width) contiguousLanes=\(laneStride1): \(String(format: "%.2f", Double(lanes * depth) / t / 1e9)) Gelem/s")
        }
    }
}
