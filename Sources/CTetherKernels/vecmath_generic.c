// Portable vector math (libm per element); the SIMD variants replace these per ISA.
#include "kernels_internal.h"
#include <math.h>

void tk_vexp_generic(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
}
void tk_vlog_generic(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]);
}
void tk_vtanh_generic(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}
void tk_vsigmoid_generic(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) {
        float t = expf(-fabsf(x[i]));  // <= 1: nothing overflows
        y[i] = (x[i] >= 0 ? 1.0f : t) / (1.0f + t);
    }
}
// 0.5 x (1 + tanh u) written as x sigmoid(2u), which does not cancel for negative x.
void tk_vgelu_tanh_generic(int64_t n, const float *x, float *y) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float u2 = 2.0f * k * v * (1.0f + 0.044715f * v * v);
        float t = expf(-fabsf(u2));
        y[i] = v * (u2 >= 0 ? 1.0f : t) / (1.0f + t);
    }
}
void tk_softmax_rows_generic(int64_t rows, int64_t cols, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = -INFINITY;
        for (int64_t j = 0; j < cols; j++) m = xr[j] > m ? xr[j] : m;
        if (m == -INFINITY) {  // a fully masked row: all zeros rather than NaN
            for (int64_t j = 0; j < cols; j++) yr[j] = 0.0f;
            continue;
        }
        float s = 0.0f;
        for (int64_t j = 0; j < cols; j++) { yr[j] = expf(xr[j] - m); s += yr[j]; }
        float inv = 1.0f / s;
        for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
    }
}
void tk_logsumexp_rows_generic(int64_t rows, int64_t cols, const float *x, float *out) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float m = -INFINITY;
        for (int64_t j = 0; j < cols; j++) m = xr[j] > m ? xr[j] : m;
        if (m == -INFINITY || m == INFINITY) { out[r] = m; continue; }
        float s = 0.0f;
        for (int64_t j = 0; j < cols; j++) s += expf(xr[j] - m);
        out[r] = m + logf(s);
    }
}
void tk_norm_rows_generic(int64_t rows, int64_t cols, const float *x, const float *w, const float *b,
                          float eps, int rms, float *y, float *mean, float *rstd) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float mu = 0.0f, v = 0.0f;
        if (!rms) {
            for (int64_t j = 0; j < cols; j++) mu += xr[j];
            mu /= (float)cols;
        }
        for (int64_t j = 0; j < cols; j++) v += (xr[j] - mu) * (xr[j] - mu);
        float rs = 1.0f / sqrtf(v / (float)cols + eps);
        mean[r] = mu;
        rstd[r] = rs;
        for (int64_t j = 0; j < cols; j++)
            yr[j] = (xr[j] - mu) * rs * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
    }
}
