// AVX2+FMA vector math: the SIMD vocabulary for vecmath_simd.h, 8 lanes.
#include "kernels_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

// Lanes below n set (all ones), the rest clear.
static inline __m256i tk_mask8(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline float tk_redmax8(__m256 v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}
static inline float tk_redsum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

#define V __m256
#define VI __m256i
#define VM __m256
#define VN 8
#define TK_FN(name) name##_avx2
#define VSET _mm256_set1_ps
#define VLOAD _mm256_loadu_ps
#define VSTREAM _mm256_stream_ps
#define VFENCE _mm_sfence
#define VSTORE _mm256_storeu_ps
#define VMASKN(n) _mm256_castsi256_ps(tk_mask8(n))
#define VLOADN(p, n) _mm256_maskload_ps((p), tk_mask8(n))
#define VSTOREN(p, v, n) _mm256_maskstore_ps((p), tk_mask8(n), (v))
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VDIV _mm256_div_ps
#define VFMA _mm256_fmadd_ps
#define VFNMA _mm256_fnmadd_ps
#define VMAX _mm256_max_ps
#define VMIN _mm256_min_ps
#define VROUND(x) _mm256_round_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VABS(x) _mm256_and_ps((x), _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)))
#define VSEL(m, a, b) _mm256_blendv_ps((b), (a), (m))
#define VLT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define VEQ(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_OQ)
#define VNGE(a, b) _mm256_cmp_ps((a), (b), _CMP_NGE_UQ)
#define VCVT _mm256_cvtps_epi32
#define VTOF _mm256_cvtepi32_ps
#define VBITS _mm256_castps_si256
#define VFROMBITS _mm256_castsi256_ps
#define VI_SET _mm256_set1_epi32
#define VI_ADD _mm256_add_epi32
#define VI_SUB _mm256_sub_epi32
#define VI_AND _mm256_and_si256
#define VI_OR _mm256_or_si256
#define VI_SRA _mm256_srai_epi32
#define VI_SRL _mm256_srli_epi32
#define VI_SLL _mm256_slli_epi32
#define VREDMAX tk_redmax8
#define VREDSUM tk_redsum8

#include "vecmath_simd.h"

#pragma clang attribute pop
#endif
