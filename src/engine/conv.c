/* conv.c — convolution: im2col over a chunk of images plus one GEMM per chunk, and the
 * dispatcher that picks the direct (conv_direct.c) or channel-last (conv_cl.c) path per
 * shape and splits the batch over lay_threads (include/engine/conv.h). */
#include "engine/conv.h"

#include <stdlib.h>
#include <string.h>

/* ---- convolution: im2col over a chunk of nb images + one GEMM per chunk ---------------- */

/* A stride-1 conv whose output has the input's size (odd K, pad K/2). Its input gradient
 * is itself such a conv of dy with the flipped, transposed kernel, which avoids col2im. */
static int conv_same(int H, int W, int K, int stride, int pad) {
    return stride == 1 && conv2d_out(H, K, 1, pad) == H && conv2d_out(W, K, 1, pad) == W &&
           K == 2 * pad + 1;
}

size_t conv2d_ws_floats(int nb, int C, int H, int W, int OC, int K, int stride, int pad) {
    if (K == 1 && stride == 1 && pad == 0) return 0; /* the input is its own im2col */
    size_t ohw = (size_t)conv2d_out(H, K, stride, pad) * conv2d_out(W, K, stride, pad);
    if (conv_same(H, W, K, stride, pad)) { /* im2col of x or dy; flipped kernel and its grad */
        size_t n = (size_t)nb * ohw * (C > OC ? C : OC) * K * K + 2 * (size_t)OC * C * K * K;
        if (K == 3) { /* any path, so lay_winograd / lay_direct may change between calls */
            size_t n_d = convd_ws_floats(C, H, W, OC), n_w = convw_ws_floats(C, H, W, OC);
            if (n_d > n) n = n_d;
            if (n_w > n) n = n_w;
        }
        return n;
    }
    size_t n = (size_t)nb * ohw * C * K * K;
    if (K == 3 && stride == 2 && pad == 1) {
        size_t n_s = convs_ws_floats(C, H, W, OC);
        if (n_s > n) n = n_s;
    }
    return n;
}

/* Valid output range [lo, hi) along one axis for kernel offset k: in = o*S - P + k
 * must lie in [0, n). */
static void valid_range(int n, int on, int k, int S, int P, int *lo, int *hi) {
    int a = P - k; /* o*S >= a */
    int l = a <= 0 ? 0 : (a + S - 1) / S;
    int b = n - 1 + P - k; /* o*S <= b */
    int h = b < 0 ? 0 : b / S + 1;
    if (h > on) h = on;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Zero columns [0,lo) and [hi,w) of an (n,w) block, column by column (a handful of
 * strided stores; row by row the compiler emits one tiny memset call per row). */
static void zero_cols(float *a, int n, int w, int lo, int hi) {
    for (int c = 0; c < lo; c++)
        for (int r = 0; r < n; r++) a[(size_t)r * w + c] = 0.0f;
    for (int c = hi; c < w; c++)
        for (int r = 0; r < n; r++) a[(size_t)r * w + c] = 0.0f;
}

/* col (C*K*K, nb*OH*OW): row (c,ky,kx), column (i,oh,ow) = x[i,c,oh*S-P+ky,ow*S-P+kx] or 0.
 * x is (nb,C,H,W). */
static void im2col(float *col, const float *x, int nb, int C, int H, int W, int K, int S,
                   int P, int OH, int OW) {
    size_t ohw = (size_t)OH * OW, ld = (size_t)nb * ohw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            int ylo, yhi;
            valid_range(H, OH, ky, S, P, &ylo, &yhi);
            for (int kx = 0; kx < K; kx++) {
                int xlo, xhi;
                valid_range(W, OW, kx, S, P, &xlo, &xhi);
                float *row = col + ((size_t)(c * K + ky) * K + kx) * ld;
                for (int i = 0; i < nb; i++) {
                    const float *xp = x + ((size_t)i * C + c) * H * W;
                    float *d = row + i * ohw;
                    if (S == 1 && OW == W) {
                        /* "same" conv: the valid rows are one shifted block of the plane;
                         * copy it whole, then zero the columns that wrapped around */
                        int sh = kx - P, n_rows = yhi - ylo;
                        memset(d, 0, sizeof(float) * ylo * OW);
                        float *db = d + (size_t)ylo * OW;
                        const float *sb = xp + (size_t)(ylo - P + ky) * W + sh;
                        if (n_rows > 0) {
                            /* sb[0 .. n_rows*W) may start before / end after the plane by
                             * |sh| floats: those land only in columns zeroed below */
                            int lo = sh < 0 ? -sh : 0, hi = n_rows * W - (sh > 0 ? sh : 0);
                            memcpy(db + lo, sb + lo, sizeof(float) * (hi - lo));
                            zero_cols(db, n_rows, OW, xlo, xhi);
                        }
                        memset(d + (size_t)yhi * OW, 0, sizeof(float) * (OH - yhi) * OW);
                        continue;
                    }
                    for (int oh = 0; oh < OH; oh++, d += OW) {
                        if (oh < ylo || oh >= yhi || xlo >= xhi) {
                            memset(d, 0, sizeof(float) * OW);
                            continue;
                        }
                        const float *s = xp + (size_t)(oh * S - P + ky) * W;
                        for (int ow = 0; ow < xlo; ow++) d[ow] = 0;
                        if (S == 1)
                            memcpy(d + xlo, s + xlo - P + kx, sizeof(float) * (xhi - xlo));
                        else
                            for (int ow = xlo; ow < xhi; ow++) d[ow] = s[ow * S - P + kx];
                        for (int ow = xhi; ow < OW; ow++) d[ow] = 0;
                    }
                }
            }
        }
}

