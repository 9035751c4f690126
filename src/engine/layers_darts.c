/* layers_darts.c — depthwise convolution, strided 3x3 pooling, factorized reduce and
 * channel concatenation (include/engine/layers_darts.h). */
#include "engine/layers_darts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/layers.h"

/* ---- depthwise convolution --------------------------------------------------------------- */

typedef struct {
    float *y, *dx, *dw;
    const float *x, *w, *dy;
    int B, C, H, W, K, stride, pad, dil, OH, OW;
} dw_job_t;

/* Output columns [*lo, *hi) whose input column ow*stride + off lies in [0, W). */
static void valid_cols(int off, int stride, int W, int OW, int *lo, int *hi) {
    int a = off < 0 ? (-off + stride - 1) / stride : 0;
    int b = off <= W - 1 ? (W - 1 - off) / stride + 1 : 0;
    *lo = a;
    *hi = b < OW ? b : OW;
}

/* The plain path (any plane size and kernel): each tap is one loop over an output row. */
HOT static void dw_plane_fwd(float *y, const float *x, const float *w, const dw_job_t *j) {
    // x is (H,W), w is (K,K), y is (OH,OW)
    int s = j->stride;
    memset(y, 0, sizeof(float) * j->OH * j->OW);
    for (int oh = 0; oh < j->OH; oh++) {
        float *yr = y + (size_t)oh * j->OW;
        for (int ky = 0; ky < j->K; ky++) {
            int iy = oh * s - j->pad + ky * j->dil;
            if (iy < 0 || iy >= j->H) continue;
            const float *xr = x + (size_t)iy * j->W;
            for (int kx = 0; kx < j->K; kx++) {
                int off = kx * j->dil - j->pad, lo, hi;
                float wv = w[ky * j->K + kx];
                valid_cols(off, s, j->W, j->OW, &lo, &hi);
                if (s == 1)
                    for (int ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow + off];
                else
                    for (int ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow * s + off];
            }
        }
    }
}

HOT static void dw_plane_bwd(float *dx, float *dw, const float *dy, const float *x,
                             const float *w, const dw_job_t *j) {
    int s = j->stride;
    for (int oh = 0; oh < j->OH; oh++) {
        const float *gr = dy + (size_t)oh * j->OW;
        for (int ky = 0; ky < j->K; ky++) {
            int iy = oh * s - j->pad + ky * j->dil;
            if (iy < 0 || iy >= j->H) continue;
            const float *xr = x + (size_t)iy * j->W;
            float *dr = dx ? dx + (size_t)iy * j->W : NULL;
            for (int kx = 0; kx < j->K; kx++) {
                int off = kx * j->dil - j->pad, lo, hi;
                float wv = w[ky * j->K + kx], acc = 0.0f;
                valid_cols(off, s, j->W, j->OW, &lo, &hi);
                if (dw) {
                    for (int ow = lo; ow < hi; ow++) acc += gr[ow] * xr[ow * s + off];
                    dw[ky * j->K + kx] += acc;
                }
                if (dr) {
                    if (s == 1)
                        for (int ow = lo; ow < hi; ow++) dr[ow + off] += wv * gr[ow];
                    else
                        for (int ow = lo; ow < hi; ow++) dr[ow * s + off] += wv * gr[ow];
                }
            }
        }
    }
}

/* The flat path, for 3x3 and 5x5 kernels on planes that fit DW_FLAT_MAX: the plane is
 * copied into a border of pad cells (width W2), so that the stride-1 output cell (r, c) is
 * flat index q = r*W2 + c and tap (ky, kx) reads q + ky*dil*W2 + kx*dil. Every tap is then
 * one contiguous shifted read over all rows at once, a long loop that vectorizes; the
 * W2 - OW1 cells between rows are computed and dropped. */
#define DW_FLAT_MAX 8192

typedef struct {
    int W2, Hp, OW1, L, KK, omax, off[25];
} flat_t;

