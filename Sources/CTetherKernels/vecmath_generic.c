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
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}
void tk_vgelu_tanh_generic(int64_t n, const float *x, float *y) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
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
