// Vector math written once over a small SIMD vocabulary; vecmath_avx2.c and
// vecmath_avx512.c define the vocabulary for their ISA and include this file.
//
// Required macros: V (float vector), VI (int32 vector), VM (lane mask), VN (lanes),
// VSET, VLOAD, VSTORE, VSTREAM (aligned non-temporal store), VFENCE (orders streamed
// stores), VLOADN / VSTOREN (first n < VN lanes; others read as 0), VMASKN(n) (lanes < n),
// VADD, VSUB, VMUL, VDIV, VFMA(a,b,c)=a*b+c, VFNMA(a,b,c)=c-a*b,
// VMAX, VMIN (NaN in the second operand passes through), VROUND (to nearest),
// VABS, VSEL(mask, if_true, if_false), VLT, VEQ, VNGE (not >=, true for NaN),
// VCVT (float -> int, exact for integral values), VTOF (int -> float), VBITS / VFROMBITS,
// VI_SET, VI_ADD, VI_SUB, VI_AND, VI_OR, VI_SRA, VI_SRL, VI_SLL, VREDMAX, VREDSUM,
// and TK_FN(name) to name the exported functions.
//
// Accuracy (checked in VecMathTests against Double): exp, log within 1 ulp; tanh and
// sigmoid within 2.5 ulp; gelu within a few ulp for |x| < 1, its error growing like
// |x|^3 2^-24 for negative x from the rounding of u itself. exp(-inf) = 0, exp(x > 88.73) = inf, log(0) = -inf,
// log(x < 0) = NaN, NaN in -> NaN out.

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

// ln 2 split so that n * LN2_HI is exact for |n| < 2^15.
#define TK_LN2_HI 0.693359375f
#define TK_LN2_LO (-2.12194440e-4f)

// e^x: x = n ln2 + r with |r| <= ln2 / 2, e^r from its degree-7 Taylor polynomial
// (truncation error < 1e-8), 2^n applied as two halves so n in [-150, 129] neither
// overflows the exponent field early nor loses the inf / 0 limits.
static inline V TK_FN(exp_v)(V x) {
    x = VMIN(VSET(89.0f), VMAX(VSET(-104.0f), x));
    V n = VROUND(VMUL(x, VSET(1.44269504088896341f)));
    V r = VFNMA(n, VSET(TK_LN2_HI), x);
    r = VFNMA(n, VSET(TK_LN2_LO), r);
    V p = VSET(1.0f / 5040.0f);
    p = VFMA(p, r, VSET(1.0f / 720.0f));
    p = VFMA(p, r, VSET(1.0f / 120.0f));
    p = VFMA(p, r, VSET(1.0f / 24.0f));
    p = VFMA(p, r, VSET(1.0f / 6.0f));
    p = VFMA(p, r, VSET(0.5f));
    p = VFMA(p, r, VSET(1.0f));
    p = VFMA(p, r, VSET(1.0f));
    VI ni = VCVT(n);
    VI n1 = VI_SRA(ni, 1);
    VI n2 = VI_SUB(ni, n1);
    V s1 = VFROMBITS(VI_SLL(VI_ADD(n1, VI_SET(127)), 23));
    V s2 = VFROMBITS(VI_SLL(VI_ADD(n2, VI_SET(127)), 23));
    return VMUL(VMUL(p, s1), s2);
}

// log x: x = 2^e m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f),
// log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2))) with R the atanh series (fdlibm's form).
static inline V TK_FN(log_v)(V x) {
    VM tiny = VLT(x, VSET(1.17549435e-38f));  // subnormal (or <= 0): rescale by 2^23
    V xs = VSEL(tiny, VMUL(x, VSET(8388608.0f)), x);
    V eadj = VSEL(tiny, VSET(-23.0f), VSET(0.0f));
    VI bits = VBITS(xs);
    VI ei = VI_SUB(VI_SRL(bits, 23), VI_SET(127));
    V m = VFROMBITS(VI_OR(VI_AND(bits, VI_SET(0x007fffff)), VI_SET(0x3f800000)));
    VM big = VLT(VSET(1.41421356f), m);
    m = VSEL(big, VMUL(m, VSET(0.5f)), m);
    V e = VADD(VADD(VTOF(ei), eadj), VSEL(big, VSET(1.0f), VSET(0.0f)));
    V f = VSUB(m, VSET(1.0f));
    V s = VDIV(f, VADD(VSET(2.0f), f));
    V z = VMUL(s, s);
    V R = VSET(2.0f / 11.0f);
    R = VFMA(R, z, VSET(2.0f / 9.0f));
    R = VFMA(R, z, VSET(2.0f / 7.0f));
    R = VFMA(R, z, VSET(2.0f / 5.0f));
    R = VFMA(R, z, VSET(2.0f / 3.0f));
    R = VMUL(R, z);
    V hfsq = VMUL(VMUL(VSET(0.5f), f), f);
    V lm = VSUB(f, VFNMA(s, VADD(hfsq, R), hfsq));
    V y = VFMA(e, VSET(TK_LN2_HI), VFMA(e, VSET(TK_LN2_LO), lm));
    y = VSEL(VEQ(x, VSET(INFINITY)), VSET(INFINITY), y);
    y = VSEL(VEQ(x, VSET(0.0f)), VSET(-INFINITY), y);
    return VSEL(VNGE(x, VSET(0.0f)), VSET(NAN), y);
}