/* 1 when the plane takes the flat path; f describes it. */
static int flat_init(flat_t *f, const dw_job_t *j) {
    if (j->K != 3 && j->K != 5) return 0;
    f->W2 = j->W + 2 * j->pad, f->Hp = j->H + 2 * j->pad;
    f->omax = j->dil * (j->K - 1) * (f->W2 + 1);
    f->OW1 = f->W2 - j->dil * (j->K - 1);
    int OH1 = f->Hp - j->dil * (j->K - 1);
    f->L = (OH1 - 1) * f->W2 + f->OW1;
    f->KK = j->K * j->K;
    for (int ky = 0; ky < j->K; ky++)
        for (int kx = 0; kx < j->K; kx++) f->off[ky * j->K + kx] = (ky * f->W2 + kx) * j->dil;
    return OH1 >= 1 && f->OW1 >= 1 && (size_t)f->Hp * f->W2 + f->omax <= DW_FLAT_MAX;
}

/* xp (Hp,W2) = x (H,W) inside a border of pad zeros. */
static void pad_plane(float *xp, const float *x, int H, int W, int pad) {
    int W2 = W + 2 * pad;
    memset(xp, 0, sizeof(float) * ((size_t)pad * W2 + pad));
    for (int h = 0; h < H; h++) {
        float *r = xp + (size_t)(h + pad) * W2 + pad;
        memcpy(r, x + (size_t)h * W, sizeof(float) * W);
        memset(r + W, 0, sizeof(float) * 2 * pad); /* right border, next row's left */
    }
    memset(xp + (size_t)(H + pad) * W2 + pad, 0, sizeof(float) * ((size_t)pad * W2 - pad));
}

/* y[q] = sum over the K*K taps k, in order, of w[k] * x[q + off[k]], q in [0, n). K is a
 * constant at each call, so the taps unroll and the q loop vectorizes; a 5x5 kernel goes
 * one kernel row per pass (y carries the running sum: the same additions in the same
 * order as one pass). */
static inline __attribute__((always_inline)) void taps(float *restrict y, const float *restrict x,
                                                      const float *w, const int *off, int K,
                                                      int n) {
    int rows = K == 3 ? 3 : 1; /* kernel rows per pass */
    for (int ky0 = 0; ky0 < K; ky0 += rows) {
        float wk[9];
        int o[9];
        for (int k = 0; k < rows * K; k++) wk[k] = w[ky0 * K + k], o[k] = off[ky0 * K + k];
        for (int q = 0; q < n; q++) {
            float a = ky0 ? y[q] : 0.0f;
            for (int k = 0; k < rows * K; k++) a += wk[k] * x[q + o[k]];
            y[q] = a;
        }
    }
}

HOT static void taps_any(float *restrict y, const float *restrict x, const float *w,
                         const int *off, int K, int n) {
    if (K == 3) taps(y, x, w, off, 3, n);
    else taps(y, x, w, off, 5, n);
}

/* dw[k] += sum over q in [0, n) of d[q] * x[q + off[k]] for the K*K taps: one pass over d
 * per kernel row, each tap's sum in 8 interleaved partial sums (GCC vectors: one AVX
 * register or two SSE ones, the same bits either way). */
typedef float v8f __attribute__((vector_size(32)));

#define V8LOAD(v, p) memcpy(&(v), (p), sizeof(v8f)) /* unaligned */

static inline __attribute__((always_inline)) void dots(float *dw, const float *restrict d,
                                                      const float *restrict x, const int *off,
                                                      int K, int n) {
    for (int ky = 0; ky < K; ky++) {
        v8f s[5];
        const float *xk[5];
        for (int kx = 0; kx < K; kx++) s[kx] = (v8f){0}, xk[kx] = x + off[ky * K + kx];
        int q = 0;
        for (; q + 8 <= n; q += 8) {
            v8f dv, xv;
            V8LOAD(dv, d + q);
            for (int kx = 0; kx < K; kx++) V8LOAD(xv, xk[kx] + q), s[kx] += dv * xv;
        }
        for (int kx = 0; kx < K; kx++) {
            float v[8];
            memcpy(v, &s[kx], sizeof v);
            for (int l = 0; q + l < n; l++) v[l] += d[q + l] * xk[kx][q + l];
            dw[ky * K + kx] += ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
        }
    }
}

HOT static void dots_any(float *dw, const float *restrict d, const float *restrict x,
                         const int *off, int K, int n) {
    if (K == 3) dots(dw, d, x, off, 3, n);
    else dots(dw, d, x, off, 5, n);
}

