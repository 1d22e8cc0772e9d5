// mc_activate: FusedActivation's element-wise activations over a float array (and mc_softmax_rows, mc_normalize_rows, mc_binary), compiled three times (AVX-512,
// AVX2, baseline) with the variant picked at load time. The formulas are FastFloat's (Tensor/FastFloat.swift)
// and ActivationMath's, term for term and with contraction off, so the results are the Swift code's bit for bit
// (Tests/TensorTests/CKernelsTests.swift compares them on every kind, NaN and the infinities included).

#include "ckernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#define MC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

static inline float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline int32_t float_to_bits(float f) { int32_t i; memcpy(&i, &f, sizeof i); return i; }

/// FastFloat.exp: Cephes' expf with 2^n applied in two halves.
static inline float mc_exp(float x) {
    const float high = 88.72283f, low = -103.97208f;
    float xc = x > high ? high : (x < low ? low : x);
    const float magic = 12582912.0f;
    float t = xc * 1.44269504088896341f + magic;
    float nf = t - magic;
    int32_t n = float_to_bits(t) - 0x4B400000;
    float r = xc - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1;
    int32_t n1 = n >> 1, n2 = n - (n >> 1);
    float s1 = bits_to_float((uint32_t)(n1 + 127) << 23);
    float s2 = bits_to_float((uint32_t)(n2 + 127) << 23);
    float y = p * s1 * s2;
    return x > high ? INFINITY : (x < low ? 0 : y);
}

static inline float mc_sigmoid(float x) {
    float e = mc_exp(-fabsf(x));
    float q = 1 / (1 + e);
    return x >= 0 ? q : e * q;
}

static inline float mc_tanh(float x) {
    float a = fabsf(x);
    float x2 = x * x;
    float p = 21844.0f / 6081075.0f;
    p = p * x2 - 1382.0f / 155925.0f;
    p = p * x2 + 62.0f / 2835.0f;
    p = p * x2 - 17.0f / 315.0f;
    p = p * x2 + 2.0f / 15.0f;
    p = p * x2 - 1.0f / 3.0f;
    float small = x * (1 + x2 * p);
    float big = 1 - 2 / (mc_exp(2 * a) + 1);
    return a < 0.4f ? small : copysignf(big, x);
}

/// FastFloat.erf: x clamped to [-4, 4], an odd degree-13 over an even degree-8 polynomial.
static inline float mc_erf(float x) {
    float c = x > 4 ? 4 : (x < -4 ? -4 : x);
    float x2 = c * c;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 - 2.10102402082508e-06f;
    p = p * x2 - 5.69250639462346e-05f;
    p = p * x2 - 7.34990630326855e-04f;
    p = p * x2 - 2.95459980854025e-03f;
    p = p * x2 - 1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 - 2.13374055278905e-04f;
    q = q * x2 - 1.68282697438203e-03f;
    q = q * x2 - 7.37332916720468e-03f;
    q = q * x2 - 1.42647390514189e-02f;
    return c * p / q;
}

// Swift's min/max: min(a, b) is b < a ? b : a, max(a, b) is b >= a ? b : a (a NaN in b is dropped).
static inline float mc_min(float a, float b) { return b < a ? b : a; }
static inline float mc_max(float a, float b) { return b >= a ? b : a; }

