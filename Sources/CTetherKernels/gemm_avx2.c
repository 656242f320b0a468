// AVX2+FMA micro-kernel (6 x 16 tile) and FMA probe.
//
// The tile holds 6 rows x 2 ymm = 12 accumulators, 2 registers for the B row and one for
// the broadcast A value: 15 of 16 registers. Per k step: 2 loads of B, 6 broadcasts of A,
// 12 FMAs (6 cycles at 2 FMAs per cycle), so 12 independent chains cover FMA latency.
#include "kernels_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#define TK_AVX2 __attribute__((target("avx2,fma")))

enum { MR = 6, NR = 16 };

// C[0:mr, 0:nr] (+)= A_packed (MR x k) * B_packed (k x NR).
TK_AVX2 static void ukernel_avx2(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                                 int64_t mr, int64_t nr, int accumulate) {
    const int full = mr == MR && nr == NR;
    if (full) {
#pragma unroll
        for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    }
    __m256 acc[MR][2];
#pragma unroll
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < k; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        _mm_prefetch((const char *)(b + 16 * NR), _MM_HINT_T0);
#pragma unroll
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR;
        b += NR;
    }
    if (full) {
#pragma unroll
        for (int i = 0; i < MR; i++) {
            float *ci = c + i * ldc;
            if (accumulate) {
                acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(ci));
                acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, acc[i][0]);
            _mm256_storeu_ps(ci + 8, acc[i][1]);
        }
        return;
    }
    float tile[MR * NR] __attribute__((aligned(32)));
#pragma unroll
    for (int i = 0; i < MR; i++) {
        _mm256_store_ps(tile + i * NR, acc[i][0]);
        _mm256_store_ps(tile + i * NR + 8, acc[i][1]);
    }
    tk_store_edge(tile, NR, c, ldc, mr, nr, accumulate);
}

// 12 independent ymm FMA chains: more than latency (4) x throughput (2 per cycle).
enum { PROBE_CHAINS = 12 };

TK_AVX2 static float fma_probe_avx2(int64_t iters) {
    __m256 x[PROBE_CHAINS];
#pragma unroll
    for (int i = 0; i < PROBE_CHAINS; i++) x[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 m = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; it++) {
#pragma unroll
        for (int i = 0; i < PROBE_CHAINS; i++) x[i] = _mm256_fmadd_ps(x[i], m, d);
    }
    __m256 s = x[0];
#pragma unroll
    for (int i = 1; i < PROBE_CHAINS; i++) s = _mm256_add_ps(s, x[i]);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

void tk_vexp_avx2(int64_t n, const float *x, float *y);
void tk_vlog_avx2(int64_t n, const float *x, float *y);
void tk_vtanh_avx2(int64_t n, const float *x, float *y);
void tk_vsigmoid_avx2(int64_t n, const float *x, float *y);
void tk_vgelu_tanh_avx2(int64_t n, const float *x, float *y);
void tk_softmax_rows_avx2(int64_t rows, int64_t cols, const float *x, float *y);
void tk_logsumexp_rows_avx2(int64_t rows, int64_t cols, const float *x, float *out);
void tk_norm_rows_avx2(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                       float eps, int rms, float *y, float *mean, float *rstd);

const tk_kernel_table tk_table_avx2 = {
    .mr = MR, .nr = NR, .ukernel = ukernel_avx2,
    .fma_probe = fma_probe_avx2, .probe_flops_per_iter = PROBE_CHAINS * 8 * 2,
    .vexp = tk_vexp_avx2, .vlog = tk_vlog_avx2, .vtanh = tk_vtanh_avx2,
    .vsigmoid = tk_vsigmoid_avx2, .vgelu_tanh = tk_vgelu_tanh_avx2,
    .softmax_rows = tk_softmax_rows_avx2, .logsumexp_rows = tk_logsumexp_rows_avx2,
    .norm_rows = tk_norm_rows_avx2,
    .gemm_dot = tk_gemm_dot_avx2,
    .gemm_axpy = tk_gemm_axpy_avx2,
};
#endif