static void dw_flat_fwd(float *y, const float *x, const float *w, const dw_job_t *j,
                        const flat_t *f, float *xp, float *yf) {
    pad_plane(xp, x, j->H, j->W, j->pad);
    if (j->stride == 1) {
        taps_any(yf, xp, w, f->off, j->K, f->L);
        for (int oh = 0; oh < j->OH; oh++)
            memcpy(y + (size_t)oh * j->OW, yf + (size_t)oh * f->W2, sizeof(float) * j->OW);
        return;
    }
    for (int oh = 0; oh < j->OH; oh++) { /* only the rows kept; every stride-th column */
        taps_any(yf, xp + (size_t)oh * j->stride * f->W2, w, f->off, j->K, f->OW1);
        for (int ow = 0; ow < j->OW; ow++) y[(size_t)oh * j->OW + ow] = yf[ow * j->stride];
    }
}

/* dx += and dw += of one plane. ds holds dy spread to the flat stride-1 positions (zero
 * elsewhere) after omax leading zeros, so that dx's flat cell m = sum over taps of
 * w[k] * ds[m - off[k]] is the flat forward of ds with the kernel reversed. */
static void dw_flat_bwd(float *dx, float *dw, const float *dy, const float *x, const float *w,
                        const dw_job_t *j, const flat_t *f, float *xp, float *ds, float *t) {
    memset(ds, 0, sizeof(float) * ((size_t)f->Hp * f->W2 + f->omax));
    float *d0 = ds + f->omax;
    for (int oh = 0; oh < j->OH; oh++) {
        float *r = d0 + (size_t)oh * j->stride * f->W2;
        const float *g = dy + (size_t)oh * j->OW;
        if (j->stride == 1) memcpy(r, g, sizeof(float) * j->OW);
        else
            for (int ow = 0; ow < j->OW; ow++) r[ow * j->stride] = g[ow];
    }
    if (dw) {
        pad_plane(xp, x, j->H, j->W, j->pad);
        dots_any(dw, d0, xp, f->off, j->K, f->L);
    }
    if (dx) {
        float wr[25];
        for (int k = 0; k < f->KK; k++) wr[k] = w[f->KK - 1 - k];
        /* input cell (h, c) is padded flat cell (h + pad)*W2 + c + pad */
        int m0 = j->pad * f->W2 + j->pad, n = (j->H - 1) * f->W2 + j->W;
        taps_any(t, ds + m0, wr, f->off, j->K, n);
        for (int h = 0; h < j->H; h++) add_into(dx + (size_t)h * j->W, t + (size_t)h * f->W2, j->W);
    }
}

static void dw_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const dw_job_t *j = arg;
    (void)t;
    size_t in = (size_t)j->H * j->W, out = (size_t)j->OH * j->OW, kk = (size_t)j->K * j->K;
    flat_t f;
    if (flat_init(&f, j)) {
        float xp[DW_FLAT_MAX], yf[DW_FLAT_MAX];
        for (size_t p = lo; p < hi; p++)
            dw_flat_fwd(j->y + p * out, j->x + p * in, j->w + (p % j->C) * kk, j, &f, xp, yf);
        return;
    }
    for (size_t p = lo; p < hi; p++) /* plane p = b*C + c */
        dw_plane_fwd(j->y + p * out, j->x + p * in, j->w + (p % j->C) * kk, j);
}

/* Part over channels: each channel's weight gradient is summed over images in order. */
static void dw_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const dw_job_t *j = arg;
    (void)t;
    size_t in = (size_t)j->H * j->W, out = (size_t)j->OH * j->OW, kk = (size_t)j->K * j->K;
    flat_t f;
    int flat = flat_init(&f, j);
    float xp[flat ? DW_FLAT_MAX : 1], ds[flat ? DW_FLAT_MAX : 1], tt[flat ? DW_FLAT_MAX : 1];
    for (size_t c = lo; c < hi; c++)
        for (int b = 0; b < j->B; b++) {
            size_t p = (size_t)b * j->C + c;
            float *dx = j->dx ? j->dx + p * in : NULL, *dw = j->dw ? j->dw + c * kk : NULL;
            if (flat)
                dw_flat_bwd(dx, dw, j->dy + p * out, j->x + p * in, j->w + c * kk, j, &f, xp, ds, tt);
            else
                dw_plane_bwd(dx, dw, j->dy + p * out, j->x + p * in, j->w + c * kk, j);
        }
}

