/* synflow.c — SynFlow in double precision over the graph (batch 1, |W|, all-ones input).
 *
 * SynFlow (Tanaka et al., zero-cost-nas): every parameter replaced by its absolute value,
 * BN off (identity), one all-ones input; R = sum of the logits; score sum_i theta_i
 * dR/dtheta_i over conv and linear weights. It runs its own forward/backward over the graph
 * in double with direct loops (batch 1), so deep nets do not overflow float; a graph with
 * an op it has no loop for (the recommender ops) gets no score. */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ops this file has double-precision loops for (OP_ZERO stays zero, the loss is not
 * part of R). */
static int synflow_knows(int op) {
    switch (op) {
    case OP_INPUT: case OP_ZERO: case OP_CONV: case OP_BN: case OP_RELU: case OP_ADD:
    case OP_AVGPOOL3: case OP_AVGPOOL2: case OP_GAP: case OP_LINEAR: case OP_XENT:
        return 1;
    default:
        return 0;
    }
}

/* Per node output and gradient, one example, in double. */
typedef struct {
    const net_t *net;
    const params_t *P;
    double **y, **dy;
} sf_t;

static int sf_alloc(sf_t *s, const net_t *net, const params_t *P) {
    int n = net->n;
    s->net = net, s->P = P;
    s->y = calloc((size_t)n, sizeof *s->y), s->dy = calloc((size_t)n, sizeof *s->dy);
    int ok = s->y && s->dy;
    for (int k = 0; ok && k < n; k++) {
        const node_t *nd = &net->nodes[k];
        size_t sz = (size_t)nd->C * nd->H * nd->W;
        s->y[k] = calloc(sz ? sz : 1, sizeof(double));
        s->dy[k] = calloc(sz ? sz : 1, sizeof(double));
        ok = s->y[k] && s->dy[k];
    }
    return ok ? 0 : -1;
}

static void sf_free(sf_t *s) {
    for (int k = 0; s->y && k < s->net->n; k++) free(s->y[k]);
    for (int k = 0; s->dy && k < s->net->n; k++) free(s->dy[k]);
    free(s->y);
    free(s->dy);
}

/* out (OC,OH,OW) = conv of x (C,H,W) with |w|; with d (the output's gradient) instead,
 * dx += |w|^T d and *score += |w| d x term by term (the sum's order is the score's). */
static void sf_conv(const node_t *nd, const node_t *in, const float *w, const double *x,
                    double *out, const double *d, double *dx, double *score) {
    int C = in->C, H = in->H, W = in->W, K = nd->k;
    for (int oc = 0; oc < nd->C; oc++)
        for (int oh = 0; oh < nd->H; oh++)
            for (int ow = 0; ow < nd->W; ow++) {
                size_t o = ((size_t)oc * nd->H + oh) * nd->W + ow;
                double s = 0, g = d ? d[o] : 0;
                if (d && g == 0) continue;
                for (int ci = 0; ci < C; ci++)
                    for (int a = 0; a < K; a++) {
                        int ih = oh * nd->stride - nd->pad + a;
                        if (ih < 0 || ih >= H) continue;
                        for (int e = 0; e < K; e++) {
                            int iw = ow * nd->stride - nd->pad + e;
                            if (iw < 0 || iw >= W) continue;
                            double aw = fabs(w[((size_t)(oc * C + ci) * K + a) * K + e]);
                            size_t xi = ((size_t)ci * H + ih) * W + iw;
                            if (d) {
                                dx[xi] += aw * g;
                                *score += aw * g * x[xi];
                            } else {
                                s += aw * x[xi];
                            }
                        }
                    }
                if (!d) out[o] = s;
            }
}

