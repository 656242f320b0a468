// AArch64 NEON micro-kernel (8 x 12 tile) and FMA probe.
//
// The tile holds 8 rows x 3 q-registers = 24 accumulators, 3 registers for the B row and
// 2 for the 8 A values (used by lane): 29 of 32 registers. Per k step: 5 loads, 24 FMAs.
// Vector math on NEON uses the portable C versions (libm per element).
#include "kernels_internal.h"
#if defined(__aarch64__)
#include <arm_neon.h>

enum { MR = 8, NR = 12 };

// Row r of the tile: acc[r][0..2] += a_lane * b0..b2.
#define TK_ROW(r, av, lane)                                   \
    acc[r][0] = vfmaq_laneq_f32(acc[r][0], b0, av, lane);     \
    acc[r][1] = vfmaq_laneq_f32(acc[r][1], b1, av, lane);     \
    acc[r][2] = vfmaq_laneq_f32(acc[r][2], b2, av, lane)

// C[0:mr, 0:nr] (+)= A_packed (MR x k) * B_packed (k x NR).
static void ukernel_neon(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                         int64_t mr, int64_t nr, int accumulate) {
    float32x4_t acc[MR][3];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < k; p++) {
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        TK_ROW(0, a0, 0); TK_ROW(1, a0, 1); TK_ROW(2, a0, 2); TK_ROW(3, a0, 3);
        TK_ROW(4, a1, 0); TK_ROW(5, a1, 1); TK_ROW(6, a1, 2); TK_ROW(7, a1, 3);
        a += MR;
        b += NR;
    }
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; i++) {
            float *ci = c + i * ldc;
            for (int j = 0; j < 3; j++) {
                float32x4_t v = acc[i][j];
                if (accumulate) v = vaddq_f32(v, vld1q_f32(ci + 4 * j));
                vst1q_f32(ci + 4 * j, v);
            }
        }
        return;
    }
    float tile[MR * NR] __attribute__((aligned(16)));
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 3; j++) vst1q_f32(tile + i * NR + 4 * j, acc[i][j]);
    tk_store_edge(tile, NR, c, ldc, mr, nr, accumulate);
}

// 24 independent FMA chains: more than latency (4) x throughput (up to 4 per cycle).
enum { PROBE_CHAINS = 24 };

static float fma_probe_neon(int64_t iters) {
    float32x4_t x[PROBE_CHAINS];
    for (int i = 0; i < PROBE_CHAINS; i++) x[i] = vdupq_n_f32((float)i * 1e-3f);
    const float32x4_t m = vdupq_n_f32(0.999999f), d = vdupq_n_f32(1e-7f);
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < PROBE_CHAINS; i++) x[i] = vfmaq_f32(d, x[i], m);
    float32x4_t s = x[0];
    for (int i = 1; i < PROBE_CHAINS; i++) s = vaddq_f32(s, x[i]);
    return vaddvq_f32(s);
}


const tk_kernel_table tk_table_neon = {
    .mr = MR, .nr = NR, .ukernel = ukernel_neon,
    .fma_probe = fma_probe_neon, .probe_flops_per_iter = PROBE_CHAINS * 4 * 2,
    .vexp = tk_vexp_generic, .vlog = tk_vlog_generic, .vtanh = tk_vtanh_generic,
    .vsigmoid = tk_vsigmoid_generic, .vgelu_tanh = tk_vgelu_tanh_generic,
    .softmax_rows = tk_softmax_rows_generic, .logsumexp_rows = tk_logsumexp_rows_generic,
    .norm_rows = tk_norm_rows_generic,
};
#endif