/* col2im_add for the NB201 reduction's 3x3 stride-2 pad-1 conv: the three kx of a row
 * in one pass (x column 2j takes kx=1 of output column j; 2j+1 takes kx=0 of j+1, then
 * kx=2 of j), so dx is walked once per (c, ky) instead of three times in strided steps.
 * Each dx element receives its terms in the order of the general loop (ky, then kx), so
 * the sums are bit-identical. */
static void col2im_add_k3s2(float *dx, const float *col, int nb, int C, int H, int W, int OH,
                            int OW) {
    size_t ohw = (size_t)OH * OW, ld = (size_t)nb * ohw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < 3; ky++) {
            int ylo, yhi;
            valid_range(H, OH, ky, 2, 1, &ylo, &yhi);
            const float *r0 = col + (size_t)(c * 3 + ky) * 3 * ld, *r1 = r0 + ld, *r2 = r1 + ld;
            for (int i = 0; i < nb; i++)
                for (int oh = ylo; oh < yhi; oh++) {
                    float *d = dx + (((size_t)i * C + c) * H + oh * 2 - 1 + ky) * W;
                    size_t o = (size_t)i * ohw + (size_t)oh * OW;
                    for (int j = 0; 2 * j < W && j < OW; j++) {
                        d[2 * j] += r1[o + j];
                        if (2 * j + 1 < W) {
                            float t = d[2 * j + 1];
                            if (j + 1 < OW) t += r0[o + j + 1];
                            d[2 * j + 1] = t + r2[o + j];
                        }
                    }
                }
        }
}

/* dx (nb,C,H,W) += col2im(col), the adjoint of im2col. col is scratch (it may be
 * modified). */
static void col2im_add(float *dx, float *col, int nb, int C, int H, int W, int K, int S,
                       int P, int OH, int OW) {
    if (K == 3 && S == 2 && P == 1) {
        col2im_add_k3s2(dx, col, nb, C, H, W, OH, OW);
        return;
    }
    size_t ohw = (size_t)OH * OW, ld = (size_t)nb * ohw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            int ylo, yhi;
            valid_range(H, OH, ky, S, P, &ylo, &yhi);
            for (int kx = 0; kx < K; kx++) {
                int xlo, xhi;
                valid_range(W, OW, kx, S, P, &xlo, &xhi);
                float *row = col + ((size_t)(c * K + ky) * K + kx) * ld;
                for (int i = 0; i < nb; i++) {
                    float *xp = dx + ((size_t)i * C + c) * H * W;
                    float *s = row + i * ohw;
                    if (S == 1 && OW == W && yhi > ylo) {
                        /* "same" conv: zero the columns that fall outside the plane, then
                         * add the valid rows as one shifted block (as in im2col) */
                        int sh = kx - P, n_rows = yhi - ylo;
                        float *sb = s + (size_t)ylo * OW;
                        zero_cols(sb, n_rows, OW, xlo, xhi);
                        int lo = sh < 0 ? -sh : 0, hi = n_rows * W - (sh > 0 ? sh : 0);
                        vadd(xp + (size_t)(ylo - P + ky) * W + sh + lo, sb + lo, hi - lo);
                        continue;
                    }
                    for (int oh = ylo; oh < yhi; oh++) {
                        float *d = xp + (size_t)(oh * S - P + ky) * W;
                        const float *r = s + (size_t)oh * OW;
                        if (S == 1)
                            vadd(d + xlo - P + kx, r + xlo, xhi - xlo);
                        else
                            for (int ow = xlo; ow < xhi; ow++) d[ow * S - P + kx] += r[ow];
                    }
                }
            }
        }
}

