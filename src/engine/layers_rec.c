/* layers_rec.c — recommender layers (embedding, sliced linear, EFC, dot-product
 * interaction, layer norm, sigmoid, product, concat, slice, BCE), Adagrad, and their graph
 * nodes. See include/layers_rec.h. */
#include "engine/layers_rec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/layers.h"

/* ---- embedding --------------------------------------------------------------------------- */

void embed_forward(float *y, const float *x, const float *table, int B, int ld, int col0,
                   int F, int rows, int E) {
    // x is (B,ld) with ids at [col0,col0+F), table is (F*rows,E), y is (B,F,E)
    for (int b = 0; b < B; b++)
        for (int f = 0; f < F; f++) {
            float v = x[(size_t)b * ld + col0 + f];
            float *out = y + ((size_t)b * F + f) * E;
            if (!(v >= 0 && v < rows)) {
                memset(out, 0, sizeof(float) * E);
                continue;
            }
            memcpy(out, table + ((size_t)f * rows + (size_t)v) * E, sizeof(float) * E);
        }
}

void embed_backward(float *dtable, const float *dy, const float *x, int B, int ld, int col0,
                    int F, int rows, int E) {
    for (int b = 0; b < B; b++)
        for (int f = 0; f < F; f++) {
            float v = x[(size_t)b * ld + col0 + f];
            if (!(v >= 0 && v < rows)) continue;
            float *g = dtable + ((size_t)f * rows + (size_t)v) * E;
            const float *d = dy + ((size_t)b * F + f) * E;
            for (int e = 0; e < E; e++) g[e] += d[e];
        }
}

/* ---- sliced linear and EFC ---------------------------------------------------------------- */

void rlinear_forward(float *y, const float *x, const float *w, const float *b, int B, int IN,
                     int OUT, int ld) {
    // x is (B,IN), w is (OUT,ld) of which (OUT,IN) is used, b is (OUT), y is (B,OUT)
    for (int i = 0; i < B; i++)
        for (int o = 0; o < OUT; o++) y[(size_t)i * OUT + o] = b ? b[o] : 0.0f;
    /* y (B,OUT) += x (B,IN) * W^T (IN,OUT) */
    lay_gemm(0, 1, B, OUT, IN, x, IN, w, ld, 1.0f, y, OUT);
}

void rlinear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                      const float *w, int B, int IN, int OUT, int ld) {
    /* dW (OUT,IN) += dy^T (OUT,B) * x (B,IN), into the leading block */
    if (dw) lay_gemm(1, 0, OUT, IN, B, dy, OUT, x, IN, 1.0f, dw, ld);
    if (db)
        for (int i = 0; i < B; i++)
            for (int o = 0; o < OUT; o++) db[o] += dy[(size_t)i * OUT + o];
    /* dx (B,IN) += dy (B,OUT) * W (OUT,IN) */
    if (dx) lay_gemm(0, 0, B, IN, OUT, dy, OUT, w, ld, 1.0f, dx, IN);
}

void efc_forward(float *y, const float *x, const float *w, int B, int SI, int SO, int E,
                 int ld) {
    // x is (B,SI,E), w is (SO,ld) of which (SO,SI) is used, y is (B,SO,E)
    for (int b = 0; b < B; b++) /* y[b] (SO,E) = W (SO,SI) * x[b] (SI,E) */
        lay_gemm(0, 0, SO, E, SI, w, ld, x + (size_t)b * SI * E, E, 0.0f, y + (size_t)b * SO * E, E);
}

void efc_backward(float *dx, float *dw, const float *dy, const float *x, const float *w, int B,
                  int SI, int SO, int E, int ld) {
    for (int b = 0; b < B; b++) {
        const float *dyb = dy + (size_t)b * SO * E, *xb = x + (size_t)b * SI * E;
        /* dW (SO,SI) += dy[b] (SO,E) * x[b]^T (E,SI) */
        if (dw) lay_gemm(0, 1, SO, SI, E, dyb, E, xb, E, 1.0f, dw, ld);
        /* dx[b] (SI,E) += W^T (SI,SO) * dy[b] (SO,E) */
        if (dx) lay_gemm(1, 0, SI, E, SO, w, ld, dyb, E, 1.0f, dx + (size_t)b * SI * E, E);
    }
}

/* ---- dot-product interaction -------------------------------------------------------------- */