/* 3x3 stride-1 average pool, padding not counted: out = pool(x), or dx += pool^T(d). */
static void sf_avgpool3(const node_t *nd, const node_t *in, const double *x, double *out,
                        const double *d, double *dx) {
    for (int ch = 0; ch < nd->C; ch++)
        for (int i = 0; i < nd->H; i++)
            for (int j = 0; j < nd->W; j++) {
                double s = 0;
                int cnt = 0;
                for (int a = i - 1; a <= i + 1; a++)
                    for (int e = j - 1; e <= j + 1; e++)
                        if (a >= 0 && a < in->H && e >= 0 && e < in->W) {
                            if (!d) s += x[((size_t)ch * in->H + a) * in->W + e];
                            cnt++;
                        }
                size_t o = ((size_t)ch * nd->H + i) * nd->W + j;
                if (!d) {
                    out[o] = s / cnt;
                    continue;
                }
                double g = d[o] / cnt;
                for (int a = i - 1; a <= i + 1; a++)
                    for (int e = j - 1; e <= j + 1; e++)
                        if (a >= 0 && a < in->H && e >= 0 && e < in->W)
                            dx[((size_t)ch * in->H + a) * in->W + e] += g;
            }
}

static void sf_avgpool2(const node_t *nd, const node_t *in, const double *x, double *out,
                        const double *d, double *dx) {
    for (int ch = 0; ch < nd->C; ch++)
        for (int i = 0; i < nd->H; i++)
            for (int j = 0; j < nd->W; j++) {
                size_t o = ((size_t)ch * nd->H + i) * nd->W + j;
                size_t q = ((size_t)ch * in->H + 2 * i) * in->W + 2 * j;
                if (!d) {
                    const double *p = x + q;
                    out[o] = 0.25 * (p[0] + p[1] + p[in->W] + p[in->W + 1]);
                    continue;
                }
                double g = 0.25 * d[o], *p = dx + q;
                p[0] += g;
                p[1] += g;
                p[in->W] += g;
                p[in->W + 1] += g;
            }
}

/* out = |b| + |W| x, or dx += |W|^T d and *score += |W| d x term by term. */
static void sf_linear(const sf_t *s, const node_t *nd, const node_t *in, const double *x,
                      double *out, const double *d, double *dx, double *score) {
    const float *w = s->P->w + s->P->v[nd->p[0]].off;
    size_t IN = (size_t)in->C * in->H * in->W;
    if (!d) {
        const float *bb = nd->p[1] >= 0 ? s->P->w + s->P->v[nd->p[1]].off : NULL;
        for (int q = 0; q < nd->C; q++) {
            double t = bb ? fabs(bb[q]) : 0;
            for (size_t j = 0; j < IN; j++) t += fabs(w[q * IN + j]) * x[j];
            out[q] = t;
        }
        return;
    }
    for (int q = 0; q < nd->C; q++)
        for (size_t j = 0; j < IN; j++) {
            double aw = fabs(w[q * IN + j]);
            dx[j] += aw * d[q];
            *score += aw * d[q] * x[j];
        }
}

static void sf_forward(sf_t *s, int k) {
    const net_t *net = s->net;
    const node_t *nd = &net->nodes[k];
    const node_t *in = nd->n_in > 0 ? &net->nodes[nd->in[0]] : NULL;
    const double *x = in ? s->y[nd->in[0]] : NULL;
    double *out = s->y[k];
    size_t sz = (size_t)nd->C * nd->H * nd->W;
    switch (nd->op) {
    case OP_INPUT:
        for (size_t j = 0; j < sz; j++) out[j] = 1;
        break;
    case OP_CONV:
        sf_conv(nd, in, s->P->w + s->P->v[nd->p[0]].off, x, out, NULL, NULL, NULL);
        break;
    case OP_BN:
        memcpy(out, x, sz * sizeof(double));
        break;
    case OP_RELU:
        for (size_t j = 0; j < sz; j++) out[j] = x[j] > 0 ? x[j] : 0;
        break;
    case OP_ADD:
        for (int q = 0; q < nd->n_in; q++)
            for (size_t j = 0; j < sz; j++) out[j] += s->y[nd->in[q]][j];
        break;
    case OP_AVGPOOL3:
        sf_avgpool3(nd, in, x, out, NULL, NULL);
        break;
    case OP_AVGPOOL2:
        sf_avgpool2(nd, in, x, out, NULL, NULL);
        break;
    case OP_GAP: {
        size_t hw = (size_t)in->H * in->W;
        for (int ch = 0; ch < nd->C; ch++) {
            double t = 0;
            for (size_t j = 0; j < hw; j++) t += x[ch * hw + j];
            out[ch] = t / (double)hw;
        }
        break;
    }
    case OP_LINEAR:
        sf_linear(s, nd, in, x, out, NULL, NULL, NULL);
        break;
    default: /* OP_ZERO stays zero */
        break;
    }
}

