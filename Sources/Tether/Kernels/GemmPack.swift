import CTetherKernels

/// Packing for the GEMM driver: copies a block of a strided operand into the layout the
/// micro-kernel streams, slivers of `width` (MR or NR) lanes, zero-padded.
///
/// Both A and B pack the same way once their strides are named from the sliver's point of
/// view: a sliver lane `i` (a row of A, a column of B) and a depth index `p` (the k index).
/// Packed, element (lane i, depth p) of a sliver sits at `dst[p * width + i]`.
enum GemmPack {
    /// Packs lanes `0..<lanes` x depth `0..<depth` of `src` into slivers of `width` lanes.
    ///
    /// `src[i * laneStride + p * depthStride]` is element (i, p). The output holds
    /// ceil(lanes / width) slivers of `depth * width` floats each; lanes past `lanes` in the
    /// last sliver are zero.
    static func pack(_ src: UnsafePointer<Float>, laneStride: Int, depthStride: Int,
                     lanes: Int, depth: Int, width: Int, into dst: UnsafeMutablePointer<Float>) {
        if laneStride == 1 {
            packContiguousLanes(src, depthStride: depthStride, lanes: lanes, depth: depth, width: width, dst)
            return
        }
        var lane0 = 0
        var out = dst
        while lane0 < lanes {
            let n = min(width, lanes - lane0)
            let s = src + lane0 * laneStride
            if depthStride == 1 {
                packContiguousDepth(s, laneStride: laneStride, lanes: n, depth: depth, width: width, out)
            } else {
                for p in 0..<depth {
                    let d = out + p * width
                    for i in 0..<n { d[i] = s[i * laneStride + p * depthStride] }
                    for i in n..<width { d[i] = 0 }
                }
            }
            lane0 += width
            out += depth * width
        }
    }

    /// All slivers, when lanes are adjacent in memory (A column-major, B row-major): each
    /// depth step of a sliver is a short contiguous copy. Depth goes in groups of 4 across
    /// all slivers, so the source is read along its rows (4 streams the prefetcher follows)
    /// and each sliver is written 4 steps at a time (4 measured best of 1-64).
    private static func packContiguousLanes(_ src: UnsafePointer<Float>, depthStride: Int, lanes: Int,
                                            depth: Int, width: Int, _ dst: UnsafeMutablePointer<Float>) {
        let full = lanes / width, rest = lanes - full * width
        var p0 = 0
        while p0 < depth {
            let group = min(4, depth - p0)
            for s in 0..<full {
                let from = src + s * width + p0 * depthStride
                let to = dst + s * depth * width + p0 * width
                for p in 0..<group { copyLanes(width, from + p * depthStride, to + p * width) }
            }
            if rest > 0 {
                let from = src + full * width + p0 * depthStride
                let to = dst + full * depth * width + p0 * width
                for p in 0..<group {
                    let f = from + p * depthStride, t = to + p * width
                    for i in 0..<rest { t[i] = f[i] }
                    for i in rest..<width { t[i] = 0 }
                }
            }
            p0 += group
        }
    }

    /// One sliver whose lanes are rows contiguous along depth (A row-major, B transposed):
    /// a transpose, done in 4 x 4 blocks so reads and writes both stay vector-wide. A
    /// ragged end of 1-3 lanes is covered by one overlapping group of 4.
    @inline(__always)
    private static func packContiguousDepth(_ s: UnsafePointer<Float>, laneStride: Int, lanes: Int,
                                            depth: Int, width: Int, _ d: UnsafeMutablePointer<Float>) {
        if lanes >= 4 {
            var i = 0
            while i < lanes {
                let first = min(i, lanes - 4)
                transpose4(s + first * laneStride, laneStride: laneStride, depth: depth, width: width,
                           d + first)
                i += 4
            }
        } else {
            for i in 0..<lanes {
                let si = s + i * laneStride
                for p in 0..<depth { d[p * width + i] = si[p] }
            }
        }
        if lanes < width {
            for p in 0..<depth {
                let to = d + p * width
                for j in lanes..<width { to[j] = 0 }
            }
        }
    }

    /// d[p * width + i] = s[i * laneStride + p] for the 4 lanes i < 4 and every p < depth.
    @inline(__always)
    private static func transpose4(_ s0: UnsafePointer<Float>, laneStride: Int, depth: Int, width: Int,
                                   _ d: UnsafeMutablePointer<Float>) {
        let s1 = s0 + laneStride, s2 = s1 + laneStride, s3 = s2 + laneStride
        let ahead = 4 * laneStride
        var p = 0
        while p + 4 <= depth {
            if p & 15 == 0 {
                // The next 4 lanes, a line at a time: their rows come from memory, not L2.
                tk_prefetch(s0 + ahead + p); tk_prefetch(s1 + ahead + p)
                tk_prefetch(s2 + ahead + p); tk_prefetch(s3 + ahead + p)
            }
            let r0 = load4(s0 + p), r1 = load4(s1 + p), r2 = load4(s2 + p), r3 = load4(s3 + p)
            // Columns of the 4 x 4 block [r0; r1; r2; r3].
            let lo01 = SIMD4(r0[0], r1[0], r0[1], r1[1]), hi01 = SIMD4(r0[2], r1[2], r0[3], r1[3])
            let lo23 = SIMD4(r2[0], r3[0], r2[1], r3[1]), hi23 = SIMD4(r2[2], r3[2], r2[3], r3[3])
            let to = d + p * width
            store4(to, SIMD4(lowHalf: lo01.lowHalf, highHalf: lo23.lowHalf))
            store4(to + width, SIMD4(lowHalf: lo01.highHalf, highHalf: lo23.highHalf))
            store4(to + 2 * width, SIMD4(lowHalf: hi01.lowHalf, highHalf: hi23.lowHalf))
            store4(to + 3 * width, SIMD4(lowHalf: hi01.highHalf, highHalf: hi23.highHalf))
            p += 4
        }
        while p < depth {
            let to = d + p * width
            to[0] = s0[p]; to[1] = s1[p]; to[2] = s2[p]; to[3] = s3[p]
            p += 1
        }
    }

    /// t[0..<width] = f[0..<width], with whole-vector moves for the tile widths in use.
    @inline(__always)
    private static func copyLanes(_ width: Int, _ f: UnsafePointer<Float>, _ t: UnsafeMutablePointer<Float>) {
        switch width {
        case 32:
            store(t, load(f, SIMD16<Float>.self))
            store(t + 16, load(f + 16, SIMD16<Float>.self))
        case 16: store(t, load(f, SIMD16<Float>.self))
        case 8: store(t, load(f, SIMD8<Float>.self))
        case 12:
            store(t, load(f, SIMD8<Float>.self))
            store(t + 8, load(f + 8, SIMD4<Float>.self))
        default:
            // 4-wide copies; a ragged end is covered by one overlapping copy.
            var i = 0
            while i + 4 <= width {
                store4(t + i, load4(f + i))
                i += 4
            }
            if i < width {
                if width >= 4 { store4(t + width - 4, load4(f + width - 4)) }
                else { while i < width { t[i] = f[i]; i += 1 } }
            }
        }
    }

    @inline(__always)
    private static func load<V: SIMD>(_ p: UnsafePointer<Float>, _: V.Type) -> V where V.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    private static func store<V: SIMD>(_ p: UnsafeMutablePointer<Float>, _ v: V) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    @inline(__always)
    private static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    private static func store4(_ p: UnsafeMutablePointer<Float>, _ v: SIMD4<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
    }
}