void dot_forward(float *y, const float *x, int B, int n, int E) {
    // x is (B,n,E), y is (B,n(n-1)/2)
    size_t np = (size_t)n * (n - 1) / 2;
    for (int b = 0; b < B; b++) {
        const float *xb = x + (size_t)b * n * E;
        float *yb = y + (size_t)b * np;
        size_t k = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                float s = 0.0f;
                for (int e = 0; e < E; e++) s += xb[(size_t)i * E + e] * xb[(size_t)j * E + e];
                yb[k++] = s;
            }
    }
}

void dot_backward(float *dx, const float *dy, const float *x, int B, int n, int E) {
    size_t np = (size_t)n * (n - 1) / 2;
    for (int b = 0; b < B; b++) {
        const float *xb = x + (size_t)b * n * E, *db = dy + (size_t)b * np;
        float *gb = dx + (size_t)b * n * E;
        size_t k = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++, k++) {
                float g = db[k];
                if (g == 0.0f) continue;
                for (int e = 0; e < E; e++) {
                    gb[(size_t)i * E + e] += g * xb[(size_t)j * E + e];
                    gb[(size_t)j * E + e] += g * xb[(size_t)i * E + e];
                }
            }
    }
}

/* ---- layer norm, sigmoid, BCE --------------------------------------------------------------- */

void layernorm_forward(float *y, float *aux, const float *x, const float *gamma,
                       const float *beta, int R, int G, float eps) {
    // x and y are (R,G), gamma and beta are (G), aux is (2,R): mean, inv-std
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * G;
        float *yr = y + (size_t)r * G;
        double m = 0, v = 0;
        for (int g = 0; g < G; g++) m += xr[g];
        m /= G;
        for (int g = 0; g < G; g++) v += (xr[g] - m) * (xr[g] - m);
        float is = (float)(1.0 / sqrt(v / G + eps));
        aux[r] = (float)m;
        aux[R + r] = is;
        for (int g = 0; g < G; g++) {
            float h = (xr[g] - (float)m) * is;
            yr[g] = gamma ? gamma[g] * h + beta[g] : h;
        }
    }
}

void layernorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *x, const float *gamma, const float *aux, int R, int G) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * G, *dr = dy + (size_t)r * G;
        float m = aux[r], is = aux[R + r];
        /* dh = dy * gamma; dx = is * (dh - mean(dh) - h * mean(dh * h)) */
        double s1 = 0, s2 = 0;
        for (int g = 0; g < G; g++) {
            float h = (xr[g] - m) * is, dh = gamma ? dr[g] * gamma[g] : dr[g];
            s1 += dh;
            s2 += dh * h;
            if (dgamma) {
                dgamma[g] += dr[g] * h;
                dbeta[g] += dr[g];
            }
        }
        if (!dx) continue;
        float a = (float)(s1 / G), c = (float)(s2 / G);
        float *gx = dx + (size_t)r * G;
        for (int g = 0; g < G; g++) {
            float h = (xr[g] - m) * is, dh = gamma ? dr[g] * gamma[g] : dr[g];
            gx[g] += is * (dh - a - h * c);
        }
    }
}

static float sigm(float z) {
    return z >= 0 ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z));
}

void sigmoid_forward(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = sigm(x[i]);
}

