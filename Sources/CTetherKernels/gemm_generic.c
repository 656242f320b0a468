// Portable micro-kernel and FMA probe: plain C that any compiler vectorises as it can.
#include "kernels_internal.h"

enum { MR = 4, NR = 8 };

static void ukernel_generic(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                            int64_t mr, int64_t nr, int accumulate) {
    float acc[MR * NR] = {0};
    for (int64_t p = 0; p < k; p++) {
        const float *ap = a + p * MR, *bp = b + p * NR;
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i * NR + j] += ap[i] * bp[j];
    }
    tk_store_edge(acc, NR, c, ldc, mr, nr, accumulate);
}

static float fma_probe_generic(int64_t iters) {
    float x[16], y = 1.0000001f;
    for (int i = 0; i < 16; i++) x[i] = (float)i * 1e-3f;
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < 16; i++) x[i] = x[i] * y + 1e-7f;
    float s = 0;
    for (int i = 0; i < 16; i++) s += x[i];
    return s;
}


const tk_kernel_table tk_table_generic = {
    .mr = MR, .nr = NR, .ukernel = ukernel_generic,
    .fma_probe = fma_probe_generic, .probe_flops_per_iter = 32,
    .vexp = tk_vexp_generic, .vlog = tk_vlog_generic, .vtanh = tk_vtanh_generic,
    .vsigmoid = tk_vsigmoid_generic, .vgelu_tanh = tk_vgelu_tanh_generic,
    .softmax_rows = tk_softmax_rows_generic, .logsumexp_rows = tk_logsumexp_rows_generic,
    .norm_rows = tk_norm_rows_generic,
};
