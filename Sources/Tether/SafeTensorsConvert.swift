import Foundation

/// Conversions from safetensors dtypes to Float32 (bit-exact for F16, BF16 and F8; nearest
/// Float32 for F64 and integers).
extension SafeTensorsFile {
    /// Converts `count` little-endian elements of `dtype` at `source` (any alignment) into
    /// `destination`, in parallel for large tensors.
    static func convert(_ dtype: SafeTensorsDType, from source: UnsafeRawPointer,
                        to destination: UnsafeMutablePointer<Float>, count: Int) {
        ThreadPool.shared.parallelRanges(count, grain: 1 << 16) { r in
            let p = source, o = destination
            switch dtype {
            case .f32:
                for i in r { o[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .f16:
                for i in r { o[i] = halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .bf16:
                for i in r { o[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
            case .f64:
                for i in r { o[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .f8e5m2:
                for i in r { o[i] = halfToFloat(UInt16(p.load(fromByteOffset: i, as: UInt8.self)) << 8) }
            case .f8e4m3:
                for i in r { o[i] = e4m3ToFloat(p.load(fromByteOffset: i, as: UInt8.self)) }
            case .bool:
                for i in r { o[i] = p.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
            case .u8:
                for i in r { o[i] = Float(p.load(fromByteOffset: i, as: UInt8.self)) }
            case .i8:
                for i in r { o[i] = Float(p.load(fromByteOffset: i, as: Int8.self)) }
            case .i16:
                for i in r { o[i] = Float(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
            case .u16:
                for i in r { o[i] = Float(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .i32:
                for i in r { o[i] = Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            case .u32:
                for i in r { o[i] = Float(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .i64:
                for i in r { o[i] = Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            case .u64:
                for i in r { o[i] = Float(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
            }
        }
    }

    /// IEEE binary16 bits to Float32, exactly (subnormals, infinities and NaN payloads kept).
    @inline(__always)
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24, which is a normal Float32 (no denormal input).
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// OCP float8 E4M3 ("fn": no infinities, S.1111.111 is NaN) bits to Float32.
    @inline(__always)
    static func e4m3ToFloat(_ b: UInt8) -> Float {
        let sign = UInt32(b & 0x80) << 24
        let exponent = UInt32(b >> 3) & 0xF
        let mantissa = UInt32(b & 0x7)
        if exponent == 15 && mantissa == 7 { return Float(bitPattern: sign | 0x7FC0_0000) }
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-9
            return Float(bitPattern: sign | magnitude.bitPattern)
        }
        return Float(bitPattern: sign | (exponent + 120) << 23 | mantissa << 20)
    }
}