void sigmoid_backward(float *dx, const float *dy, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

float bce_forward(const float *z, const int *labels, int B) {
    double s = 0;
    for (int b = 0; b < B; b++) {
        if (labels[b] != 0 && labels[b] != 1) return NAN;
        /* -[y log s(z) + (1-y) log(1-s(z))] = max(z,0) - z*y + log(1 + exp(-|z|)) */
        double zb = z[b];
        s += (zb > 0 ? zb : 0) - zb * labels[b] + log1p(exp(-fabs(zb)));
    }
    return (float)(s / B);
}

void bce_backward(float *dz, const float *z, const int *labels, float dloss, int B) {
    for (int b = 0; b < B; b++) dz[b] += dloss * (sigm(z[b]) - (float)labels[b]) / (float)B;
}

/* ---- graph nodes ---------------------------------------------------------------------------- */

static size_t per_ex(const node_t *d) { return (size_t)d->C * d->H * d->W; }

/* A view of at least (r,c) (c = 0: 1-D of at least r) named "<name>.<sfx>": the existing one
 * (weight sharing), or a new exact one. Its id, or -1. */
static int bind(params_t *P, const char *name, const char *sfx, int kind, int r, int c) {
    char full[sizeof P->v[0].name];
    if (snprintf(full, sizeof full, "%s.%s", name, sfx) >= (int)sizeof full) return -1;
    int id = params_find(P, full, 0);
    if (id >= 0) {
        const pview_t *v = &P->v[id];
        if (v->kind != kind || v->n_dim != (c ? 2 : 1) || v->shape[0] < r || (c && v->shape[1] < c))
            return -1;
        return id;
    }
    int sh[2] = {r, c};
    return params_declare(P, full, kind, c ? 2 : 1, sh);
}

int net_embed(net_t *net, int x, const char *name, int col0, int F, int rows, int E) {
    if (!net_node_ok(net, x) || F < 1 || rows < 1 || E < 1 || col0 < 0 ||
        (size_t)col0 + F > per_ex(&net->nodes[x]))
        return -1;
    char full[sizeof net->P->v[0].name];
    int sh[2] = {F * rows, E};
    if (snprintf(full, sizeof full, "%s.w", name) >= (int)sizeof full) return -1;
    int p = params_declare(net->P, full, PK_EMB, 2, sh);
    node_t *d = p < 0 ? NULL : net_node_new(net, OP_EMBED, F, E, 1);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x, d->p[0] = p, d->k = col0, d->stride = rows;
    return net->n - 1;
}

int net_slice(net_t *net, int x, int col0, int n) {
    if (!net_node_ok(net, x) || col0 < 0 || n < 1 || (size_t)col0 + n > per_ex(&net->nodes[x])) return -1;
    node_t *d = net_node_new(net, OP_SLICE, n, 1, 1);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x, d->k = col0;
    return net->n - 1;
}

int net_rlinear(net_t *net, int x, const char *name, int out, int bias) {
    if (!net_node_ok(net, x) || out < 1) return -1;
    int in = (int)per_ex(&net->nodes[x]);
    int w = bind(net->P, name, "w", PK_LINEAR_W, out, in);
    int b = bias ? bind(net->P, name, "b", PK_BIAS, out, 0) : -1;
    node_t *d = w < 0 || (bias && b < 0) ? NULL : net_node_new(net, OP_RLINEAR, out, 1, 1);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x, d->p[0] = w, d->p[1] = b;
    d->k = net->P->v[w].shape[1];
    return net->n - 1;
}

int net_efc(net_t *net, int x, const char *name, int so) {
    if (!net_node_ok(net, x) || so < 1) return -1;
    const node_t *X = &net->nodes[x];
    int si = X->C, E = X->H * X->W;
    int w = bind(net->P, name, "w", PK_LINEAR_W, so, si);
    node_t *d = w < 0 ? NULL : net_node_new(net, OP_EFC, so, E, 1);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x, d->p[0] = w;
    d->k = net->P->v[w].shape[1];
    return net->n - 1;
}

int net_dot(net_t *net, int x) {
    if (!net_node_ok(net, x) || net->nodes[x].C < 2) return -1;
    int n = net->nodes[x].C;
    node_t *d = net_node_new(net, OP_DOT, n * (n - 1) / 2, 1, 1);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x;
    return net->n - 1;
}

/* Length of the normalized (last) axis of a node. */
static int last_axis(const node_t *X) { return X->H * X->W > 1 ? X->H * X->W : X->C; }

int net_layernorm(net_t *net, int x, const char *name) {
    if (!net_node_ok(net, x)) return -1;
    node_t X = net->nodes[x];
    int G = last_axis(&X);
    int g = bind(net->P, name, "gamma", PK_BN_GAMMA, G, 0);
    int b = bind(net->P, name, "beta", PK_BN_BETA, G, 0);
    node_t *d = g < 0 || b < 0 ? NULL : net_node_new(net, OP_LN, X.C, X.H, X.W);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x, d->p[0] = g, d->p[1] = b;
    d->n_aux = 2 * (size_t)d->B * (per_ex(&X) / G);
    return net->n - 1;
}

int net_sigmoid(net_t *net, int x) {
    if (!net_node_ok(net, x)) return -1;
    node_t X = net->nodes[x];
    node_t *d = net_node_new(net, OP_SIGMOID, X.C, X.H, X.W);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = x;
    return net->n - 1;
}

int net_mul(net_t *net, int a, int b) {
    if (!net_node_ok(net, a) || !net_node_ok(net, b) || per_ex(&net->nodes[a]) != per_ex(&net->nodes[b]))
        return -1;
    node_t X = net->nodes[a];
    node_t *d = net_node_new(net, OP_MUL, X.C, X.H, X.W);
    if (!d) return -1;
    d->n_in = 2, d->in[0] = a, d->in[1] = b;
    return net->n - 1;
}

int net_concat(net_t *net, int n, const int *in, int row) {
    if (n < 1 || n > NET_MAX_IN || row < 1) return -1;
    size_t tot = 0;
    for (int i = 0; i < n; i++) {
        if (!net_node_ok(net, in[i]) || per_ex(&net->nodes[in[i]]) % (size_t)row) return -1;
        tot += per_ex(&net->nodes[in[i]]);
    }
    node_t *d = net_node_new(net, OP_CONCAT, (int)(tot / (size_t)row), row, 1);
    if (!d) return -1;
    d->n_in = n;
    memcpy(d->in, in, sizeof(int) * n);
    return net->n - 1;
}

int net_bce(net_t *net, int logits) {
    if (!net_node_ok(net, logits) || net->loss >= 0 || per_ex(&net->nodes[logits]) != 1) return -1;
    node_t *d = net_node_new(net, OP_BCE, 1, 1, 1);
    if (!d) return -1;
    d->n_in = 1, d->in[0] = logits;
    net->logits = logits;
    return net->loss = net->n - 1;
}

/* ---- the ops' definitions (rows of net.h's op table) -------------------------------------- */

static float *vw(const net_t *net, int v) { return v >= 0 ? net->P->w + net->P->v[v].off : NULL; }
static float *vg(const net_t *net, int v) { return v >= 0 ? net->P->g + net->P->v[v].off : NULL; }
static node_t *in0(const net_t *net, const node_t *d) { return &net->nodes[d->in[0]]; }
static size_t all(const node_t *d) { return (size_t)d->B * per_ex(d); }

static int embed_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    embed_forward(d->y, X->y, vw(net, d->p[0]), d->B, (int)per_ex(X), d->k, d->C, d->stride,
                  d->H);
    return 0;
}