// tanh x: x + x^3 P(x^2) below 0.55 (a fitted degree-4 P, error < 1e-9), else
// sign(x) (1 - 2 / (e^{2|x|} + 1)) with |x| capped at 10, where tanh rounds to 1.
static inline V TK_FN(tanh_v)(V x) {
    V ax = VABS(x);
    V z = VMUL(x, x);
    V p = VSET(-0.0062727234326303005f);
    p = VFMA(p, z, VSET(0.021070510149002075f));
    p = VFMA(p, z, VSET(-0.05385199561715126f));
    p = VFMA(p, z, VSET(0.13332583010196686f));
    p = VFMA(p, z, VSET(-0.33333316445350647f));
    V small = VFMA(VMUL(x, z), p, x);
    V e = TK_FN(exp_v)(VMUL(VSET(2.0f), VMIN(VSET(10.0f), ax)));
    V t = VSUB(VSET(1.0f), VDIV(VSET(2.0f), VADD(e, VSET(1.0f))));
    V large = VFROMBITS(VI_OR(VBITS(t), VI_AND(VBITS(x), VI_SET((int)0x80000000u))));
    return VSEL(VLT(ax, VSET(0.55f)), small, large);
}

// sigmoid x = 1 / (1 + e^-x), from t = e^-|x| <= 1 so nothing overflows: 1 / (1 + t) for
// x >= 0, t / (1 + t) below. Exact limits 0 and 1, no cancellation.
static inline V TK_FN(sigmoid_v)(V x) {
    V t = TK_FN(exp_v)(VSUB(VSET(0.0f), VABS(x)));
    V d = VADD(VSET(1.0f), t);
    return VDIV(VSEL(VLT(x, VSET(0.0f)), t, VSET(1.0f)), d);
}

// 0.5 x (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the sigmoid form
// keeps relative accuracy for negative x, where 1 + tanh u cancels.
static inline V TK_FN(gelu_v)(V x) {
    V u2 = VMUL(VMUL(VSET(2.0f * 0.7978845608028654f), x), VFMA(VMUL(VSET(0.044715f), x), x, VSET(1.0f)));
    return VMUL(x, TK_FN(sigmoid_v)(u2));
}

// Outputs at least this many floats long go around the caches (non-temporal stores): they
// would not stay cached anyway, and a normal store first reads each line it writes.
#ifndef TK_STREAM_MIN
#define TK_STREAM_MIN (1 << 20)
#endif

// y[i] = fn(x[i]) for i in [0, n); vectors through `store` (VSTORE or VSTREAM) from i0 on.
#define TK_UNARY_RANGE(fn, store, x, y, i0, n)                                 \
    do {                                                                       \
        int64_t i_ = (i0);                                                     \
        for (; i_ + 2 * VN <= (n); i_ += 2 * VN) {                             \
            V a_ = fn(VLOAD((x) + i_)), b_ = fn(VLOAD((x) + i_ + VN));         \
            store((y) + i_, a_);                                               \
            store((y) + i_ + VN, b_);                                          \
        }                                                                      \
        for (; i_ < (n); i_ += VN) {                                           \
            int64_t left_ = (n) - i_;                                          \
            if (left_ >= VN) store((y) + i_, fn(VLOAD((x) + i_)));             \
            else VSTOREN((y) + i_, fn(VLOADN((x) + i_, left_)), left_);        \
        }                                                                      \
    } while (0)