void dwconv_forward(float *y, const float *x, const float *w, int B, int C, int H, int W,
                    int K, int stride, int pad, int dil) {
    dw_job_t j = {.y = y, .x = x, .w = w, .B = B, .C = C, .H = H, .W = W, .K = K,
                  .stride = stride, .pad = pad, .dil = dil,
                  .OH = dconv_out(H, K, stride, pad, dil), .OW = dconv_out(W, K, stride, pad, dil)};
    lay_par(lay_threads, (size_t)B * C, 1, dw_fwd_part, &j);
}

void dwconv_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int B, int C, int H, int W, int K, int stride, int pad, int dil) {
    if (!dx && !dw) return;
    dw_job_t j = {.dx = dx, .dw = dw, .dy = dy, .x = x, .w = w, .B = B, .C = C, .H = H, .W = W,
                  .K = K, .stride = stride, .pad = pad, .dil = dil,
                  .OH = dconv_out(H, K, stride, pad, dil), .OW = dconv_out(W, K, stride, pad, dil)};
    lay_par(lay_threads, (size_t)C, 1, dw_bwd_part, &j);
}

/* ---- 3x3 pooling, stride 1 or 2 ----------------------------------------------------------- */

typedef struct {
    float *y;
    const float *x, *dy;
    int H, W, stride, OH, OW;
} pool_job_t;

/* Window rows [*a, *b) of output row o (padding 1, clipped). */
static void win(int o, int stride, int n, int *a, int *b) {
    int s = o * stride - 1;
    *a = s < 0 ? 0 : s;
    *b = s + 3 > n ? n : s + 3;
}

enum { MAX_FWD, MAX_BWD, AVG_FWD, AVG_BWD };

/* Planes [lo, hi) of one of the four passes; out is y (forward) or dx (backward). Inlined
 * into each pass with kind a constant, so each gets its own branch-free inner loop. */
static inline __attribute__((always_inline)) void pool_part(const pool_job_t *j, int kind, size_t lo, size_t hi) {
    size_t in = (size_t)j->H * j->W, on = (size_t)j->OH * j->OW;
    for (size_t p = lo; p < hi; p++) {
        const float *x = j->x ? j->x + p * in : NULL, *dy = j->dy ? j->dy + p * on : NULL;
        float *out = j->y + p * (kind == MAX_FWD || kind == AVG_FWD ? on : in);
        for (int oh = 0; oh < j->OH; oh++) {
            int h0, h1;
            win(oh, j->stride, j->H, &h0, &h1);
            for (int ow = 0; ow < j->OW; ow++) {
                int w0, w1, o = oh * j->OW + ow;
                win(ow, j->stride, j->W, &w0, &w1);
                int at = h0 * j->W + w0;
                float m = -INFINITY, s = 0.0f, n = (float)((h1 - h0) * (w1 - w0));
                if (kind == AVG_BWD) s = dy[o] / n;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        int i = h * j->W + w;
                        if (kind == AVG_BWD) out[i] += s;
                        else if (kind == AVG_FWD) s += x[i];
                        else {
                            int gt = x[i] > m || x[i] != x[i]; /* a NaN wins, as in PyTorch */
                            m = gt ? x[i] : m;
                            at = gt ? i : at;
                        }
                    }
                if (kind == MAX_FWD) out[o] = m;
                else if (kind == MAX_BWD) out[at] += dy[o];
                else if (kind == AVG_FWD) out[o] = s / n;
            }
        }
    }
}

/* Planes whose padded copy fits POOL_PAD_MAX cells take the flat max path: the plane is
 * copied into a -inf border (width W2 = W + 2), so that the stride-1 window at output
 * (r, c) starts at flat cell q = r*W2 + c and tap (ky, kx) reads q + ky*W2 + kx: each tap
 * is one contiguous read over all rows at once (a loop that vectorizes), and the border
 * never wins (comparisons are strict). */
#define POOL_PAD_MAX 8192

/* m[q] = the max over the 9 taps in row-major order of x[q + tap] (a NaN wins, as in
 * PyTorch), t[q] = the tap that gave it or -1 if none beat -inf; q in [0, n). */
static inline __attribute__((always_inline)) void max_taps(float *restrict m, int *restrict t,
                                                          const float *restrict x, int W2,
                                                          int n, int want_t) {
    for (int q = 0; q < n; q++) {
        float b = -INFINITY;
        int a = -1;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                float v = x[q + ky * W2 + kx];
                int gt = v > b || v != v;
                b = gt ? v : b;
                a = gt ? ky * 3 + kx : a;
            }
        m[q] = b;
        if (want_t) t[q] = a;
    }
}

