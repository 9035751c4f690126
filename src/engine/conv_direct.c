/* conv_direct.c — 3x3 stride-1 pad-1 convolution computed directly on AVX-512, without
 * im2col.
 *
 * At NB201 sizes (8 to 32 channels) an im2col copies 9 floats per input float and the
 * GEMM then does only 2*OC flops per copied float: at C=8, 28x28 the copy costs about as
 * much as the multiplies. Here each image is copied once into zero-bordered planes of
 * width Wp = W+2, and an output position q = h*Wp + w (w < W; the two extra columns are
 * junk, dropped when the result is stored) reads in[q + ky*Wp + kx] for tap (ky,kx), so
 * the 9 taps are 9 shifted contiguous loads. The kernel keeps 8 output channels x 1-3
 * vectors of 16 positions in registers and does 8 FMAs per loaded input vector.
 *
 * The input gradient is the same kernel over the bordered dy with the flipped, transposed
 * weights; the weight gradient is 9 GEMMs per image (one per tap) over strided views of
 * the same bordered copies: dy read at offset Wp+1 (so junk positions read zero borders)
 * times x shifted by the tap. Summation orders are fixed: results are deterministic, and
 * differ from the im2col path in the last bits. */
#include "engine/conv.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CONVD_BUILT 1
#define TGT __attribute__((target("avx512f")))
#else
#define CONVD_BUILT 0
#endif

int lay_direct = -1;

/* Geometry shared by the functions below. */
typedef struct {
    int Wp;        /* bordered plane width */
    size_t ps;     /* floats per bordered plane, with >= 16 floats of zero slack */
    int nq;        /* 16-float vectors covering the positions [0, (H-1)*Wp + W) */
    size_t ldo;    /* nq * 16 */
} geo_t;

static geo_t geo(int H, int W) {
    geo_t g;
    g.Wp = W + 2;
    g.ps = ((size_t)(H + 2) * g.Wp + 16 + 15) / 16 * 16;
    size_t Q = (size_t)(H - 1) * g.Wp + W;
    g.nq = (int)((Q + 15) / 16);
    g.ldo = (size_t)g.nq * 16;
    return g;
}

size_t convd_ws_floats(int C, int H, int W, int OC) {
    geo_t g = geo(H, W);
    size_t wk = (size_t)OC * C * 9;
    /* xp, dyp, one 8-channel output block, packed weights, per-tap weight gradients */
    return (size_t)C * g.ps + (size_t)OC * g.ps + 8 * g.ldo + 2 * wk;
}

int convd_use(int C, int W, int OC, int need_dx) {
    if (lay_direct < 0) {
        const char *e = getenv("SIGEO_DIRECT");
#if CONVD_BUILT
        lay_direct = !(e && e[0] == '0') && __builtin_cpu_supports("avx512f");
#else
        (void)e;
        lay_direct = 0;
#endif
    }
    /* With an input gradient, im2col's one im2col of dy feeds both GEMMs: direct is 7%
     * faster at 28x28, equal at 14x14, 35% slower at 7x7 (docs/engine.md), so it takes
     * only wide planes. Without dx (the stem) it is 2x faster. */
    return lay_direct && OC % 8 == 0 && (!need_dx || (C % 8 == 0 && W >= 20));
}

#if CONVD_BUILT

/* Copy the (n, H, W) planes of x into the interiors of the bordered planes of p. */
static void border_copy(float *p, const float *x, int n, int H, int W, const geo_t *g) {
    for (int c = 0; c < n; c++)
        for (int h = 0; h < H; h++)
            memcpy(p + c * g->ps + (size_t)(h + 1) * g->Wp + 1, x + ((size_t)c * H + h) * W,
                   sizeof(float) * W);
}

/* out[o][q .. q+16*NV) for 8 output channels = sum over NI input planes and 9 taps of
 * wp[c][k][o] * in[c][q + ky*Wp + kx]. */
#define DBLOCK(NV)                                                                          \
    TGT static void dblock##NV(float *out, size_t ldo, const float *in, size_t ps, int NI,  \
                               const float *wp, int Wp) {                                   \
        __m512 acc[8][NV];                                                                  \
        _Pragma("GCC unroll 8") for (int o = 0; o < 8; o++)                                 \
            _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) acc[o][v] =                \
                _mm512_setzero_ps();                                                        \
        for (int c = 0; c < NI; c++, in += ps, wp += 72)                                    \
            _Pragma("GCC unroll 9") for (int k = 0; k < 9; k++) {                           \
                const float *s = in + (k / 3) * Wp + k % 3;                                 \
                __m512 xv[NV];                                                              \
                _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) xv[v] =                \
                    _mm512_loadu_ps(s + 16 * v);                                            \
                _Pragma("GCC unroll 8") for (int o = 0; o < 8; o++) {                       \
                    __m512 wb = _mm512_set1_ps(wp[k * 8 + o]);                              \
                    _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++) acc[o][v] =        \
                        _mm512_fmadd_ps(xv[v], wb, acc[o][v]);                              \
                }                                                                           \
            }                                                                               \
        _Pragma("GCC unroll 8") for (int o = 0; o < 8; o++)                                 \
            _Pragma("GCC unroll 3") for (int v = 0; v < NV; v++)                            \
                _mm512_storeu_ps(out + o * ldo + 16 * v, acc[o][v]);                        \
    }
