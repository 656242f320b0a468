// Few-row GEMM as dot products: C[i, j] (+)= Σ_p A[i, p] · Bt[j, p], m ≤ 4.
// Decoding multiplies one row per sequence by every weight matrix; packing the weights
// for that (as the tiled GEMM does) costs as much as the product itself. Here each weight
// row is read once and used for all m rows, straight from memory.
#include "kernels_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,fma")))
void tk_gemm_dot_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                        const float *bt, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    const int64_t tail = k % 16, body = k - tail;
    const __mmask16 mask = (__mmask16)((1u << tail) - 1);
    for (int64_t j = 0; j < n; j++) {
        const float *w = bt + j * ldb;
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int64_t p = 0; p < body; p += 16) {
            __m512 wv = _mm512_loadu_ps(w + p);
            for (int64_t i = 0; i < m; i++) acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(a + i * lda + p), wv, acc[i]);
        }
        if (tail) {
            __m512 wv = _mm512_maskz_loadu_ps(mask, w + body);
            for (int64_t i = 0; i < m; i++)
                acc[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i * lda + body), wv, acc[i]);
        }
        for (int64_t i = 0; i < m; i++) {
            float s = _mm512_reduce_add_ps(acc[i]);
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
        }
    }
}

__attribute__((target("avx2,fma")))
static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma")))
void tk_gemm_dot_avx2(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                      const float *bt, int64_t ldb, float *c, int64_t ldc, int accumulate) {
    const int64_t body = k - k % 8;
    for (int64_t j = 0; j < n; j++) {
        const float *w = bt + j * ldb;
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int64_t p = 0; p < body; p += 8) {
            __m256 wv = _mm256_loadu_ps(w + p);
            for (int64_t i = 0; i < m; i++) acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i * lda + p), wv, acc[i]);
        }
        for (int64_t i = 0; i < m; i++) {
            float s = hsum256(acc[i]);
            for (int64_t p = body; p < k; p++) s += a[i * lda + p] * w[p];
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
        }
    }
}
#endif
