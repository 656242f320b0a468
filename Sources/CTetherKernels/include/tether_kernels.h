// Tether's only C: ISA-dispatched micro-kernels. Everything else (packing, blocking,
// threading) lives in Swift. Each ISA variant is compiled with a per-function
// __attribute__((target(...))), so no module-wide -march flag is needed, and the
// variant is chosen once at start-up from what the CPU supports.
#ifndef TETHER_KERNELS_H
#define TETHER_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction sets a kernel variant may use.
typedef enum {
    TK_ISA_GENERIC = 0,  ///< portable C, any CPU
    TK_ISA_NEON = 1,     ///< AArch64 Advanced SIMD
    TK_ISA_AVX2 = 2,     ///< x86-64 AVX2 + FMA
    TK_ISA_AVX512 = 3,   ///< x86-64 AVX-512F
} tk_isa;

/// The ISA in use. Chosen once: the best the CPU supports, unless the environment
/// variable TETHER_ISA (generic | neon | avx2 | avx512) asks for another supported one.
tk_isa tk_active_isa(void);
/// Whether this CPU (and this build) can run kernels of `isa`.
int tk_isa_supported(tk_isa isa);
/// Switches every kernel to `isa` (tests and benchmarks). Returns 0 if unsupported.
int tk_set_isa(tk_isa isa);
/// "generic", "neon", "avx2" or "avx512".
const char *tk_isa_name(tk_isa isa);

/// A spin-wait hint to the CPU (x86 `pause`, ARM `yield`).
static inline void tk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// Prefetches the cache line holding `p` for reading (a hint: never faults, any address).
static inline void tk_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Sets flush-to-zero and denormals-are-zero for the calling thread (once per thread).
/// Denormals made training 3.5x slower once the loss neared zero.
void tk_enable_flush_denormals(void);

// ---------------------------------------------------------------------------------
// GEMM micro-kernel: C[0:mr, 0:nr] (+)= A_packed(MR x k) * B_packed(k x NR).
// A_packed holds, for each p in [0, k), MR consecutive floats (one column of the sliver);
// B_packed holds, for each p, NR consecutive floats. Both are zero-padded past mr / nr.
// C is row-major with row stride ldc. accumulate = 0 overwrites C, 1 adds to it.

/// Rows of the active micro-kernel's tile.
int tk_gemm_mr(void);
/// Columns of the active micro-kernel's tile.
int tk_gemm_nr(void);
/// Runs the active micro-kernel.
void tk_gemm_ukernel(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                     int64_t mr, int64_t nr, int accumulate);

/// Peak-FLOP probe: `iters` rounds of independent FMAs held in registers.
/// Returns a value that depends on the work so it is not optimised away.
float tk_fma_probe(int64_t iters);
/// Floating-point operations per iteration of tk_fma_probe.
int64_t tk_fma_probe_flops_per_iter(void);

// ---------------------------------------------------------------------------------
// Kernel tables: every kernel of one ISA. The tk_* functions above and below call the
// active table; tk_kernels_for_isa lets a caller (tests, benchmarks, a GEMM driver that
// was handed an ISA) use one ISA's kernels without changing the process-wide choice.

typedef void (*tk_ukernel_fn)(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                              int64_t mr, int64_t nr, int accumulate);
typedef void (*tk_unary_fn)(int64_t n, const float *x, float *y);
typedef void (*tk_rows_fn)(int64_t rows, int64_t cols, const float *x, float *y);
typedef void (*tk_norm_fn)(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                           float eps, int rms, float *y, float *mean, float *rstd);

/// C[i, j] (+)= Σ_p A[i, p] · Bt[j, p] for m ≤ 4 rows: a GEMM with few rows (decoding)
/// as dot products over contiguous rows of A and Bt, with no packing.
typedef void (*tk_dot_fn)(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *bt, int64_t ldb, float *c, int64_t ldc, int accumulate);

/// One ISA's kernels: GEMM tile size and micro-kernel, FMA probe, vector math.
typedef struct {
    int mr, nr;
    tk_ukernel_fn ukernel;
    float (*fma_probe)(int64_t iters);
    int64_t probe_flops_per_iter;
    tk_unary_fn vexp, vlog, vtanh, vsigmoid, vgelu_tanh;
    tk_rows_fn softmax_rows, logsumexp_rows;
    tk_norm_fn norm_rows;
    tk_dot_fn gemm_dot;  ///< null where the packed GEMM is used for every shape
    /// C[i, :] (+)= Σ_p A[i, p] · B[p, :] for m ≤ 4 rows over a row-major B (row stride
    /// `ldb`, the dot kernel's `bt`/`ldb` slot): few rows times a matrix with contiguous
    /// rows (attention's value product while decoding), no packing. Null: tiled GEMM.
    tk_dot_fn gemm_axpy;
} tk_kernel_table;

/// The active kernel table (never null).
const tk_kernel_table *tk_kernels(void);
/// The kernel table of `isa`, or null if this CPU or build cannot run it.
const tk_kernel_table *tk_kernels_for_isa(tk_isa isa);

// ---------------------------------------------------------------------------------
// Vector math over contiguous arrays (y may alias x).

void tk_vexp(int64_t n, const float *x, float *y);
void tk_vlog(int64_t n, const float *x, float *y);
void tk_vtanh(int64_t n, const float *x, float *y);
/// y = x * sigmoid(x) ... fused helpers used by activations.
void tk_vsigmoid(int64_t n, const float *x, float *y);
/// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
void tk_vgelu_tanh(int64_t n, const float *x, float *y);
/// Row-wise softmax of a contiguous (rows, cols) block; y may alias x.
void tk_softmax_rows(int64_t rows, int64_t cols, const float *x, float *y);
/// Row-wise log-sum-exp of a contiguous (rows, cols) block into out[rows].
void tk_logsumexp_rows(int64_t rows, int64_t cols, const float *x, float *out);
/// LayerNorm (rms = 0) or RMSNorm (rms = 1) of each row of a contiguous (rows, cols) block:
/// y = (x - mean) * rstd * w + b with rstd = 1 / sqrt(var + eps) (RMSNorm: mean = 0, no b).
/// w and b may be null (1 and 0); mean[rows] and rstd[rows] are written for the backward.
/// Two passes over each row for the statistics (accurate variance), one to write y.
void tk_norm_rows(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                  float eps, int rms, float *y, float *mean, float *rstd);

#ifdef __cplusplus
}
#endif
#endif