/* Images per im2col chunk: as many as the workspace holds (at least one). The GEMMs run
 * per image on a column block of the chunk (leading dimension n*OHW), so y and dy stay
 * NCHW with no scatter or gather; chunking only amortizes the im2col loop overhead. */
static int conv_chunk(size_t n_ws, int B, size_t per) {
    size_t nb = per ? n_ws / per : (size_t)B;
    if (nb < 1) nb = 1;
    if (nb > (size_t)B) nb = B;
    return (int)nb;
}

/* A 3x3 stride-1 pad-1 conv the fused Winograd path (conv_cl.c) takes. */
static int wino_use(size_t n_ws, int C, int H, int W, int OC, int K, int stride, int pad) {
    return K == 3 && stride == 1 && pad == 1 && convw_use(C, OC) &&
           n_ws >= convw_ws_floats(C, H, W, OC);
}

/* A 3x3 stride-2 pad-1 conv the channel-last direct path (conv_cl.c) takes. */
static int s2_use(size_t n_ws, int C, int H, int W, int OC, int K, int stride, int pad) {
    return K == 3 && stride == 2 && pad == 1 && convs_use(C, OC) &&
           n_ws >= convs_ws_floats(C, H, W, OC);
}

/* A 3x3 stride-1 pad-1 conv the direct path (conv_direct.c) takes, given the workspace. */
static int direct_use(size_t n_ws, int C, int H, int W, int OC, int K, int stride, int pad,
                      int need_dx) {
    return K == 3 && stride == 1 && pad == 1 && convd_use(C, W, OC, need_dx) &&
           n_ws >= convd_ws_floats(C, H, W, OC);
}

