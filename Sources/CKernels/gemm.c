// mc_sgemm: C = alpha op(A) op(B) + beta C, row-major, single-threaded, with AVX-512 (Gemm.swift splits the
// work over the threads and calls this per block; without AVX-512 it uses OpenBLAS instead).
//
// Why our own: OpenBLAS chooses its kernels per CPU model when it loads, and where it cannot trust a CPU
// (OPENBLAS_CORETYPE=Haswell is set on machines whose newer cores older OpenBLAS builds mishandle) it runs
// 8-wide AVX2 kernels on hardware with 16-wide AVX-512 FMA: half the speed onnxruntime gets there. This is the
// GotoBLAS / BLIS scheme at one cache level:
//
//   for each NC-wide block of C's columns:
//     for each KC-deep slice of k:             pack op(B)[k slice, block] into NR-wide panels (zero-padded)
//       for each MC-tall block of rows:        pack op(A)[rows, k slice] into MR-tall panels (zero-padded)
//         for each NR panel, each MR panel:    the 8 x 48 micro-kernel: 24 zmm accumulators over the slice,
//                                              then C = alpha acc + beta C (first slice) or C += alpha acc
//
// The C block (MC x NC) stays in L2 across the k slices; 8-row panels fit channel counts (8, 16, 64, ...)
// without padding.
//
// Every element of C is summed in the same order (k ascending, slice by slice), whatever its position, so
// equal rows or columns give equal results. Pack buffers are per thread and grow as needed.

#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

enum { MR = 8, NR = 48, KC = 256, MC = 128, NC = 480 };

static _Thread_local float *pack_a, *pack_b;
static _Thread_local size_t pack_a_size, pack_b_size;

// Rows rounded up to whole MR-row panels.
static long padded_rows(long m) { return (m + MR - 1) / MR * MR; }

static float *grow(float **buffer, size_t *size, size_t floats) {
    if (*size < floats) {
        free(*buffer);
        *buffer = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        *size = *buffer ? floats : 0;
    }
    return *buffer;
}

// r[i][j] <- r[j][i]: a 16 x 16 block transposed in registers (unpack, then 128-bit lane shuffles).
__attribute__((target("avx512f")))
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int h = 0; h < 2; h++) {
        for (int i = 0; i < 4; i++) {
            t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + i + 4], 0x88);
            t[8 * h + i + 4] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + i + 4], 0xdd);
        }
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

// Rows src[0 .. rows) (row stride ld, rows <= 16) at columns p ..< p + 16 (only `width` <= 16 of them valid):
// column x of that block goes to dst + x * dst_stride, `lanes` (8 or 16) values, zeros past `rows`.
__attribute__((target("avx512f")))
static inline void transpose_block(const float *src, long ld, long rows, long width, float *dst, long dst_stride,
                                   int lanes) {
    __m512 r[16];
    __mmask16 mask = width >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1);
    for (long i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(mask, src + i * ld) : _mm512_setzero_ps();
    transpose16(r);
    for (long x = 0; x < width; x++) {
        if (lanes == 16) _mm512_storeu_ps(dst + x * dst_stride, r[x]);
        else _mm256_storeu_ps(dst + x * dst_stride, _mm512_castps512_ps256(r[x]));
    }
}

// op(A)[i0 ..< i0 + mc][p0 ..< p0 + kc] into panels of MR rows: panel r holds, for each p, the MR values of
// rows i0 + MR r ..< i0 + MR (r + 1) (zeros past mc).
__attribute__((target("avx512f")))
static void pack_a_block(int trans, const float *a, long lda, long i0, long mc, long p0, long kc, float *out) {
    for (long r = 0; r < mc; r += MR) {
        long rows = mc - r < MR ? mc - r : MR;
        float *panel = out + (r / MR) * MR * kc;
        if (trans) {
            // A stored k x m: each p's MR values are contiguous.
            for (long p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + r;
                for (long i = 0; i < rows; i++) panel[p * MR + i] = src[i];
                for (long i = rows; i < MR; i++) panel[p * MR + i] = 0;
            }
        } else {
            // MR rows x 16 columns at a time, transposed in registers.
            for (long p = 0; p < kc; p += 16) {
                transpose_block(a + (i0 + r) * lda + p0 + p, lda, rows, kc - p < 16 ? kc - p : 16, panel + p * MR, MR, MR);
            }
        }
    }
}