static void embed_bwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    embed_backward(vg(net, d->p[0]), d->dy, X->y, d->B, (int)per_ex(X), d->k, d->C, d->stride,
                   d->H);
}

static size_t embed_params(const net_t *net, const node_t *d) { return net->P->v[d->p[0]].n; }

static int slice_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    for (int b = 0; b < d->B; b++)
        memcpy(d->y + (size_t)b * d->C, X->y + (size_t)b * per_ex(X) + d->k, sizeof(float) * d->C);
    return 0;
}

static void slice_bwd(net_t *net, node_t *d) {
    node_t *X = in0(net, d);
    for (int b = 0; b < d->B; b++) {
        float *dx = X->dy + (size_t)b * per_ex(X) + d->k;
        const float *g = d->dy + (size_t)b * d->C;
        for (int c = 0; c < d->C; c++) dx[c] += g[c];
    }
}

static int rlinear_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    rlinear_forward(d->y, X->y, vw(net, d->p[0]), vw(net, d->p[1]), d->B, (int)per_ex(X), d->C,
                    d->k);
    return 0;
}

static void rlinear_bwd(net_t *net, node_t *d) {
    node_t *X = in0(net, d);
    rlinear_backward(X->dy, vg(net, d->p[0]), vg(net, d->p[1]), d->dy, X->y, vw(net, d->p[0]),
                     d->B, (int)per_ex(X), d->C, d->k);
}

static double rlinear_flops(const net_t *net, const node_t *d) {
    return (double)d->C * per_ex(in0(net, d));
}

static size_t rlinear_params(const net_t *net, const node_t *d) {
    return (size_t)d->C * per_ex(in0(net, d)) + (d->p[1] >= 0 ? (size_t)d->C : 0);
}

static int efc_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    efc_forward(d->y, X->y, vw(net, d->p[0]), d->B, X->C, d->C, d->H, d->k);
    return 0;
}

static void efc_bwd(net_t *net, node_t *d) {
    node_t *X = in0(net, d);
    efc_backward(X->dy, vg(net, d->p[0]), d->dy, X->y, vw(net, d->p[0]), d->B, X->C, d->C, d->H,
                 d->k);
}

static double efc_flops(const net_t *net, const node_t *d) {
    return (double)d->C * in0(net, d)->C * d->H;
}

static size_t efc_params(const net_t *net, const node_t *d) {
    return (size_t)d->C * in0(net, d)->C;
}

static int dot_fwd(net_t *net, node_t *d) {
    const node_t *X = in0(net, d);
    dot_forward(d->y, X->y, d->B, X->C, X->H * X->W);
    return 0;
}

static void dot_bwd(net_t *net, node_t *d) {
    node_t *X = in0(net, d);
    dot_backward(X->dy, d->dy, X->y, d->B, X->C, X->H * X->W);
}