HOT static void max_taps_v(float *restrict m, const float *restrict x, int W2, int n) {
    max_taps(m, NULL, x, W2, n, 0);
}

HOT static void max_taps_t(float *restrict m, int *restrict t, const float *restrict x, int W2,
                           int n) {
    max_taps(m, t, x, W2, n, 1);
}

/* y (OH,OW) and, when at is not NULL, the window tap of each output's maximum (-1: the
 * window's first in-bounds cell) of one plane; xp, m hold POOL_PAD_MAX floats. */
static void max_plane(float *y, int *at, const float *x, const pool_job_t *j, float *xp,
                      float *m) {
    int W2 = j->W + 2, s = j->stride;
    for (int i = 0; i < W2; i++) xp[i] = xp[(j->H + 1) * W2 + i] = -INFINITY;
    for (int h = 0; h < j->H; h++) {
        float *r = xp + (h + 1) * W2;
        r[0] = r[W2 - 1] = -INFINITY;
        memcpy(r + 1, x + (size_t)h * j->W, sizeof(float) * j->W);
    }
    if (s == 1) { /* all rows in one loop; the two columns between rows are dropped */
        int n = (j->H - 1) * W2 + j->W;
        if (at) max_taps_t(m, at, xp, W2, n);
        else max_taps_v(m, xp, W2, n);
        if (y)
            for (int oh = 0; oh < j->OH; oh++)
                memcpy(y + (size_t)oh * j->OW, m + (size_t)oh * W2, sizeof(float) * j->OW);
        if (at) /* compact the taps to (OH,OW) in place: row oh moves left */
            for (int oh = 1; oh < j->OH; oh++)
                memmove(at + (size_t)oh * j->OW, at + (size_t)oh * W2, sizeof(int) * j->OW);
        return;
    }
    for (int oh = 0; oh < j->OH; oh++) { /* the kept rows; every stride-th column */
        int *t = at ? at + (size_t)oh * j->OW : NULL, tt[j->W];
        const float *r = xp + (size_t)oh * s * W2;
        if (t) max_taps_t(m, tt, r, W2, j->W);
        else max_taps_v(m, r, W2, j->W);
        for (int ow = 0; ow < j->OW; ow++) {
            if (y) y[(size_t)oh * j->OW + ow] = m[ow * s];
            if (t) t[ow] = tt[ow * s];
        }
    }
}

static void max_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    if ((size_t)(j->H + 2) * (j->W + 2) > POOL_PAD_MAX) {
        pool_part(j, MAX_FWD, lo, hi);
        return;
    }
    float xp[POOL_PAD_MAX], m[POOL_PAD_MAX];
    for (size_t p = lo; p < hi; p++)
        max_plane(j->y + p * j->OH * j->OW, NULL, j->x + p * j->H * j->W, j, xp, m);
}

/* dx gets each dy at its window's first maximum, outputs in order (as pool_part does). */
static void max_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    if ((size_t)(j->H + 2) * (j->W + 2) > POOL_PAD_MAX) {
        pool_part(j, MAX_BWD, lo, hi);
        return;
    }
    float xp[POOL_PAD_MAX], m[POOL_PAD_MAX];
    int at[POOL_PAD_MAX]; /* the stride-1 taps of (H-1)*W2 + W outputs, then (OH,OW) */
    int s = j->stride;
    for (size_t p = lo; p < hi; p++) {
        max_plane(NULL, at, j->x + p * j->H * j->W, j, xp, m);
        float *dx = j->y + p * j->H * j->W;
        const float *dy = j->dy + p * j->OH * j->OW;
        for (int oh = 0, o = 0; oh < j->OH; oh++)
            for (int ow = 0; ow < j->OW; ow++, o++) {
                int k = at[o], h, w;
                if (k >= 0) h = oh * s - 1 + k / 3, w = ow * s - 1 + k % 3;
                else h = oh * s - 1 < 0 ? 0 : oh * s - 1, w = ow * s - 1 < 0 ? 0 : ow * s - 1;
                dx[h * j->W + w] += dy[o];
            }
    }
}
static void avg_fwd_part(void *j, int t, size_t lo, size_t hi) { (void)t, pool_part(j, AVG_FWD, lo, hi); }
static void avg_bwd_part(void *j, int t, size_t lo, size_t hi) { (void)t, pool_part(j, AVG_BWD, lo, hi); }