// op(B)[p0 ..< p0 + kc][j0 ..< j0 + nc] into panels of NR columns, each kc x NR (zeros past nc).
__attribute__((target("avx512f")))
static void pack_b_block(int trans, const float *b, long ldb, long p0, long kc, long j0, long nc, float *out) {
    for (long s = 0; s < nc; s += NR) {
        long cols = nc - s < NR ? nc - s : NR;
        float *panel = out + (s / NR) * NR * kc;
        if (!trans) {
            for (long p = 0; p < kc; p++) {
                const float *src = b + (p0 + p) * ldb + j0 + s;
                float *dst = panel + p * NR;
                if (cols == NR) {
                    memcpy(dst, src, NR * sizeof(float));
                } else {
                    memcpy(dst, src, (size_t)cols * sizeof(float));
                    memset(dst + cols, 0, (size_t)(NR - cols) * sizeof(float));
                }
            }
        } else {
            // B stored n x k: column j of op(B) is row j of B; 16 rows x 16 columns at a time, transposed in
            // registers (zeros past the last row).
            for (long g = 0; g < NR; g += 16) {
                long rows = cols - g < 0 ? 0 : cols - g < 16 ? cols - g : 16;
                for (long p = 0; p < kc; p += 16) {
                    transpose_block(b + (j0 + s + g) * ldb + p0 + p, ldb, rows, kc - p < 16 ? kc - p : 16,
                                    panel + p * NR + g, NR, 16);
                }
            }
        }
    }
}

// The 8 x 48 tile of C at c (mr x nr valid) from packed panels over kc: first slice: alpha acc + beta C
// (beta 0: C not read); later slices: C + alpha acc. `nv` (1 to 3) vectors of 16 columns are computed: the
// ragged last panel of a row costs only the vectors it needs. Inlined with nv constant.
__attribute__((target("avx512f"), always_inline))
static inline void micro_body(long kc, const float *ap, const float *bp, long bstride, float *c, long ldc, long mr,
                              long nr, float alpha, float beta, int first, int transposed_c, const int nv) {
    __mmask16 mask[3];
    for (int j = 0; j < 3; j++) {
        long left = nr - 16 * j;
        mask[j] = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
    }
    __m512 acc[MR][3];
    for (int i = 0; i < MR; i++) for (int j = 0; j < nv; j++) acc[i][j] = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        const float *bk = bp + p * bstride;
        __m512 bv[3];
        for (int j = 0; j < nv; j++) bv[j] = _mm512_maskz_loadu_ps(mask[j], bk + 16 * j);
        const float *ak = ap + p * MR;
        for (int i = 0; i < MR; i++) {
            __m512 av = _mm512_set1_ps(ak[i]);
            for (int j = 0; j < nv; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (transposed_c) {
        // The tile is C^T's: element (i, j) goes to c[j ldc + i].
        float tile[MR][NR] __attribute__((aligned(64)));
        for (int i = 0; i < MR; i++) for (int j = 0; j < nv; j++) _mm512_store_ps(&tile[i][16 * j], acc[i][j]);
        for (long j = 0; j < nr; j++) {
            float *col = c + j * ldc;
            for (long i = 0; i < mr; i++) {
                float r = alpha * tile[i][j];
                col[i] = !first ? col[i] + r : beta != 0 ? beta * col[i] + r : r;
            }
        }
        return;
    }
    for (long i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        for (int j = 0; j < nv; j++) {
            __m512 r = _mm512_mul_ps(va, acc[i][j]);
            if (!first) {
                r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask[j], row + 16 * j));
            } else if (beta != 0) {
                r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[j], row + 16 * j), r);
            }
            _mm512_mask_storeu_ps(row + 16 * j, mask[j], r);
        }
    }
}

__attribute__((target("avx512f")))
static void micro_kernel(long kc, const float *ap, const float *bp, long bstride, float *c, long ldc, long mr,
                         long nr, float alpha, float beta, int first, int transposed_c) {
    if (nr > 32) micro_body(kc, ap, bp, bstride, c, ldc, mr, nr, alpha, beta, first, transposed_c, 3);
    else if (nr > 16) micro_body(kc, ap, bp, bstride, c, ldc, mr, nr, alpha, beta, first, transposed_c, 2);
    else micro_body(kc, ap, bp, bstride, c, ldc, mr, nr, alpha, beta, first, transposed_c, 1);
}

