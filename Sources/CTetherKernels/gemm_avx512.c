// AVX-512F micro-kernel (8 x 32 tile) and FMA probe.
//
// The tile holds 8 rows x 2 zmm = 16 accumulators, 2 registers for the B row, and the A
// value comes in as an embedded broadcast. Per k step: 2 loads of B, 8 broadcasts of A,
// 16 FMAs. Zen 4 runs one 512-bit FMA per cycle with 4 cycles of latency, so 16 chains
// are plenty; 8 rows (not 12 or 14, which also reach ~95% in the kernel alone) divide the
// power-of-two sizes of transformer matrices, so no work is wasted on edge tiles.
// TK_AVX512_MR can be set to 4..14 to re-measure.
#include "kernels_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define TK_AVX512 __attribute__((target("avx512f,fma")))

#ifndef TK_AVX512_MR
#define TK_AVX512_MR 8
#endif
enum { MR = TK_AVX512_MR, NR = 32 };

// acc[i][0..1] += A[p, i] * B[p, 0..31] for p in [0, k).
TK_AVX512 static inline void tile_loop(int64_t k, const float *a, const float *b, __m512 acc[MR][2]) {
#pragma unroll
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0);
#pragma unroll
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR;
        b += NR;
    }
}

// C[0:mr, 0:nr] (+)= A_packed (MR x k) * B_packed (k x NR).
TK_AVX512 static void ukernel_avx512(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                                     int64_t mr, int64_t nr, int accumulate) {
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; i++) {
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
        }
    }
    __m512 acc[MR][2];
    tile_loop(k, a, b, acc);
    if (mr == MR && nr == NR) {
#pragma unroll
        for (int i = 0; i < MR; i++) {
            float *ci = c + i * ldc;
            if (accumulate) {
                acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(ci));
                acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(ci + 16));
            }
            _mm512_storeu_ps(ci, acc[i][0]);
            _mm512_storeu_ps(ci + 16, acc[i][1]);
        }
        return;
    }
    float tile[MR * NR] __attribute__((aligned(64)));
#pragma unroll
    for (int i = 0; i < MR; i++) {
        _mm512_store_ps(tile + i * NR, acc[i][0]);
        _mm512_store_ps(tile + i * NR + 16, acc[i][1]);
    }
    tk_store_edge(tile, NR, c, ldc, mr, nr, accumulate);
}

// 12 independent zmm FMA chains: more than latency (4) x throughput (1-2 per cycle).
enum { PROBE_CHAINS = 12 };

TK_AVX512 static float fma_probe_avx512(int64_t iters) {
    __m512 x[PROBE_CHAINS];
    for (int i = 0; i < PROBE_CHAINS; i++) x[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 m = _mm512_set1_ps(0.999999f), d = _mm512_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < PROBE_CHAINS; i++) x[i] = _mm512_fmadd_ps(x[i], m, d);
    __m512 s = x[0];
    for (int i = 1; i < PROBE_CHAINS; i++) s = _mm512_add_ps(s, x[i]);
    return _mm512_reduce_add_ps(s);
}

void tk_vexp_avx512(int64_t n, const float *x, float *y);
void tk_vlog_avx512(int64_t n, const float *x, float *y);
void tk_vtanh_avx512(int64_t n, const float *x, float *y);
void tk_vsigmoid_avx512(int64_t n, const float *x, float *y);
void tk_vgelu_tanh_avx512(int64_t n, const float *x, float *y);
void tk_softmax_rows_avx512(int64_t rows, int64_t cols, const float *x, float *y);
void tk_logsumexp_rows_avx512(int64_t rows, int64_t cols, const float *x, float *out);
void tk_norm_rows_avx512(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                       float eps, int rms, float *y, float *mean, float *rstd);

const tk_kernel_table tk_table_avx512 = {
    .mr = MR, .nr = NR, .ukernel = ukernel_avx512,
    .fma_probe = fma_probe_avx512, .probe_flops_per_iter = PROBE_CHAINS * 16 * 2,
    .vexp = tk_vexp_avx512, .vlog = tk_vlog_avx512, .vtanh = tk_vtanh_avx512,
    .vsigmoid = tk_vsigmoid_avx512, .vgelu_tanh = tk_vgelu_tanh_avx512,
    .softmax_rows = tk_softmax_rows_avx512, .logsumexp_rows = tk_logsumexp_rows_avx512,
    .norm_rows = tk_norm_rows_avx512,
    .gemm_dot = tk_gemm_dot_avx512,
    .gemm_axpy = tk_gemm_axpy_avx512,
};
#endif
