// PLACEHOLDER until the NEON kernels land.
#include "kernels_internal.h"
#if defined(__aarch64__)
const tk_kernel_table tk_table_neon = {0};
#endif