// Elements before y + head are stored normally so the streamed part starts on a vector
// boundary (non-temporal stores need aligned addresses).
static inline int64_t TK_FN(stream_head)(const float *y, int64_t n) {
    int64_t misaligned = (int64_t)(((uintptr_t)y / sizeof(float)) % VN);
    int64_t head = misaligned ? VN - misaligned : 0;
    return head < n ? head : n;
}

#define TK_UNARY(name, fn)                                                     \
    void TK_FN(name)(int64_t n, const float *x, float *y) {                   \
        if (n < TK_STREAM_MIN) {                                               \
            TK_UNARY_RANGE(fn, VSTORE, x, y, 0, n);                            \
            return;                                                            \
        }                                                                      \
        int64_t head = TK_FN(stream_head)(y, n);                               \
        if (head) VSTOREN(y, fn(VLOADN(x, head)), head);                       \
        TK_UNARY_RANGE(fn, VSTREAM, x, y, head, n);                            \
        VFENCE();                                                              \
    }

TK_UNARY(tk_vexp, TK_FN(exp_v))
TK_UNARY(tk_vlog, TK_FN(log_v))
TK_UNARY(tk_vtanh, TK_FN(tanh_v))
TK_UNARY(tk_vsigmoid, TK_FN(sigmoid_v))
TK_UNARY(tk_vgelu_tanh, TK_FN(gelu_v))

// Largest element of x[0:n] (-inf for n == 0).
static inline float TK_FN(row_max)(int64_t n, const float *x) {
    V m0 = VSET(-INFINITY), m1 = m0;
    int64_t i = 0;
    for (; i + 2 * VN <= n; i += 2 * VN) {
        m0 = VMAX(m0, VLOAD(x + i));
        m1 = VMAX(m1, VLOAD(x + i + VN));
    }
    for (; i < n; i += VN) {
        int64_t left = n - i;
        V v = left >= VN ? VLOAD(x + i) : VSEL(VMASKN(left), VLOADN(x + i, left), VSET(-INFINITY));
        m0 = VMAX(m0, v);
    }
    return VREDMAX(VMAX(m0, m1));
}

// Sum of e^(x - m) over x[0:n]; stores the terms into y when y is not null.
static inline float TK_FN(row_expsum)(int64_t n, const float *x, float m, float *y) {
    V vm = VSET(m), s0 = VSET(0.0f), s1 = s0;
    int64_t i = 0;
    for (; i + 2 * VN <= n; i += 2 * VN) {
        V a = TK_FN(exp_v)(VSUB(VLOAD(x + i), vm));
        V b = TK_FN(exp_v)(VSUB(VLOAD(x + i + VN), vm));
        if (y) {
            VSTORE(y + i, a);
            VSTORE(y + i + VN, b);
        }
        s0 = VADD(s0, a);
        s1 = VADD(s1, b);
    }
    for (; i < n; i += VN) {
        int64_t left = n - i;
        V v = left >= VN ? VLOAD(x + i) : VSEL(VMASKN(left), VLOADN(x + i, left), VSET(-INFINITY));
        V a = TK_FN(exp_v)(VSUB(v, vm));
        if (y) {
            if (left >= VN) VSTORE(y + i, a);
            else VSTOREN(y + i, a, left);
        }
        s0 = VADD(s0, a);
    }
    return VREDSUM(VADD(s0, s1));
}

// y = t * inv over one row, the aligned middle through non-temporal stores.
static inline void TK_FN(row_scale_stream)(int64_t n, const float *t, float inv, float *y) {
    V vi = VSET(inv);
    int64_t head = TK_FN(stream_head)(y, n), j = 0;
    if (head) VSTOREN(y, VMUL(VLOADN(t, head), vi), head);
    for (j = head; j + VN <= n; j += VN) VSTREAM(y + j, VMUL(VLOAD(t + j), vi));
    if (j < n) VSTOREN(y + j, VMUL(VLOADN(t + j, n - j), vi), n - j);
}

