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

/* Planes up to this many padded cells take the fast max path: the plane copied into a
 * -inf border, so every window is a full 3x3 (the border never wins: the first in-bounds
 * cell starts each window, as PyTorch's index does). */
#define POOL_PAD_MAX 16384

/* Max and first arg-max (index into the plane) of each window of one plane. */
HOT static void max_plane(float *y, int *arg, const float *x, const pool_job_t *j, float *pad) {
    int W2 = j->W + 2, s = j->stride;
    for (int i = 0; i < W2; i++) pad[i] = pad[(j->H + 1) * W2 + i] = -INFINITY;
    for (int h = 0; h < j->H; h++) {
        float *r = pad + (h + 1) * W2;
        r[0] = r[W2 - 1] = -INFINITY;
        memcpy(r + 1, x + (size_t)h * j->W, sizeof(float) * j->W);
    }
    float m[j->OW];
    int at[j->OW];
    for (int oh = 0; oh < j->OH; oh++) {
        int h0 = oh * s - 1 < 0 ? 0 : oh * s - 1;
        for (int ow = 0; ow < j->OW; ow++) { /* the first in-bounds cell of the window */
            at[ow] = (h0 + 1) * W2 + (ow * s - 1 < 0 ? 0 : ow * s - 1) + 1;
            m[ow] = pad[at[ow]];
        }
        /* window cells in row-major order, each over the whole output row (independent
         * lanes: vectorizable) */
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                int base = (oh * s + ky) * W2 + kx;
                const float *p = pad + base;
                for (int ow = 0; ow < j->OW; ow++) {
                    float v = p[ow * s];
                    int gt = v > m[ow] || v != v; /* a NaN wins, as in PyTorch */
                    m[ow] = gt ? v : m[ow];
                    at[ow] = gt ? base + ow * s : at[ow];
                }
            }
        if (y) memcpy(y + oh * j->OW, m, sizeof(float) * j->OW);
        if (arg)
            for (int ow = 0; ow < j->OW; ow++)
                arg[oh * j->OW + ow] = (at[ow] / W2 - 1) * j->W + at[ow] % W2 - 1;
    }
}

static void max_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    if ((size_t)(j->H + 2) * (j->W + 2) > POOL_PAD_MAX) {
        pool_part(j, MAX_FWD, lo, hi);
        return;
    }
    float pad[POOL_PAD_MAX];
    for (size_t p = lo; p < hi; p++)
        max_plane(j->y + p * j->OH * j->OW, NULL, j->x + p * j->H * j->W, j, pad);
}

static void max_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job_t *j = arg;
    (void)t;
    if ((size_t)(j->H + 2) * (j->W + 2) > POOL_PAD_MAX) {
        pool_part(j, MAX_BWD, lo, hi);
        return;
    }
    float pad[POOL_PAD_MAX];
    int at[POOL_PAD_MAX]; /* OH*OW <= the padded plane */
    size_t on = (size_t)j->OH * j->OW;
    for (size_t p = lo; p < hi; p++) {
        max_plane(NULL, at, j->x + p * j->H * j->W, j, pad);
        float *dx = j->y + p * j->H * j->W;
        const float *dy = j->dy + p * on;
        for (size_t o = 0; o < on; o++) dx[at[o]] += dy[o];
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
