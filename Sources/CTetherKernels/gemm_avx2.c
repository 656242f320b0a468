// PLACEHOLDER until the avx2 kernels land: reuses the portable table so the package links.
#include "kernels_internal.h"
#if defined(__x86_64__)
extern const tk_kernel_table tk_table_generic;
const tk_kernel_table tk_table_avx2 = {
    .mr = 4, .nr = 8, .ukernel = 0, .fma_probe = 0, .probe_flops_per_iter = 32,
};
#endif
