// The table of kernels each ISA variant provides; dispatch.c picks one at start-up.
#ifndef TETHER_KERNELS_INTERNAL_H
#define TETHER_KERNELS_INTERNAL_H

#include "tether_kernels.h"

typedef void (*tk_ukernel_fn)(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                              int64_t mr, int64_t nr, int accumulate);
typedef void (*tk_unary_fn)(int64_t n, const float *x, float *y);
typedef void (*tk_rows_fn)(int64_t rows, int64_t cols, const float *x, float *y);

typedef struct {
    int mr, nr;
    tk_ukernel_fn ukernel;
    float (*fma_probe)(int64_t iters);
    int64_t probe_flops_per_iter;
    tk_unary_fn vexp, vlog, vtanh, vsigmoid, vgelu_tanh;
    tk_rows_fn softmax_rows, logsumexp_rows;
} tk_kernel_table;

extern const tk_kernel_table tk_table_generic;
#if defined(__x86_64__)
extern const tk_kernel_table tk_table_avx2;
extern const tk_kernel_table tk_table_avx512;
#endif
#if defined(__aarch64__)
extern const tk_kernel_table tk_table_neon;
#endif

// Edge tiles: a kernel computes a full MR x NR tile into `tile` (row stride nr_full)
// and this copies / adds the valid mr x nr part into C.
static inline void tk_store_edge(const float *tile, int64_t nr_full, float *c, int64_t ldc,
                                 int64_t mr, int64_t nr, int accumulate) {
    for (int64_t i = 0; i < mr; i++) {
        for (int64_t j = 0; j < nr; j++) {
            if (accumulate) c[i * ldc + j] += tile[i * nr_full + j];
            else c[i * ldc + j] = tile[i * nr_full + j];
        }
    }
}

#endif
