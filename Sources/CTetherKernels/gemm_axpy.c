// Few-row GEMM over row-major B: C[i, :] (+)= Σ_p A[i, p] · B[p, :], m ≤ 4.
// Attention while decoding multiplies each query's probabilities (1 x S) by the cached
// values (S x D, rows contiguous); packing the values for the tiled GEMM, and running its
// 8-row tile for one row, cost far more than the product. Here each row of B is read once,
// straight from memory, and used for all m rows: a block of columns of C stays in
// registers while p runs over the depth.
#include "kernels_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

// One block of up to 64 columns for M rows (M a constant after inlining, so the 4 x 4
// accumulators stay in registers). mask[v] selects the valid lanes of vector v.
__attribute__((target("avx512f,fma"), always_inline))
static inline void axpy_block_avx512(const int M, int64_t k, const float *a, int64_t lda, const float *b,
                                     int64_t ldb, float *c, int64_t ldc, int accumulate,
                                     const __mmask16 mask[4]) {
    __m512 acc[4][4];
    for (int i = 0; i < M; i++)
        for (int v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb;
        __m512 bv[4];
        for (int v = 0; v < 4; v++) bv[v] = _mm512_maskz_loadu_ps(mask[v], bp + 16 * v);
        for (int i = 0; i < M; i++) {
            const __m512 av = _mm512_set1_ps(a[i * lda + p]);
            for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < M; i++) {
        for (int v = 0; v < 4; v++) {
            if (!mask[v]) continue;
            float *cp = c + i * ldc + 16 * v;
            __m512 r = acc[i][v];
            if (accumulate) r = _mm512_add_ps(_mm512_maskz_loadu_ps(mask[v], cp), r);
            _mm512_mask_storeu_ps(cp, mask[v], r);
        }
    }
}

__attribute__((target("avx512f,fma")))
void tk_gemm_axpy_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                         const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    for (int64_t j0 = 0; j0 < n; j0 += 64) {
        __mmask16 mask[4];
        for (int v = 0; v < 4; v++) {
            const int64_t left = n - j0 - 16 * v;
            mask[v] = left >= 16 ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
        }
        switch (m) {
        case 1: axpy_block_avx512(1, k, a, lda, b + j0, ldb, c + j0, ldc, accumulate, mask); break;
        case 2: axpy_block_avx512(2, k, a, lda, b + j0, ldb, c + j0, ldc, accumulate, mask); break;
        case 3: axpy_block_avx512(3, k, a, lda, b + j0, ldb, c + j0, ldc, accumulate, mask); break;
        default: axpy_block_avx512(4, k, a, lda, b + j0, ldb, c + j0, ldc, accumulate, mask); break;
        }
    }
}

// AVX2: blocks of 32 columns (4 ymm); a ragged end of fewer than 8 columns is scalar.
__attribute__((target("avx2,fma"), always_inline))
static inline void axpy_block_avx2(const int M, const int V, int64_t k, const float *a, int64_t lda,
                                   const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    __m256 acc[4][4];
    for (int i = 0; i < M; i++)
        for (int v = 0; v < V; v++) acc[i][v] = _mm256_setzero_ps();
    for (int64_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb;
        __m256 bv[4];
        for (int v = 0; v < V; v++) bv[v] = _mm256_loadu_ps(bp + 8 * v);
        for (int i = 0; i < M; i++) {
            const __m256 av = _mm256_set1_ps(a[i * lda + p]);
            for (int v = 0; v < V; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < M; i++) {
        for (int v = 0; v < V; v++) {
            float *cp = c + i * ldc + 8 * v;
            __m256 r = acc[i][v];
            if (accumulate) r = _mm256_add_ps(_mm256_loadu_ps(cp), r);
            _mm256_storeu_ps(cp, r);
        }
    }
}

__attribute__((target("avx2,fma")))
static void axpy_rows_avx2(const int M, int64_t n, int64_t k, const float *a, int64_t lda,
                           const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) axpy_block_avx2(M, 4, k, a, lda, b + j, ldb, c + j, ldc, accumulate);
    for (; j + 8 <= n; j += 8) axpy_block_avx2(M, 1, k, a, lda, b + j, ldb, c + j, ldc, accumulate);
    for (; j < n; j++) {
        for (int i = 0; i < M; i++) {
            float s = 0;
            for (int64_t p = 0; p < k; p++) s += a[i * lda + p] * b[p * ldb + j];
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
        }
    }
}

__attribute__((target("avx2,fma")))
void tk_gemm_axpy_avx2(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    switch (m) {
    case 1: axpy_rows_avx2(1, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
    case 2: axpy_rows_avx2(2, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
    case 3: axpy_rows_avx2(3, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
    default: axpy_rows_avx2(4, n, k, a, lda, b, ldb, c, ldc, accumulate); break;
    }
}
#endif