static void pool_go(lay_part_fn f, float *out, const float *x, const float *dy, int BC, int H,
                    int W, int stride) {
    pool_job_t j = {.y = out, .x = x, .dy = dy, .H = H, .W = W, .stride = stride,
                    .OH = (H - 1) / stride + 1, .OW = (W - 1) / stride + 1};
    lay_par(lay_threads, (size_t)BC, 1, f, &j);
}

void maxpool3_forward(float *y, const float *x, int BC, int H, int W, int stride) {
    pool_go(max_fwd_part, y, x, NULL, BC, H, W, stride);
}

void maxpool3_backward(float *dx, const float *dy, const float *x, int BC, int H, int W,
                       int stride) {
    pool_go(max_bwd_part, dx, x, dy, BC, H, W, stride);
}

void avgpool3s_forward(float *y, const float *x, int BC, int H, int W, int stride) {
    pool_go(avg_fwd_part, y, x, NULL, BC, H, W, stride);
}

void avgpool3s_backward(float *dx, const float *dy, int BC, int H, int W, int stride) {
    pool_go(avg_bwd_part, dx, NULL, dy, BC, H, W, stride);
}

/* ---- factorized reduce -------------------------------------------------------------------- */

size_t facred_ws_floats(int C, int H, int W) { return 2 * (size_t)C * (H / 2) * (W / 2); }

/* xs (C, OH*OW) = x[c, 2i+o, 2j+o] of one image (H,W). */
static void gather2(float *xs, const float *x, int C, int H, int W, int o) {
    int OH = H / 2, OW = W / 2;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < OH; i++) {
            const float *r = x + ((size_t)c * H + 2 * i + o) * W + o;
            float *d = xs + ((size_t)c * OH + i) * OW;
            for (int k = 0; k < OW; k++) d[k] = r[2 * k];
        }
}

static void scatter2(float *x, const float *xs, int C, int H, int W, int o) {
    int OH = H / 2, OW = W / 2;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < OH; i++) {
            float *r = x + ((size_t)c * H + 2 * i + o) * W + o;
            const float *d = xs + ((size_t)c * OH + i) * OW;
            for (int k = 0; k < OW; k++) r[2 * k] += d[k];
        }
}

void facred_forward(float *y, const float *x, const float *w1, const float *w2, float *ws,
                    int B, int C, int H, int W, int OC) {
    // x is (B,C,H,W), w1 and w2 are (OC/2,C), y is (B,OC,H/2,W/2)
    int N = (H / 2) * (W / 2), h = OC / 2;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < 2; o++) {
            gather2(ws, x + (size_t)b * C * H * W, C, H, W, o);
            /* y[b, o*h : (o+1)*h] (h,N) = w (h,C) * xs (C,N) */
            lay_gemm(0, 0, h, N, C, o ? w2 : w1, C, ws, N, 0.0f,
                     y + ((size_t)b * OC + (size_t)o * h) * N, N);
        }
}

void facred_backward(float *dx, float *dw1, float *dw2, const float *dy, const float *x,
                     const float *w1, const float *w2, float *ws, int B, int C, int H, int W,
                     int OC) {
    int N = (H / 2) * (W / 2), h = OC / 2;
    float *xs = ws, *dxs = ws + (size_t)C * N;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < 2; o++) {
            const float *g = dy + ((size_t)b * OC + (size_t)o * h) * N;
            float *dwo = o ? dw2 : dw1;
            if (dwo) {
                gather2(xs, x + (size_t)b * C * H * W, C, H, W, o);
                /* dW (h,C) += dy_o (h,N) * xs^T (N,C) */
                lay_gemm(0, 1, h, C, N, g, N, xs, N, 1.0f, dwo, C);
            }
            if (dx) {
                /* dxs (C,N) = W^T (C,h) * dy_o (h,N) */
                lay_gemm(1, 0, C, N, h, o ? w2 : w1, C, g, N, 0.0f, dxs, N);
                scatter2(dx + (size_t)b * C * H * W, dxs, C, H, W, o);
            }
        }
}

/* ---- channel concatenation ---------------------------------------------------------------- */