static void conv_fwd1(float *y, const float *x, const float *w, float *ws, size_t n_ws,
                      int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    // x is (B,C,H,W), w is (OC,C,K,K), y is (B,OC,OH,OW)
    int OH = conv2d_out(H, K, stride, pad), OW = conv2d_out(W, K, stride, pad);
    int ohw = OH * OW, ckk = C * K * K;
    if (wino_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convw_forward(y, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (s2_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convs_forward(y, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (direct_use(n_ws, C, H, W, OC, K, stride, pad, 0)) {
        convd_forward(y, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (K == 1 && stride == 1 && pad == 0) {
        for (int b = 0; b < B; b++)
            /* y[b] (OC,HW) = w (OC,C) * x[b] (C,HW) */
            lay_gemm(0, 0, OC, ohw, C, w, C, x + (size_t)b * C * ohw, ohw, 0.0f,
                     y + (size_t)b * OC * ohw, ohw);
        return;
    }
    int nb = conv_chunk(n_ws, B, (size_t)ohw * ckk);
    for (int b0 = 0; b0 < B; b0 += nb) {
        int n = B - b0 < nb ? B - b0 : nb, ld = n * ohw;
        im2col(ws, x + (size_t)b0 * C * H * W, n, C, H, W, K, stride, pad, OH, OW);
        for (int i = 0; i < n; i++)
            /* y[b] (OC,OHW) = w (OC,CKK) * col[:, i*OHW : (i+1)*OHW] (CKK,OHW) */
            lay_gemm(0, 0, OC, ohw, ckk, w, ckk, ws + (size_t)i * ohw, ld, 0.0f,
                     y + (size_t)(b0 + i) * OC * ohw, ohw);
    }
}

/* conv2d_backward for conv_same shapes, from one im2col of dy per image (cd, rows
 * (o,ky,kx), padding K-1-pad = pad):
 *   dx[b] (C,HW) += wt (C,OC*K*K) * cd, with wt[c][o][k] = w[o][c][K*K-1-k]: the input
 *     gradient is a conv of dy with the flipped, transposed kernel (a full-size GEMM
 *     writing dx directly, instead of a rank-OC GEMM and a col2im scatter-add);
 *   dwt (OC*K*K,C) += cd * x[b]^T, and dw[o][c][k] += dwt[o][K*K-1-k][c] at the end
 *     (so x needs no second im2col). */
static void conv2d_backward_same(float *dx, float *dw, const float *dy, const float *x,
                                 const float *w, float *ws, size_t n_ws, int B, int C, int H,
                                 int W, int OC, int K, int pad) {
    int hw = H * W, kk = K * K, ckk = C * kk, okk = OC * kk;
    size_t nwk = (size_t)OC * ckk;
    float *wt = ws, *dwt = ws + nwk, *col = ws + 2 * nwk;
    if (dx)
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < kk; k++)
                    wt[((size_t)c * OC + o) * kk + k] = w[((size_t)o * C + c) * kk + kk - 1 - k];
    if (dw) memset(dwt, 0, sizeof(float) * nwk);
    int nb = conv_chunk(n_ws - 2 * nwk, B, (size_t)hw * okk);
    for (int b0 = 0; b0 < B; b0 += nb) {
        int n = B - b0 < nb ? B - b0 : nb, ld = n * hw;
        im2col(col, dy + (size_t)b0 * OC * hw, n, OC, H, W, K, 1, K - 1 - pad, H, W);
        for (int i = 0; i < n; i++) {
            const float *cd = col + (size_t)i * hw;
            /* dx[b] (C,HW) += wt (C,OCKK) * cd (OCKK,HW) */
            if (dx)
                lay_gemm(0, 0, C, hw, okk, wt, okk, cd, ld, 1.0f, dx + (size_t)(b0 + i) * C * hw,
                         hw);
            /* dwt (OCKK,C) += cd (OCKK,HW) * x[b]^T (HW,C) */
            if (dw)
                lay_gemm(0, 1, okk, C, hw, cd, ld, x + (size_t)(b0 + i) * C * hw, hw, 1.0f, dwt,
                         C);
        }
    }
    if (dw)
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < kk; k++)
                    dw[((size_t)o * C + c) * kk + k] += dwt[((size_t)o * kk + kk - 1 - k) * C + c];
}

static void conv_bwd1(float *dx, float *dw, const float *dy, const float *x, const float *w,
                      float *ws, size_t n_ws, int B, int C, int H, int W, int OC, int K,
                      int stride, int pad) {
    // dy is (B,OC,OH,OW), x and dx are (B,C,H,W), w and dw are (OC,C,K,K)
    int OH = conv2d_out(H, K, stride, pad), OW = conv2d_out(W, K, stride, pad);
    int ohw = OH * OW, ckk = C * K * K;
    if (K == 1 && stride == 1 && pad == 0) {
        for (int b = 0; b < B; b++) {
            const float *xb = x + (size_t)b * C * ohw, *g = dy + (size_t)b * OC * ohw;
            /* dw (OC,C) += dy[b] (OC,HW) * x[b]^T (HW,C) */
            if (dw) lay_gemm(0, 1, OC, C, ohw, g, ohw, xb, ohw, 1.0f, dw, C);
            /* dx[b] (C,HW) += w^T (C,OC) * dy[b] (OC,HW) */
            if (dx) lay_gemm(1, 0, C, ohw, OC, w, C, g, ohw, 1.0f, dx + (size_t)b * C * ohw, ohw);
        }
        return;
    }
    if (wino_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convw_backward(dx, dw, dy, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (s2_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convs_backward(dx, dw, dy, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (direct_use(n_ws, C, H, W, OC, K, stride, pad, dx != NULL)) {
        convd_backward(dx, dw, dy, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (conv_same(H, W, K, stride, pad)) {
        conv2d_backward_same(dx, dw, dy, x, w, ws, n_ws, B, C, H, W, OC, K, pad);
        return;
    }
    int nb = conv_chunk(n_ws, B, (size_t)ohw * ckk);
    for (int b0 = 0; b0 < B; b0 += nb) {
        int n = B - b0 < nb ? B - b0 : nb, ld = n * ohw;
        if (dw) {
            im2col(ws, x + (size_t)b0 * C * H * W, n, C, H, W, K, stride, pad, OH, OW);
            for (int i = 0; i < n; i++)
                /* dw (OC,CKK) += dy[b] (OC,OHW) * col_i^T (OHW,CKK) */
                lay_gemm(0, 1, OC, ckk, ohw, dy + (size_t)(b0 + i) * OC * ohw, ohw,
                         ws + (size_t)i * ohw, ld, 1.0f, dw, ckk);
        }
        if (dx) {
            for (int i = 0; i < n; i++)
                /* col_i (CKK,OHW) = w^T (CKK,OC) * dy[b] (OC,OHW), then scattered into dx */
                lay_gemm(1, 0, ckk, ohw, OC, w, ckk, dy + (size_t)(b0 + i) * OC * ohw, ohw,
                         0.0f, ws + (size_t)i * ohw, ld);
            col2im_add(dx + (size_t)b0 * C * H * W, ws, n, C, H, W, K, stride, pad, OH, OW);
        }
    }
}

/* Threaded convs: images split into parts, each with its own slice of the workspace
 * (n_ws / T floats: a private weight gradient, then the conv's scratch). Part 0 adds its
 * weight gradient into dw directly, the others into their slices, which are then added to
 * dw in part order. One part is the serial code with the whole workspace. */
typedef struct {
    float *y, *dx, *dw, *ws;
    const float *x, *w, *dy;
    size_t per, nw;
    int C, H, W, OC, K, S, P;
} conv_job;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

/* Floats of one part's slice: its weight gradient, then a scratch of ws floats, each
 * rounded up to 16 floats, and 16 for the rounding of n_ws / T. */
static size_t slice_floats(size_t ws, int C, int OC, int K) {
    return round16((size_t)OC * C * K * K) + round16(ws) + 16;
}

size_t conv2d_ws_threads(size_t ws, int C, int OC, int K) {
    return lay_threads > 1 ? slice_floats(ws, C, OC, K) * lay_threads : ws;
}

/* The path switches read from the environment on first use, settled before any part
 * (thread) reads them. */
static void conv_settle(void) {
    if (lay_direct < 0) (void)convd_use(8, 32, 8, 0);
    if (lay_winograd < 0) (void)convw_use(8, 8);
}

static int conv_parts(size_t n_ws, int B, int C, int H, int W, int OC, int K, int S, int P) {
    conv_settle();
    size_t need = slice_floats(conv2d_ws_floats(1, C, H, W, OC, K, S, P), C, OC, K);
    int T = lay_threads < B ? lay_threads : B;
    while (T > 1 && n_ws / (size_t)T < need) T--;
    return T;
}

static void conv_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const conv_job *j = arg;
    int OH = conv2d_out(j->H, j->K, j->S, j->P), OW = conv2d_out(j->W, j->K, j->S, j->P);
    float *ws = j->ws + (size_t)t * j->per + j->nw;
    conv_fwd1(j->y + lo * j->OC * OH * OW, j->x + lo * j->C * j->H * j->W, j->w, ws,
              j->per - j->nw, (int)(hi - lo), j->C, j->H, j->W, j->OC, j->K, j->S, j->P);
}

static void conv_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const conv_job *j = arg;
    int OH = conv2d_out(j->H, j->K, j->S, j->P), OW = conv2d_out(j->W, j->K, j->S, j->P);
    float *slice = j->ws + (size_t)t * j->per, *dw = j->dw;
    if (dw && t > 0) {
        dw = slice;
        memset(dw, 0, sizeof(float) * (size_t)j->OC * j->C * j->K * j->K);
    }
    size_t xs = (size_t)j->C * j->H * j->W;
    conv_bwd1(j->dx ? j->dx + lo * xs : NULL, dw, j->dy + lo * j->OC * OH * OW, j->x + lo * xs,
              j->w, slice + j->nw, j->per - j->nw, (int)(hi - lo), j->C, j->H, j->W, j->OC, j->K,
              j->S, j->P);
}

void conv2d_forward(float *y, const float *x, const float *w, float *ws, size_t n_ws,
                    int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    int T = conv_parts(n_ws, B, C, H, W, OC, K, stride, pad);
    if (T <= 1) {
        conv_fwd1(y, x, w, ws, n_ws, B, C, H, W, OC, K, stride, pad);
        return;
    }
    conv_job j = {y, NULL, NULL, ws, x, w, NULL, n_ws / T / 16 * 16,
                  round16((size_t)OC * C * K * K), C, H, W, OC, K, stride, pad};
    lay_par(T, (size_t)B, 1, conv_fwd_part, &j);
}

void conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     float *ws, size_t n_ws, int B, int C, int H, int W, int OC, int K,
                     int stride, int pad) {
    int T = conv_parts(n_ws, B, C, H, W, OC, K, stride, pad);
    if (T <= 1) {
        conv_bwd1(dx, dw, dy, x, w, ws, n_ws, B, C, H, W, OC, K, stride, pad);
        return;
    }
    size_t nw = (size_t)OC * C * K * K;
    conv_job j = {NULL, dx, dw, ws, x, w, dy, n_ws / T / 16 * 16, round16(nw),
                  C, H, W, OC, K, stride, pad};
    lay_par(T, (size_t)B, 1, conv_bwd_part, &j);
    if (dw)
        for (int t = 1; t < T; t++) {
            const float *p = ws + (size_t)t * j.per;
            for (size_t i = 0; i < nw; i++) dw[i] += p[i];
        }
}

