#ifndef MANGACOLOR_CKERNELS_H
#define MANGACOLOR_CKERNELS_H
// Element-wise and depthwise-convolution inner loops in C, so that each can be compiled for AVX-512, AVX2 and
// the baseline x86-64 at once and picked when the program starts (clang's target_clones: one ifunc per
// function, resolved from CPUID). Swift has no per-function target attribute, and the package is built for
// the baseline so that the binary runs on any x86-64; these loops are where the wider vectors pay.
// Callers (Tensor: FusedActivation.swift, DepthwiseConvolution.swift) own threading and memory; nothing here
// allocates. Layouts: row-major float32; a plane is H x W.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The activations a kernel may apply to its output (FusedActivation's cases, same formulas).
enum mc_activation {
    MC_ACT_NONE = 0,
    MC_ACT_RELU = 1,
    MC_ACT_LEAKY_RELU = 2,   // alpha: the negative slope
    MC_ACT_CLIP = 3,         // alpha, beta: lower, upper
    MC_ACT_SIGMOID = 4,
    MC_ACT_TANH = 5,
    MC_ACT_HARD_SIGMOID = 6, // max(0, min(1, alpha x + beta))
    MC_ACT_HARD_SWISH = 7,   // x max(0, min(1, x / 6 + 1 / 2))
    MC_ACT_SILU = 8,         // x sigmoid(x)
    MC_ACT_GELU = 9,         // x (1 + erf(x / sqrt 2)) / 2
};

/// Whether this CPU runs `mc_sgemm` (AVX-512F).
int mc_sgemm_available(void);

/// C = alpha op(A) op(B) + beta C, row-major (BLAS's sgemm contract; beta 0: C is not read), on one thread with
/// AVX-512 (gemm.c). Returns 0, doing nothing, where it cannot run (no AVX-512, no memory for its panels):
/// the caller then uses BLAS.
int mc_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc);

/// Floats of op(A) (m x k) packed once for `mc_sgemm_prepacked_a` (a layer's weights, reused across calls).
long mc_sgemm_packed_a_floats(long m, long k);

/// Packs op(A) (m x k; trans_a: A stored k x m) into `packed` (mc_sgemm_packed_a_floats of them).
void mc_sgemm_pack_a(int trans_a, long m, long k, const float *a, long lda, float *packed);

/// C = alpha A op(B) + beta C with A packed by `mc_sgemm_pack_a`; 0 where it cannot run (then use mc_sgemm
/// or BLAS on the unpacked A).
int mc_sgemm_prepacked_a(long m, long n, long k, float alpha, const float *packed_a, int trans_b, const float *b,
                         long ldb, float beta, float *c, long ldc);

/// y[i] = activation(y[i]) for i < n, in place.
void mc_activate(float *y, long n, int kind, float alpha, float beta);

/// The four arithmetic operations of `mc_binary`.
enum mc_arithmetic { MC_ADD = 0, MC_SUB = 1, MC_MUL = 2, MC_DIV = 3 };

/// y[i] = a[i sa] op b[i sb] for i < n, sa and sb each 0 (a scalar) or 1. IEEE single operations, so the results
/// are those of a scalar loop bit for bit.
void mc_binary(int op, const float *a, long sa, const float *b, long sb, float *y, long n);

/// Each of `rows` contiguous rows of n floats normalised: y = (x - mean) / sqrt(var + eps), mean and (biased)
/// variance of the row accumulated in double. x and y may be the same.
void mc_normalize_rows(const float *x, float *y, long rows, long n, float eps);

/// Softmax along each of `rows` contiguous rows of n floats: y = exp(x - max) / sum (FastFloat.exp's formula).
/// x and y may be the same.
void mc_softmax_rows(const float *x, float *y, long rows, long n);

/// Geometry of one depthwise plane: input IH x IW, output OH x OW, kernel KH x KW, strides, dilations, the
/// leading pads (trailing pads are implied by the output size).
typedef struct {
    long ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw;
} mc_depthwise_geometry;

/// Floats of scratch memory `mc_depthwise_plane` needs for geometry g.
size_t mc_depthwise_scratch_floats(const mc_depthwise_geometry *g);

/// One input plane x (IH x IW) convolved with `multiplier` filters w (multiplier x KH x KW), each plus
/// bias[j] (bias may be NULL), then the activation: output plane j (OH x OW) at y + j * y_stride.
/// scratch holds mc_depthwise_scratch_floats(g) floats.
void mc_depthwise_plane(const float *x, const float *w, const float *bias, long multiplier, float *y,
                        long y_stride, const mc_depthwise_geometry *g, float *scratch, int activation,
                        float alpha, float beta);

/// The CPUs this process may run on (its affinity mask), at least 1.
int mc_available_cpus(void);

/// A spin-wait hint (x86 PAUSE): for WorkerPool's threads waiting for the next job.
static inline void mc_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#ifdef __cplusplus
}
#endif

#endif