DBLOCK(3)
DBLOCK(1)

/* One 8-channel block of outputs over the whole plane. */
TGT static void dplane(float *out, const geo_t *g, const float *in, int NI, const float *wp) {
    int q = 0;
    for (; q + 3 <= g->nq; q += 3)
        dblock3(out + 16 * q, g->ldo, in + 16 * q, g->ps, NI, wp, g->Wp);
    for (; q < g->nq; q++)
        dblock1(out + 16 * q, g->ldo, in + 16 * q, g->ps, NI, wp, g->Wp);
}

/* Store (beta 0) or add (beta 1) the valid positions of an output block into 8 planes. */
static void store_block(float *y, const float *out, int H, int W, const geo_t *g, int add) {
    for (int o = 0; o < 8; o++)
        for (int h = 0; h < H; h++) {
            float *d = y + ((size_t)o * H + h) * W;
            const float *s = out + o * g->ldo + (size_t)h * g->Wp;
            if (add)
                for (int w = 0; w < W; w++) d[w] += s[w];
            else
                memcpy(d, s, sizeof(float) * W);
        }
}

/* Weights in 8-output-channel blocks, NO outputs and NI inputs: wp[blk][c][k][o] =
 * w[blk*8+o][c][k]; transposed (for the input gradient, w is (NI,NO,9)): the flipped
 * kernel w[c][blk*8+o][8-k]. */
static void pack(float *wp, const float *w, int NO, int NI, int transpose) {
    for (int b = 0; b < NO / 8; b++)
        for (int c = 0; c < NI; c++)
            for (int k = 0; k < 9; k++)
                for (int o = 0; o < 8; o++) {
                    int oo = b * 8 + o;
                    wp[(((size_t)b * NI + c) * 9 + k) * 8 + o] =
                        transpose ? w[((size_t)c * NO + oo) * 9 + 8 - k]
                                  : w[((size_t)oo * NI + c) * 9 + k];
                }
}

void convd_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC) {
    geo_t g = geo(H, W);
    float *xp = ws, *out = xp + (size_t)C * g.ps, *wp = out + 8 * g.ldo;
    memset(xp, 0, sizeof(float) * C * g.ps);
    pack(wp, w, OC, C, 0);
    size_t hw = (size_t)H * W;
    for (int b = 0; b < B; b++) {
        border_copy(xp, x + (size_t)b * C * hw, C, H, W, &g);
        for (int ob = 0; ob < OC / 8; ob++) {
            dplane(out, &g, xp, C, wp + (size_t)ob * C * 72);
            store_block(y + ((size_t)b * OC + ob * 8) * hw, out, H, W, &g, 0);
        }
    }
}

void convd_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC) {
    geo_t g = geo(H, W);
    size_t wk = (size_t)OC * C * 9, hw = (size_t)H * W;
    float *xp = ws, *dyp = xp + (size_t)C * g.ps, *out = dyp + (size_t)OC * g.ps;
    float *wp = out + 8 * g.ldo, *dwk = wp + wk;
    int Q = (H - 1) * g.Wp + W;
    memset(dyp, 0, sizeof(float) * OC * g.ps);
    if (dw) {
        memset(xp, 0, sizeof(float) * C * g.ps);
        memset(dwk, 0, sizeof(float) * wk);
    }
    if (dx) pack(wp, w, C, OC, 1);
    for (int b = 0; b < B; b++) {
        border_copy(dyp, dy + (size_t)b * OC * hw, OC, H, W, &g);
        if (dx)
            for (int cb = 0; cb < C / 8; cb++) {
                dplane(out, &g, dyp, OC, wp + (size_t)cb * OC * 72);
                store_block(dx + ((size_t)b * C + cb * 8) * hw, out, H, W, &g, 1);
            }
        if (dw) {
            border_copy(xp, x + (size_t)b * C * hw, C, H, W, &g);
            /* per tap k: dwk[k] (OC,C) += dy (OC,Q) * x_k^T (Q,C), with dy read at q+Wp+1
             * of its bordered planes (zero at the junk positions) and x_k = x read at
             * q + ky*Wp + kx: GEMMs over strided views, no im2col */
            for (int k = 0; k < 9; k++)
                lay_gemm(0, 1, OC, C, Q, dyp + g.Wp + 1, (int)g.ps, xp + (k / 3) * g.Wp + k % 3,
                         (int)g.ps, 1.0f, dwk + (size_t)k * OC * C, C);
        }
    }
    if (dw)
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < 9; k++)
                    dw[((size_t)o * C + c) * 9 + k] += dwk[((size_t)k * OC + o) * C + c];
}

#else /* no AVX-512 build: convd_use() is always 0 */

void convd_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC) {
    (void)y, (void)x, (void)w, (void)ws, (void)B, (void)C, (void)H, (void)W, (void)OC;
    abort();
}

void convd_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC) {
    (void)dx, (void)dw, (void)dy, (void)x, (void)w, (void)ws, (void)B, (void)C, (void)H;
    (void)W, (void)OC;
    abort();
}

#endif
