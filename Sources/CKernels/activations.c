// mc_activate: FusedActivation's element-wise activations over a float array, compiled three times (AVX-512,
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
    default:
        break;
    }
}