/* Node k's gradient into its inputs; its weights' terms added to *score. */
static void sf_backward(sf_t *s, int k, double *score) {
    const net_t *net = s->net;
    const node_t *nd = &net->nodes[k];
    if (nd->n_in == 0) return;
    const node_t *in = &net->nodes[nd->in[0]];
    const double *x = s->y[nd->in[0]], *d = s->dy[k];
    double *dx = s->dy[nd->in[0]];
    size_t sz = (size_t)nd->C * nd->H * nd->W;
    switch (nd->op) {
    case OP_CONV:
        sf_conv(nd, in, s->P->w + s->P->v[nd->p[0]].off, x, NULL, d, dx, score);
        break;
    case OP_BN:
        for (size_t j = 0; j < sz; j++) dx[j] += d[j];
        break;
    case OP_RELU:
        for (size_t j = 0; j < sz; j++)
            if (x[j] > 0) dx[j] += d[j];
        break;
    case OP_ADD:
        for (int q = 0; q < nd->n_in; q++)
            for (size_t j = 0; j < sz; j++) s->dy[nd->in[q]][j] += d[j];
        break;
    case OP_AVGPOOL3:
        sf_avgpool3(nd, in, x, NULL, d, dx);
        break;
    case OP_AVGPOOL2:
        sf_avgpool2(nd, in, x, NULL, d, dx);
        break;
    case OP_GAP: {
        size_t hw = (size_t)in->H * in->W;
        for (int ch = 0; ch < nd->C; ch++)
            for (size_t j = 0; j < hw; j++) dx[ch * hw + j] += d[ch] / (double)hw;
        break;
    }
    case OP_LINEAR:
        sf_linear(s, nd, in, x, NULL, d, dx, score);
        break;
    default:
        break;
    }
}

static int p_synflow(proxy_ctx_t *c, proxy_out_t *o) {
    for (int k = 0; k < c->net->n; k++)
        if (!synflow_knows(c->net->nodes[k].op)) return 0;
    proxy_restore(c);
    const net_t *net = c->net;
    sf_t s;
    if (sf_alloc(&s, net, c->P)) {
        sf_free(&s);
        return -1;
    }
    double score = 0;
    for (int k = 0; k <= net->logits; k++) sf_forward(&s, k);
    /* backward from dR/dlogits = 1, accumulating theta * dR/dtheta */
    const node_t *lg = &net->nodes[net->logits];
    for (size_t j = 0; j < (size_t)lg->C * lg->H * lg->W; j++) s.dy[net->logits][j] = 1;
    for (int k = net->logits; k >= 0; k--) sf_backward(&s, k, &score);
    sf_free(&s);
    if (!isfinite(score)) {
        proxy_set_err(o, "synflow: overflow in double precision");
        score = NAN;
    }
    proxy_set_out(o, "synflow", score);
    return 0;
}

const proxy_t proxy_synflow = {
    "synflow", PROXY_DEFAULT | PROXY_LIVE_ONLY,
    "sum |W| dR/d|W|, R = sum of logits, all-ones input, BN off, double; higher is better",
    p_synflow,
};
