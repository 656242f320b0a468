import CTetherKernels

/// Single-precision GEMM over strided operands: C = A·B, or C += A·B.
///
/// A's element (i, p) is at `a[i * rowStrideA + p * colStrideA]` and B's (p, j) at
/// `b[p * rowStrideB + j * colStrideB]`, so every transpose is just a choice of strides.
/// C is row-major with row stride `ldc`.
public enum Gemm {
    // PLACEHOLDER: naive loops until the packed, blocked, threaded driver lands.
    public static func sgemm(m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, rowStrideA: Int, colStrideA: Int,
                             b: UnsafePointer<Float>, rowStrideB: Int, colStrideB: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool, parallel: Bool = true) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k { s += a[i * rowStrideA + p * colStrideA] * b[p * rowStrideB + j * colStrideB] }
                c[i * ldc + j] = s
            }
        }
    }
}