// Small blocks keep e^(x - m) in y and rescale it there, in cache. Blocks past
// TK_STREAM_MIN keep it in a row-sized scratch buffer instead and stream the scaled row
// out, which saves the read of every output line that a cached store would make.
void TK_FN(tk_softmax_rows)(int64_t rows, int64_t cols, const float *x, float *y) {
    float *scratch = rows * cols >= TK_STREAM_MIN ? (float *)malloc((size_t)cols * sizeof(float)) : 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = TK_FN(row_max)(cols, xr);
        if (m == -INFINITY) {  // a fully masked row: zeros, not NaN
            for (int64_t j = 0; j < cols; j++) yr[j] = 0.0f;
            continue;
        }
        if (scratch) {
            float inv = 1.0f / TK_FN(row_expsum)(cols, xr, m, scratch);
            TK_FN(row_scale_stream)(cols, scratch, inv, yr);
            continue;
        }
        V inv = VSET(1.0f / TK_FN(row_expsum)(cols, xr, m, yr));
        int64_t j = 0;
        for (; j + VN <= cols; j += VN) VSTORE(yr + j, VMUL(VLOAD(yr + j), inv));
        if (j < cols) VSTOREN(yr + j, VMUL(VLOADN(yr + j, cols - j), inv), cols - j);
    }
    if (scratch) {
        VFENCE();
        free(scratch);
    }
}

void TK_FN(tk_logsumexp_rows)(int64_t rows, int64_t cols, const float *x, float *out) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float m = TK_FN(row_max)(cols, xr);
        if (m == -INFINITY || m == INFINITY) {
            out[r] = m;
            continue;
        }
        out[r] = m + logf(TK_FN(row_expsum)(cols, xr, m, 0));
    }
}

// Sum of x[0:n], two accumulators.
static inline float TK_FN(row_sum)(int64_t n, const float *x) {
    V s0 = VSET(0.0f), s1 = s0;
    int64_t i = 0;
    for (; i + 2 * VN <= n; i += 2 * VN) {
        s0 = VADD(s0, VLOAD(x + i));
        s1 = VADD(s1, VLOAD(x + i + VN));
    }
    for (; i < n; i += VN) s0 = VADD(s0, VLOADN(x + i, n - i < VN ? n - i : VN));
    return VREDSUM(VADD(s0, s1));
}

// Sum of (x - mu)^2 over x[0:n].
static inline float TK_FN(row_sqdev)(int64_t n, const float *x, float mu) {
    V vm = VSET(mu), s0 = VSET(0.0f), s1 = s0;
    int64_t i = 0;
    for (; i + 2 * VN <= n; i += 2 * VN) {
        V d0 = VSUB(VLOAD(x + i), vm), d1 = VSUB(VLOAD(x + i + VN), vm);
        s0 = VFMA(d0, d0, s0);
        s1 = VFMA(d1, d1, s1);
    }
    for (; i < n; i += VN) {
        int64_t left = n - i < VN ? n - i : VN;
        V d = VSEL(VMASKN(left), VSUB(VLOADN(x + i, left), vm), VSET(0.0f));
        s0 = VFMA(d, d, s0);
    }
    return VREDSUM(VADD(s0, s1));
}

// One vector of a normalised row, (x - mu) rs w + b: all VN lanes, or the first `lanes`.
#define TK_NORM_FULL(x, j, vm, vr, w, b)                                                  \
    VFMA(VMUL(VSUB(VLOAD((x) + (j)), vm), vr), (w) ? VLOAD((w) + (j)) : VSET(1.0f),      \
         (b) ? VLOAD((b) + (j)) : VSET(0.0f))
#define TK_NORM_V(x, j, vm, vr, w, b, lanes)                                              \
    VFMA(VMUL(VSUB(VLOADN((x) + (j), lanes), vm), vr), (w) ? VLOADN((w) + (j), lanes) : VSET(1.0f), \
         (b) ? VLOADN((b) + (j), lanes) : VSET(0.0f))

void TK_FN(tk_norm_rows)(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                         float eps, int rms, float *y, float *mean, float *rstd) {
    const int stream = rows * cols >= TK_STREAM_MIN;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float mu = rms ? 0.0f : TK_FN(row_sum)(cols, xr) / (float)cols;
        float rs = 1.0f / sqrtf(TK_FN(row_sqdev)(cols, xr, mu) / (float)cols + eps);
        mean[r] = mu;
        rstd[r] = rs;
        V vm = VSET(mu), vr = VSET(rs);
        int64_t head = stream ? TK_FN(stream_head)(yr, cols) : 0, j = 0;
        if (head) VSTOREN(yr, TK_NORM_V(xr, 0, vm, vr, w, b, head), head);
        for (j = head; j + VN <= cols; j += VN) {
            V v = TK_NORM_FULL(xr, j, vm, vr, w, b);
            if (stream) VSTREAM(yr + j, v);
            else VSTORE(yr + j, v);
        }
        if (j < cols) VSTOREN(yr + j, TK_NORM_V(xr, j, vm, vr, w, b, cols - j), cols - j);
    }
    if (stream) VFENCE();
}