static double dot_flops(const net_t *net, const node_t *d) {
    const node_t *X = in0(net, d);
    return (double)d->C * X->H * X->W;
}

static int ln_fwd(net_t *net, node_t *d) {
    int G = last_axis(d);
    layernorm_forward(d->y, d->aux, in0(net, d)->y, vw(net, d->p[0]), vw(net, d->p[1]),
                      (int)(all(d) / (size_t)G), G, 1e-5f);
    return 0;
}

static void ln_bwd(net_t *net, node_t *d) {
    node_t *X = in0(net, d);
    int G = last_axis(d);
    layernorm_backward(X->dy, vg(net, d->p[0]), vg(net, d->p[1]), d->dy, X->y, vw(net, d->p[0]),
                       d->aux, (int)(all(d) / (size_t)G), G);
}

static size_t ln_params(const net_t *net, const node_t *d) {
    (void)net;
    return 2 * (size_t)last_axis(d);
}

static int sigmoid_fwd(net_t *net, node_t *d) {
    sigmoid_forward(d->y, in0(net, d)->y, all(d));
    return 0;
}

static void sigmoid_bwd(net_t *net, node_t *d) {
    sigmoid_backward(in0(net, d)->dy, d->dy, d->y, all(d));
}

static int mul_fwd(net_t *net, node_t *d) {
    const float *a = in0(net, d)->y, *b = net->nodes[d->in[1]].y;
    size_t n = all(d);
    for (size_t i = 0; i < n; i++) d->y[i] = a[i] * b[i];
    return 0;
}

static void mul_bwd(net_t *net, node_t *d) {
    node_t *X = in0(net, d), *Y = &net->nodes[d->in[1]];
    size_t n = all(d);
    for (size_t i = 0; i < n; i++) {
        X->dy[i] += d->dy[i] * Y->y[i];
        Y->dy[i] += d->dy[i] * X->y[i];
    }
}

static int concat_fwd(net_t *net, node_t *d) {
    size_t at = 0, row = per_ex(d);
    for (int j = 0; j < d->n_in; j++) {
        const node_t *I = &net->nodes[d->in[j]];
        size_t m = per_ex(I);
        for (int b = 0; b < d->B; b++)
            memcpy(d->y + (size_t)b * row + at, I->y + (size_t)b * m, sizeof(float) * m);
        at += m;
    }
    return 0;
}

static void concat_bwd(net_t *net, node_t *d) {
    size_t at = 0, row = per_ex(d);
    for (int j = 0; j < d->n_in; j++) {
        node_t *I = &net->nodes[d->in[j]];
        size_t m = per_ex(I);
        for (int b = 0; b < d->B; b++) {
            float *dx = I->dy + (size_t)b * m;
            const float *g = d->dy + (size_t)b * row + at;
            for (size_t k = 0; k < m; k++) dx[k] += g[k];
        }
        at += m;
    }
}

/* without labels the forward pass stops at the logits */
static int bce_fwd(net_t *net, node_t *d) {
    d->y[0] = net->labels ? bce_forward(in0(net, d)->y, net->labels, d->B) : 0.0f;
    return 1;
}

static void bce_bwd(net_t *net, node_t *d) {
    node_t *X = in0(net, d);
    if (net->labels) bce_backward(X->dy, X->y, net->labels, d->dy[0], d->B);
}

/* name, flags, forward, backward, flops, params, aux (LN: set by net_layernorm), workspace */
const op_def_t op_embed = {"embed", 0, embed_fwd, embed_bwd, NULL, embed_params, NULL, NULL};
const op_def_t op_slice = {"slice", 0, slice_fwd, slice_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_rlinear = {"rlinear", 0, rlinear_fwd, rlinear_bwd, rlinear_flops,
                             rlinear_params, NULL, NULL};
const op_def_t op_efc = {"efc", 0, efc_fwd, efc_bwd, efc_flops, efc_params, NULL, NULL};
const op_def_t op_dot = {"dot", 0, dot_fwd, dot_bwd, dot_flops, NULL, NULL, NULL};
const op_def_t op_ln = {"layernorm", 0, ln_fwd, ln_bwd, NULL, ln_params, NULL, NULL};
const op_def_t op_sigmoid = {"sigmoid", 0, sigmoid_fwd, sigmoid_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_mul = {"mul", 0, mul_fwd, mul_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_concat = {"concat", 0, concat_fwd, concat_bwd, NULL, NULL, NULL, NULL};
const op_def_t op_bce = {"bce", OPF_LOSS, bce_fwd, bce_bwd, NULL, NULL, NULL, NULL};