void chcat_forward(float *y, const float *const *x, const int *c, int n, int B, int HW) {
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            size_t m = (size_t)c[i] * HW;
            memcpy(y, x[i] + (size_t)b * m, sizeof(float) * m);
            y += m;
        }
}

void chcat_backward(float *const *dx, const float *dy, const int *c, int n, int B, int HW) {
    for (int b = 0; b < B; b++)
        for (int i = 0; i < n; i++) {
            size_t m = (size_t)c[i] * HW;
            if (dx[i]) add_into(dx[i] + (size_t)b * m, dy, m);
            dy += m;
        }
}

/* ---- graph nodes -------------------------------------------------------------------------- */

static int view(params_t *P, const char *name, const char *sfx, int oc, int c, int k) {
    char full[sizeof P->v[0].name];
    int sh[4] = {oc, c, k, k};
    if (snprintf(full, sizeof full, "%s.%s", name, sfx) >= (int)sizeof full) return -1;
    return params_declare(P, full, PK_CONV, 4, sh);
}

int net_declare_dwconv(params_t *P, const char *name, int C, int k) {
    return view(P, name, "w", C, 1, k) < 0 ? -1 : 0;
}

int net_declare_facred(params_t *P, const char *name, int oc, int c) {
    return view(P, name, "w1", oc / 2, c, 1) < 0 || view(P, name, "w2", oc / 2, c, 1) < 0 ? -1 : 0;
}

int net_dwconv(net_t *net, int x, const char *name, int k, int stride, int pad, int dil) {
    if (!net_node_ok(net, x) || k < 1 || stride < 1 || pad < 0 || dil < 1) return -1;
    node_t X = net->nodes[x];
    int OH = dconv_out(X.H, k, stride, pad, dil), OW = dconv_out(X.W, k, stride, pad, dil);
    int v = OH < 1 || OW < 1 ? -1 : view(net->P, name, "w", X.C, 1, k);
    node_t *d = v < 0 ? NULL : net_node_new(net, OP_DWCONV, X.C, OH, OW);
    if (!d) return -1;
    d->p[0] = v;
    d->n_in = 1, d->in[0] = x;
    d->k = k, d->stride = stride, d->pad = pad, d->dil = dil;
    return net->n - 1;
}

static int pool(net_t *net, int op, int x, int stride) {
    if (!net_node_ok(net, x) || stride < 1 || stride > 2) return -1;
    node_t X = net->nodes[x];
    node_t *d = net_node_new(net, op, X.C, (X.H - 1) / stride + 1, (X.W - 1) / stride + 1);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x;
    d->k = 3, d->stride = stride, d->pad = 1;
    return net->n - 1;
}

int net_maxpool3s(net_t *net, int x, int stride) { return pool(net, OP_MAXPOOL3S, x, stride); }
int net_avgpool3s(net_t *net, int x, int stride) { return pool(net, OP_AVGPOOL3S, x, stride); }

int net_facred(net_t *net, int x, const char *name, int oc) {
    if (!net_node_ok(net, x) || oc < 2 || oc % 2) return -1;
    node_t X = net->nodes[x];
    if (X.H % 2 || X.W % 2) return -1;
    int v1 = view(net->P, name, "w1", oc / 2, X.C, 1), v2 = view(net->P, name, "w2", oc / 2, X.C, 1);
    node_t *d = v1 < 0 || v2 < 0 ? NULL : net_node_new(net, OP_FACRED, oc, X.H / 2, X.W / 2);
    if (!d) return -1;
    d->p[0] = v1, d->p[1] = v2;
    d->n_in = 1, d->in[0] = x;
    return net->n - 1;
}

int net_chcat(net_t *net, int n, const int *in) {
    if (n < 1 || n > NET_MAX_IN) return -1;
    int C = 0;
    for (int i = 0; i < n; i++) {
        if (!net_node_ok(net, in[i])) return -1;
        const node_t *a = &net->nodes[in[i]], *b = &net->nodes[in[0]];
        if (a->H != b->H || a->W != b->W) return -1;
        C += a->C;
    }
    node_t X = net->nodes[in[0]];
    node_t *d = net_node_new(net, OP_CHCAT, C, X.H, X.W);
    if (!d) return -1;
    d->n_in = n;
    memcpy(d->in, in, sizeof(int) * n);
    return net->n - 1;
}

