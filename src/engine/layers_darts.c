/* layers_darts.c — depthwise convolution, strided 3x3 pooling, factorized reduce and
 * channel concatenation (include/engine/layers_darts.h). */
#include "engine/layers_darts.h"

#include <math.h>
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

static void dw_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const dw_job_t *j = arg;
    (void)t;
    size_t in = (size_t)j->H * j->W, out = (size_t)j->OH * j->OW, kk = (size_t)j->K * j->K;
    for (size_t p = lo; p < hi; p++) /* plane p = b*C + c */
        dw_plane_fwd(j->y + p * out, j->x + p * in, j->w + (p % j->C) * kk, j);
}

/* Part over channels: each channel's weight gradient is summed over images in order. */
static void dw_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const dw_job_t *j = arg;
    (void)t;
    size_t in = (size_t)j->H * j->W, out = (size_t)j->OH * j->OW, kk = (size_t)j->K * j->K;
    for (size_t c = lo; c < hi; c++)
        for (int b = 0; b < j->B; b++) {
            size_t p = (size_t)b * j->C + c;
            dw_plane_bwd(j->dx ? j->dx + p * in : NULL, j->dw ? j->dw + c * kk : NULL,
                         j->dy + p * out, j->x + p * in, j->w + c * kk, j);
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

static void max_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    for (size_t p = lo; p < hi; p++) {
        const float *x = j->x + p * j->H * j->W;
        float *y = j->y + p * j->OH * j->OW;
        for (int oh = 0; oh < j->OH; oh++) {
            int h0, h1;
            win(oh, j->stride, j->H, &h0, &h1);
            for (int ow = 0; ow < j->OW; ow++) {
                int w0, w1;
                win(ow, j->stride, j->W, &w0, &w1);
                float m = -INFINITY;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        float v = x[h * j->W + w];
                        if (v > m || isnan(v)) m = v;
                    }
                y[oh * j->OW + ow] = m;
            }
        }
    }
}

static void max_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    for (size_t p = lo; p < hi; p++) {
        const float *x = j->x + p * j->H * j->W, *dy = j->dy + p * j->OH * j->OW;
        float *dx = j->y + p * j->H * j->W;
        for (int oh = 0; oh < j->OH; oh++) {
            int h0, h1;
            win(oh, j->stride, j->H, &h0, &h1);
            for (int ow = 0; ow < j->OW; ow++) {
                int w0, w1;
                win(ow, j->stride, j->W, &w0, &w1);
                float m = -INFINITY;
                int at = h0 * j->W + w0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        float v = x[h * j->W + w];
                        if (v > m || isnan(v)) m = v, at = h * j->W + w;
                    }
                dx[at] += dy[oh * j->OW + ow];
            }
        }
    }
}

static void avg_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    for (size_t p = lo; p < hi; p++) {
        const float *x = j->x + p * j->H * j->W;
        float *y = j->y + p * j->OH * j->OW;
        for (int oh = 0; oh < j->OH; oh++) {
            int h0, h1;
            win(oh, j->stride, j->H, &h0, &h1);
            for (int ow = 0; ow < j->OW; ow++) {
                int w0, w1;
                win(ow, j->stride, j->W, &w0, &w1);
                float s = 0.0f;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) s += x[h * j->W + w];
                y[oh * j->OW + ow] = s / (float)((h1 - h0) * (w1 - w0));
            }
        }
    }
}

static void avg_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    for (size_t p = lo; p < hi; p++) {
        const float *dy = j->dy + p * j->OH * j->OW;
        float *dx = j->y + p * j->H * j->W;
        for (int oh = 0; oh < j->OH; oh++) {
            int h0, h1;
            win(oh, j->stride, j->H, &h0, &h1);
            for (int ow = 0; ow < j->OW; ow++) {
                int w0, w1;
                win(ow, j->stride, j->W, &w0, &w1);
                float g = dy[oh * j->OW + ow] / (float)((h1 - h0) * (w1 - w0));
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) dx[h * j->W + w] += g;
            }
        }
    }
}

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
