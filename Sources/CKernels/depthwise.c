// mc_depthwise_plane: one channel of a depthwise convolution (DepthwiseConvolution.swift calls it per plane,
// on its own threads), compiled for AVX-512, AVX2 and the baseline, picked at load time.
//
// Method. The zero-padded input P (P[Y][X] = x[Y - PH][X - PW], 0 outside) is split into SH x SW polyphase
// sub-planes, Sub(a, b)[r][j] = P[SH r + a][SW j + b], each of S_H x S_W = (OH + (KH-1)DH/SH) x
// (OW + (KW-1)DW/SW). Tap (ky, kx) of output (oy, ox) reads P[SH oy + DH ky][SW ox + DW kx] =
// Sub((DH ky) mod SH, (DW kx) mod SW)[oy + DH ky / SH][ox + DW kx / SW]: at flattened index i = oy S_W + ox that
// is one constant offset per tap, for every stride and dilation. So the output, laid out with row stride S_W,
// is sum_t w_t Sub_t[i + offset_t] over one long contiguous range of i: blocks of 64 outputs kept in vector
// registers while every tap adds its shifted row, no edge cases and no short rows (a 7x7 or 14x14 plane is
// one or a few blocks, not 7 rows of 7). The S_W - OW columns past each row are computed and dropped on the
// copy out, where the activation is applied.

#include "ckernels.h"

#include <string.h>

#define MC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

enum { MC_BLOCK = 64 };

static long sub_height(const mc_depthwise_geometry *g) { return g->oh + (g->kh - 1) * g->dh / g->sh; }
static long sub_width(const mc_depthwise_geometry *g) { return g->ow + (g->kw - 1) * g->dw / g->sw; }
static long ceil_div(long a, long b) { return a <= 0 ? 0 : (a + b - 1) / b; }

// Scratch layout, in floats: the taps' offsets (longs, 2 floats each, rounded up to 16), the sub-planes,
// a slack of S_W + 64 zeros (the last block's reads past the last sub-plane), the accumulated output.
static long offsets_floats(const mc_depthwise_geometry *g) { return (2 * g->kh * g->kw + 15) / 16 * 16; }
static long planes_floats(const mc_depthwise_geometry *g) { return g->sh * g->sw * sub_height(g) * sub_width(g); }
static long slack_floats(const mc_depthwise_geometry *g) { return sub_width(g) + MC_BLOCK; }

size_t mc_depthwise_scratch_floats(const mc_depthwise_geometry *g) {
    long out = (g->oh * sub_width(g) + MC_BLOCK - 1) / MC_BLOCK * MC_BLOCK;
    return (size_t)(offsets_floats(g) + planes_floats(g) + slack_floats(g) + out);
}

MC_CLONES
void mc_depthwise_plane(const float *x, const float *w, const float *bias, long multiplier, float *y,
                        long y_stride, const mc_depthwise_geometry *g, float *scratch, int activation,
                        float alpha, float beta) {
    const long sh = g->sh, sw = g->sw, ih = g->ih, iw = g->iw, oh = g->oh, ow = g->ow;
    const long height = sub_height(g), width = sub_width(g), size = height * width;
    const long taps = g->kh * g->kw;
    long *offsets = (long *)scratch;
    float *subs = scratch + offsets_floats(g);
    float *acc = subs + planes_floats(g) + slack_floats(g);
    for (long ky = 0; ky < g->kh; ky++) {
        for (long kx = 0; kx < g->kw; kx++) {
            long a = ky * g->dh % sh, b = kx * g->dw % sw;
            offsets[ky * g->kw + kx] = (a * sw + b) * size + ky * g->dh / sh * width + kx * g->dw / sw;
        }
    }
    for (long a = 0; a < sh; a++) {
        for (long b = 0; b < sw; b++) {
            float *sub = subs + (a * sw + b) * size;
            // Columns j whose input column sw j + b - pw lies in [0, iw).
            long lo = ceil_div(g->pw - b, sw), hi = ceil_div(iw + g->pw - b, sw);
            if (hi > width) hi = width;
            if (lo > hi) lo = hi;
            for (long r = 0; r < height; r++) {
                float *row = sub + r * width;
                long source = sh * r + a - g->ph;
                if (source < 0 || source >= ih) {
                    memset(row, 0, (size_t)width * sizeof(float));
                    continue;
                }
                const float *xr = x + source * iw + b - g->pw;
                for (long j = 0; j < lo; j++) row[j] = 0;
                if (sw == 1) {
                    memcpy(row + lo, xr + lo, (size_t)(hi - lo) * sizeof(float));
                } else {
                    for (long j = lo; j < hi; j++) row[j] = xr[sw * j];
                }
                for (long j = hi; j < width; j++) row[j] = 0;
            }
        }
    }
    memset(subs + planes_floats(g), 0, (size_t)slack_floats(g) * sizeof(float));
    const long count = oh * width;
    for (long m = 0; m < multiplier; m++) {
        const float *wm = w + m * taps;
        const float start = bias ? bias[m] : 0;
        for (long i0 = 0; i0 < count; i0 += MC_BLOCK) {
            float s[MC_BLOCK];
            for (int q = 0; q < MC_BLOCK; q++) s[q] = start;
            for (long t = 0; t < taps; t++) {
                const float wt = wm[t];
                const float *source = subs + offsets[t] + i0;
                for (int q = 0; q < MC_BLOCK; q++) s[q] += wt * source[q];
            }
            memcpy(acc + i0, s, sizeof s);
        }
        float *ym = y + m * y_stride;
        for (long oy = 0; oy < oh; oy++) memcpy(ym + oy * ow, acc + oy * width, (size_t)ow * sizeof(float));
        if (activation != MC_ACT_NONE) mc_activate(ym, oh * ow, activation, alpha, beta);
    }
}