/* ---- op rows ------------------------------------------------------------------------------- */

static const node_t *in0(const net_t *net, const node_t *d) { return &net->nodes[d->in[0]]; }

/* The input's dy for ops without their own skip rule: NULL for a constant (all-zero) node
 * and for the image under no_input_dy. */
static float *dx_of(const net_t *net, const node_t *d) { return net_in_dy(net, in0(net, d)); }

static int dwconv_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    dwconv_forward(d->y, X->y, net_pw(net, d->p[0]), d->B, X->C, X->H, X->W, d->k, d->stride,
                   d->pad, d->dil);
    return 0;
}

static void dwconv_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    dwconv_backward(dx_of(net, d), net_pg(net, d->p[0]), d->dy, X->y, net_pw(net, d->p[0]), d->B,
                    X->C, X->H, X->W, d->k, d->stride, d->pad, d->dil);
}

static double dwconv_flops(const net_t *net, const node_t *d) {
    (void)net;
    return (double)d->C * d->H * d->W * d->k * d->k;
}

static int maxpool_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    maxpool3_forward(d->y, X->y, d->B * d->C, X->H, X->W, d->stride);
    return 0;
}

static void maxpool_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    float *dx = dx_of(net, d);
    if (dx) maxpool3_backward(dx, d->dy, X->y, d->B * d->C, X->H, X->W, d->stride);
}

/* Stride 1 takes layers.h's avgpool3 (the same numbers, vectorized). */
static int avgpool_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    if (d->stride == 1) avgpool3_forward(d->y, X->y, d->B * d->C, X->H, X->W);
    else avgpool3s_forward(d->y, X->y, d->B * d->C, X->H, X->W, d->stride);
    return 0;
}

static void avgpool_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    float *dx = dx_of(net, d);
    if (!dx) return;
    if (d->stride == 1) avgpool3_backward(dx, d->dy, d->B * d->C, X->H, X->W);
    else avgpool3s_backward(dx, d->dy, d->B * d->C, X->H, X->W, d->stride);
}

static int facred_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    facred_forward(d->y, X->y, net_pw(net, d->p[0]), net_pw(net, d->p[1]), net->ws, d->B, X->C,
                   X->H, X->W, d->C);
    return 0;
}

static void facred_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    facred_backward(dx_of(net, d), net_pg(net, d->p[0]), net_pg(net, d->p[1]), d->dy, X->y,
                    net_pw(net, d->p[0]), net_pw(net, d->p[1]), net->ws, d->B, X->C, X->H, X->W,
                    d->C);
}

static double facred_flops(const net_t *net, const node_t *d) {
    return (double)d->C * d->H * d->W * in0(net, d)->C / 2;
}

static size_t facred_ws(const net_t *net, const node_t *d) {
    const node_t *X = in0(net, d);
    return facred_ws_floats(X->C, X->H, X->W);
}

static int chcat_fwd(net_t *net, node_t *d) {
    const float *x[NET_MAX_IN];
    int c[NET_MAX_IN];
    for (int i = 0; i < d->n_in; i++) x[i] = net->nodes[d->in[i]].y, c[i] = net->nodes[d->in[i]].C;
    chcat_forward(d->y, x, c, d->n_in, d->B, d->H * d->W);
    return 0;
}

static void chcat_bwd(net_t *net, node_t *d) {
    float *g[NET_MAX_IN];
    int c[NET_MAX_IN];
    for (int i = 0; i < d->n_in; i++) {
        const node_t *I = &net->nodes[d->in[i]];
        g[i] = net_in_dy(net, I), c[i] = I->C;
    }
    chcat_backward(g, d->dy, c, d->n_in, d->B, d->H * d->W);
}

/* name, flags, forward, backward, flops, params, aux, workspace */
const op_def_t op_dwconv = {"dwconv", 0, dwconv_fwd, dwconv_bwd, dwconv_flops, NULL, NULL, NULL};
const op_def_t op_maxpool3s = {"maxpool3s", 0, maxpool_fwd, maxpool_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_avgpool3s = {"avgpool3s", 0, avgpool_fwd, avgpool_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_facred = {"facred", 0, facred_fwd, facred_bwd, facred_flops, NULL, NULL,
                            facred_ws};
const op_def_t op_chcat = {"chcat", 0, chcat_fwd, chcat_bwd, NULL, NULL, NULL, NULL};