__attribute__((target("avx512f")))
static int gemm_blocks(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc, int transposed_c,
                       const float *prepacked_a) {
    long kc_max = k < KC ? k : KC;
    // Few rows and a short k (a first 3x3 convolution on RGB: k 27): each B panel would serve one or two row
    // panels and packing it costs as much as using it, so the kernel reads op(B) in place (masked at the
    // block's edge). With a longer k the in-place rows are too many pages apart: packing wins again.
    int direct_b = !trans_b && m <= 2 * MR && k <= 32 && !transposed_c;
    long nc_max = (n < NC ? n : NC), mc_max = (m < MC ? m : MC);
    float *bp = grow(&pack_b, &pack_b_size, (size_t)((nc_max + NR - 1) / NR * NR * kc_max));
    float *ap = prepacked_a ? NULL : grow(&pack_a, &pack_a_size, (size_t)(padded_rows(mc_max) * kc_max));
    if (!bp || (!ap && !prepacked_a)) return 0;
    const long m_padded = padded_rows(m);
    for (long j0 = 0; j0 < n; j0 += NC) {
        long nc = n - j0 < NC ? n - j0 : NC;
        for (long p0 = 0; p0 < k; p0 += KC) {
            long kc = k - p0 < KC ? k - p0 : KC;
            if (!direct_b) pack_b_block(trans_b, b, ldb, p0, kc, j0, nc, bp);
            for (long i0 = 0; i0 < m; i0 += MC) {
                long mc = m - i0 < MC ? m - i0 : MC;
                // A prepacked once (mc_sgemm_pack_a: slice p0 at p0 m_padded, its panels in row order) or now.
                const float *ablock = prepacked_a ? prepacked_a + p0 * m_padded + i0 * kc : ap;
                if (!prepacked_a) pack_a_block(trans_a, a, lda, i0, mc, p0, kc, ap);
                for (long s = 0; s < nc; s += NR) {
                    long nr = nc - s < NR ? nc - s : NR;
                    for (long r = 0; r < mc; r += MR) {
                        long mr = mc - r < MR ? mc - r : MR;
                        const float *panel = direct_b ? b + p0 * ldb + j0 + s : bp + (s / NR) * NR * kc;
                        micro_kernel(kc, ablock + (r / MR) * MR * kc, panel, direct_b ? ldb : NR,
                                     transposed_c ? c + (j0 + s) * ldc + i0 + r : c + (i0 + r) * ldc + j0 + s, ldc,
                                     mr, nr, alpha, beta, p0 == 0, transposed_c);
                    }
                }
            }
        }
    }
    return 1;
}

// The share of the computed tiles' elements that are C's (the rest is padding: rows to 8, columns to 16).
static double tile_use(long rows, long cols) {
    return (double)(rows * cols) / (double)(((rows + MR - 1) / MR * MR) * ((cols + 15) / 16 * 16));
}

// A narrow C (a 1x1 convolution on a 7x7 map: 512 x 49) wastes a quarter of its 16-wide vectors; its transpose
// C^T = op(B)^T op(A)^T fills 8-row tiles instead, at the cost of writing the tiles transposed.
__attribute__((target("avx512f")))
static int sgemm_avx512(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc) {
    if (tile_use(n, m) > 1.15 * tile_use(m, n)) {
        return gemm_blocks(!trans_b, !trans_a, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc, 1, NULL);
    }
    return gemm_blocks(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, NULL);
}

long mc_sgemm_packed_a_floats(long m, long k) { return padded_rows(m) * k; }

__attribute__((target("avx512f")))
static void pack_whole_a(int trans_a, long m, long k, const float *a, long lda, float *packed) {
    for (long p0 = 0; p0 < k; p0 += KC) {
        long kc = k - p0 < KC ? k - p0 : KC;
        pack_a_block(trans_a, a, lda, 0, m, p0, kc, packed + p0 * padded_rows(m));
    }
}

void mc_sgemm_pack_a(int trans_a, long m, long k, const float *a, long lda, float *packed) {
    if (m > 0 && k > 0 && mc_sgemm_available()) pack_whole_a(trans_a, m, k, a, lda, packed);
}

int mc_sgemm_prepacked_a(long m, long n, long k, float alpha, const float *packed_a, int trans_b, const float *b,
                         long ldb, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0 || k <= 0 || !mc_sgemm_available()) return 0;
    return gemm_blocks(0, trans_b, m, n, k, alpha, NULL, 0, b, ldb, beta, c, ldc, 0, packed_a);
}

// Asked on every product: the CPU is queried once (a benign race: every thread stores the same answer).
int mc_sgemm_available(void) {
    static int available = -1;
    if (available < 0) {
        __builtin_cpu_init();
        available = __builtin_cpu_supports("avx512f") ? 1 : 0;
    }
    return available;
}

int mc_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0 || k <= 0 || !mc_sgemm_available()) return 0;
    return sgemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

#else

int mc_sgemm_available(void) { return 0; }

long mc_sgemm_packed_a_floats(long m, long k) { (void)m; (void)k; return 0; }

void mc_sgemm_pack_a(int trans_a, long m, long k, const float *a, long lda, float *packed) {
    (void)trans_a; (void)m; (void)k; (void)a; (void)lda; (void)packed;
}

int mc_sgemm_prepacked_a(long m, long n, long k, float alpha, const float *packed_a, int trans_b, const float *b,
                         long ldb, float beta, float *c, long ldc) {
    (void)m; (void)n; (void)k; (void)alpha; (void)packed_a; (void)trans_b; (void)b; (void)ldb; (void)beta;
    (void)c; (void)ldc;
    return 0;
}

int mc_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
             const float *b, long ldb, float beta, float *c, long ldc) {
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda;
    (void)b; (void)ldb; (void)beta; (void)c; (void)ldc;
    return 0;
}

#endif
