// Chooses the kernel table once, from the CPU's features and TETHER_ISA.
#include "kernels_internal.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static const tk_kernel_table *table_for(tk_isa isa) {
    switch (isa) {
#if defined(__x86_64__)
    case TK_ISA_AVX512: return &tk_table_avx512;
    case TK_ISA_AVX2: return &tk_table_avx2;
#endif
#if defined(__aarch64__)
    case TK_ISA_NEON: return &tk_table_neon;
#endif
    default: return &tk_table_generic;
    }
}

int tk_isa_supported(tk_isa isa) {
    switch (isa) {
    case TK_ISA_GENERIC: return 1;
#if defined(__x86_64__)
    case TK_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case TK_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case TK_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

const char *tk_isa_name(tk_isa isa) {
    switch (isa) {
    case TK_ISA_NEON: return "neon";
    case TK_ISA_AVX2: return "avx2";
    case TK_ISA_AVX512: return "avx512";
    default: return "generic";
    }
}

static tk_isa best_isa(void) {
    const tk_isa order[] = {TK_ISA_AVX512, TK_ISA_AVX2, TK_ISA_NEON};
    const char *asked = getenv("TETHER_ISA");
    if (asked && *asked) {
        for (int i = 0; i <= TK_ISA_AVX512; i++) {
            if (strcmp(asked, tk_isa_name((tk_isa)i)) == 0 && tk_isa_supported((tk_isa)i))
                return (tk_isa)i;
        }
    }
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (tk_isa_supported(order[i])) return order[i];
    return TK_ISA_GENERIC;
}

// Chosen on first use; -1 means "not yet". A benign race: every thread computes the same.
static volatile int active = -1;
static const tk_kernel_table *volatile table = 0;

static inline const tk_kernel_table *kernels(void) {
    const tk_kernel_table *t = table;
    if (__builtin_expect(t != 0, 1)) return t;
    tk_isa isa = best_isa();
    active = (int)isa;
    table = table_for(isa);
    return table;
}

const tk_kernel_table *tk_kernels(void) { return kernels(); }

const tk_kernel_table *tk_kernels_for_isa(tk_isa isa) {
    return tk_isa_supported(isa) ? table_for(isa) : 0;
}

tk_isa tk_active_isa(void) {
    kernels();
    return (tk_isa)active;
}

int tk_set_isa(tk_isa isa) {
    if (!tk_isa_supported(isa)) return 0;
    active = (int)isa;
    table = table_for(isa);
    return 1;
}

void tk_enable_flush_denormals(void) {
    static _Thread_local int done = 0;
    if (done) return;
    done = 1;
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ (bit 15) | DAZ (bit 6)
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= (1ull << 24);  // FZ
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#endif
}

int tk_gemm_mr(void) { return kernels()->mr; }
int tk_gemm_nr(void) { return kernels()->nr; }
void tk_gemm_ukernel(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                     int64_t mr, int64_t nr, int accumulate) {
    kernels()->ukernel(k, a, b, c, ldc, mr, nr, accumulate);
}
float tk_fma_probe(int64_t iters) { return kernels()->fma_probe(iters); }
int64_t tk_fma_probe_flops_per_iter(void) { return kernels()->probe_flops_per_iter; }

void tk_vexp(int64_t n, const float *x, float *y) { kernels()->vexp(n, x, y); }
void tk_vlog(int64_t n, const float *x, float *y) { kernels()->vlog(n, x, y); }
void tk_vtanh(int64_t n, const float *x, float *y) { kernels()->vtanh(n, x, y); }
void tk_vsigmoid(int64_t n, const float *x, float *y) { kernels()->vsigmoid(n, x, y); }
void tk_vgelu_tanh(int64_t n, const float *x, float *y) { kernels()->vgelu_tanh(n, x, y); }
void tk_softmax_rows(int64_t rows, int64_t cols, const float *x, float *y) {
    kernels()->softmax_rows(rows, cols, x, y);
}
void tk_logsumexp_rows(int64_t rows, int64_t cols, const float *x, float *out) {
    kernels()->logsumexp_rows(rows, cols, x, out);
}
void tk_norm_rows(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                  float eps, int rms, float *y, float *mean, float *rstd) {
    kernels()->norm_rows(rows, cols, x, w, b, eps, rms, y, mean, rstd);
}