MC_CLONES
void mc_activate(float *y, long n, int kind, float alpha, float beta) {
    switch (kind) {
    case MC_ACT_RELU:
        for (long i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0;
        break;
    case MC_ACT_LEAKY_RELU:
        for (long i = 0; i < n; i++) y[i] = y[i] >= 0 ? y[i] : y[i] * alpha;
        break;
    case MC_ACT_CLIP:
        for (long i = 0; i < n; i++) y[i] = mc_min(mc_max(y[i], alpha), beta);
        break;
    case MC_ACT_SIGMOID:
        for (long i = 0; i < n; i++) y[i] = mc_sigmoid(y[i]);
        break;
    case MC_ACT_TANH:
        for (long i = 0; i < n; i++) y[i] = mc_tanh(y[i]);
        break;
    case MC_ACT_HARD_SIGMOID:
        for (long i = 0; i < n; i++) y[i] = mc_max(0, mc_min(1, alpha * y[i] + beta));
        break;
    case MC_ACT_HARD_SWISH:
        for (long i = 0; i < n; i++) y[i] = y[i] * mc_max(0, mc_min(1, y[i] / 6 + 0.5f));
        break;
    case MC_ACT_SILU:
        for (long i = 0; i < n; i++) y[i] = y[i] * mc_sigmoid(y[i]);
        break;
    case MC_ACT_GELU:
        for (long i = 0; i < n; i++) y[i] = y[i] * 0.5f * (1 + mc_erf(y[i] * 0.70710678118654752f));
        break;
    default:
        break;
    }
}

MC_CLONES
void mc_softmax_rows(const float *x, float *y, long rows, long n) {
    // The max and the sum in 16 lanes: a loop-carried float reduction (strict order, no fast-math) would keep
    // the compiler from vectorising its loop, exp included.
    enum { LANES = 16 };
    const long body = n / LANES * LANES;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float lanes[LANES];
        for (int l = 0; l < LANES; l++) lanes[l] = -INFINITY;
        for (long i = 0; i < body; i += LANES) {
            for (int l = 0; l < LANES; l++) lanes[l] = xr[i + l] > lanes[l] ? xr[i + l] : lanes[l];
        }
        float top = -INFINITY;
        for (int l = 0; l < LANES; l++) top = lanes[l] > top ? lanes[l] : top;
        for (long i = body; i < n; i++) top = xr[i] > top ? xr[i] : top;
        for (long i = 0; i < n; i++) yr[i] = mc_exp(xr[i] - top);
        for (int l = 0; l < LANES; l++) lanes[l] = 0;
        for (long i = 0; i < body; i += LANES) {
            for (int l = 0; l < LANES; l++) lanes[l] += yr[i + l];
        }
        float sum = 0;
        for (int l = 0; l < LANES; l++) sum += lanes[l];
        for (long i = body; i < n; i++) sum += yr[i];
        const float scale = 1 / sum;
        for (long i = 0; i < n; i++) yr[i] *= scale;
    }
}

// Each case one loop the compiler vectorises; a stride of 0 is a scalar operand.
#define MC_BINARY_LOOPS(expr)                                                          \
    if (sa == 1 && sb == 1) {                                                          \
        for (long i = 0; i < n; i++) { float x = a[i], z = b[i]; y[i] = expr; }        \
    } else if (sa == 1) {                                                              \
        const float z = b[0];                                                          \
        for (long i = 0; i < n; i++) { float x = a[i]; y[i] = expr; }                  \
    } else if (sb == 1) {                                                              \
        const float x = a[0];                                                          \
        for (long i = 0; i < n; i++) { float z = b[i]; y[i] = expr; }                  \
    } else {                                                                           \
        const float x = a[0], z = b[0];                                                \
        for (long i = 0; i < n; i++) y[i] = expr;                                      \
    }

MC_CLONES
void mc_binary(int op, const float *a, long sa, const float *b, long sb, float *y, long n) {
    switch (op) {
    case MC_ADD: MC_BINARY_LOOPS(x + z) break;
    case MC_SUB: MC_BINARY_LOOPS(x - z) break;
    case MC_MUL: MC_BINARY_LOOPS(x * z) break;
    case MC_DIV: MC_BINARY_LOOPS(x / z) break;
    default: break;
    }
}

MC_CLONES
void mc_normalize_rows(const float *x, float *y, long rows, long n, float eps) {
    enum { LANES = 8 };
    const long body = n / LANES * LANES;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double lanes[LANES] = {0};
        for (long i = 0; i < body; i += LANES) {
            for (int l = 0; l < LANES; l++) lanes[l] += xr[i + l];
        }
        double sum = 0;
        for (int l = 0; l < LANES; l++) sum += lanes[l];
        for (long i = body; i < n; i++) sum += xr[i];
        const float mean = (float)(sum / (double)n);
        for (int l = 0; l < LANES; l++) lanes[l] = 0;
        for (long i = 0; i < body; i += LANES) {
            for (int l = 0; l < LANES; l++) { double d = (double)(xr[i + l] - mean); lanes[l] += d * d; }
        }
        double squares = 0;
        for (int l = 0; l < LANES; l++) squares += lanes[l];
        for (long i = body; i < n; i++) { double d = (double)(xr[i] - mean); squares += d * d; }
        const float deviation = sqrtf((float)(squares / (double)n) + eps);
        for (long i = 0; i < n; i++) yr[i] = (xr[i] - mean) / deviation;
    }
}
