// What the per-ISA kernel files share; dispatch.c picks one table at start-up.
#ifndef TETHER_KERNELS_INTERNAL_H
#define TETHER_KERNELS_INTERNAL_H

#include "tether_kernels.h"

// The portable vector math (vecmath_generic.c), shared by the generic and NEON tables.
void tk_vexp_generic(int64_t n, const float *x, float *y);
void tk_vlog_generic(int64_t n, const float *x, float *y);
void tk_vtanh_generic(int64_t n, const float *x, float *y);
void tk_vsigmoid_generic(int64_t n, const float *x, float *y);
void tk_vgelu_tanh_generic(int64_t n, const float *x, float *y);
void tk_softmax_rows_generic(int64_t rows, int64_t cols, const float *x, float *y);
void tk_logsumexp_rows_generic(int64_t rows, int64_t cols, const float *x, float *out);
void tk_norm_rows_generic(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                          float eps, int rms, float *y, float *mean, float *rstd);

#if defined(__x86_64__)
void tk_gemm_dot_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                        const float *bt, int64_t ldb, float *c, int64_t ldc, int accumulate);
void tk_gemm_dot_avx2(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                      const float *bt, int64_t ldb, float *c, int64_t ldc, int accumulate);
void tk_gemm_axpy_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                         const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate);
void tk_gemm_axpy_avx2(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int accumulate);
#endif
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
