// AVX-512F vector math: the SIMD vocabulary for vecmath_simd.h, 16 lanes.
#include "kernels_internal.h"
#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,fma"))), apply_to = function)

#define V __m512
#define VI __m512i
#define VM __mmask16
#define VN 16
#define TK_FN(name) name##_avx512
#define VSET _mm512_set1_ps
#define VLOAD _mm512_loadu_ps
#define VSTREAM _mm512_stream_ps
#define VFENCE _mm_sfence
#define VSTORE _mm512_storeu_ps
#define VMASKN(n) ((__mmask16)((1u << (n)) - 1u))
#define VLOADN(p, n) _mm512_maskz_loadu_ps(VMASKN(n), (p))
#define VSTOREN(p, v, n) _mm512_mask_storeu_ps((p), VMASKN(n), (v))
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VDIV _mm512_div_ps
#define VFMA _mm512_fmadd_ps
#define VFNMA _mm512_fnmadd_ps
#define VMAX _mm512_max_ps
#define VMIN _mm512_min_ps
#define VROUND(x) _mm512_roundscale_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VABS _mm512_abs_ps
#define VSEL(m, a, b) _mm512_mask_blend_ps((m), (b), (a))
#define VLT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define VEQ(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_OQ)
#define VNGE(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_NGE_UQ)
#define VCVT _mm512_cvtps_epi32
#define VTOF _mm512_cvtepi32_ps
#define VBITS _mm512_castps_si512
#define VFROMBITS _mm512_castsi512_ps
#define VI_SET _mm512_set1_epi32
#define VI_ADD _mm512_add_epi32
#define VI_SUB _mm512_sub_epi32
#define VI_AND _mm512_and_si512
#define VI_OR _mm512_or_si512
#define VI_SRA _mm512_srai_epi32
#define VI_SRL _mm512_srli_epi32
#define VI_SLL _mm512_slli_epi32
#define VREDMAX _mm512_reduce_max_ps
#define VREDSUM _mm512_reduce_add_ps

#include "vecmath_simd.h"

#pragma clang attribute pop
#endif
