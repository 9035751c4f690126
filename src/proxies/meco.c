/* meco.c — MeCo (Jiang et al., NeurIPS 2023): for the feature map f of every layer on one
 * example, the C x C Pearson correlation between its channels (each a vector over the
 * H*W positions), and its smallest eigenvalue; the score sums those over the layers.
 * Correlations undefined because a channel is constant count as 0, as in the authors'
 * code (docs/proxies.md). */
#include "proxy_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Smallest eigenvalue of the channel correlation of one example's map (C, hw); NaN when
 * the map has fewer than 2 channels or positions. */
static double min_corr_eig(const float *y, int C, size_t hw, double *R, double *mean,
                           double *sd, double *ev) {
    if (C < 2 || hw < 2) return NAN;
    for (int p = 0; p < C; p++) {
        double m = 0, v = 0;
        for (size_t j = 0; j < hw; j++) m += y[p * hw + j];
        m /= (double)hw;
        for (size_t j = 0; j < hw; j++) {
            double d = y[p * hw + j] - m;
            v += d * d;
        }
        mean[p] = m;
        sd[p] = sqrt(v);
    }
    for (int p = 0; p < C; p++)
        for (int q = p; q < C; q++) {
            double r = 0;
            if (sd[p] > 0 && sd[q] > 0) {
                for (size_t j = 0; j < hw; j++)
                    r += (y[p * hw + j] - mean[p]) * (y[q * hw + j] - mean[q]);
                r /= sd[p] * sd[q];
            }
            R[p * C + q] = R[q * C + p] = r;
        }
    proxy_sym_eigvals(R, C, ev);
    double lo = INFINITY;
    for (int p = 0; p < C; p++)
        if (ev[p] < lo) lo = ev[p];
    return lo;
}

/* canon[k]: the first node that computes the same value as node k (the same op on
 * inputs of the same values with the same parameters, as the ReLU or pool of a cell node
 * that several edges read); one feature map is counted once. */
static void canonical(const net_t *net, int *canon) {
    for (int k = 0; k < net->n; k++) {
        const node_t *a = &net->nodes[k];
        canon[k] = k;
        for (int j = 0; j < k && canon[k] == k && a->n_in > 0; j++) {
            const node_t *b = &net->nodes[j];
            if (canon[j] != j || b->op != a->op || b->n_in != a->n_in ||
                memcmp(b->p, a->p, sizeof a->p) != 0)
                continue;
            int same = 1;
            for (int q = 0; q < a->n_in && same; q++) same = canon[b->in[q]] == canon[a->in[q]];
            if (same) canon[k] = j;
        }
    }
}

static int p_meco(proxy_ctx_t *c, proxy_out_t *o) {
    if (c->net->nodes[c->net->loss].op != OP_XENT) return 0; /* image nets only */
    double L = proxy_batch0(c);
    const net_t *net = c->net;
    int cmax = 0;
    for (int k = 0; k < net->n; k++)
        if (net->nodes[k].C > cmax) cmax = net->nodes[k].C;
    double *buf = malloc(((size_t)cmax * cmax + 3 * (size_t)cmax + 1) * sizeof(double));
    int *canon = malloc((size_t)net->n * sizeof(int));
    if (!buf || !canon) {
        free(buf);
        free(canon);
        return -1;
    }
    canonical(net, canon);
    double *R = buf, *mean = R + (size_t)cmax * cmax, *sd = mean + cmax, *ev = sd + cmax;
    double s = 0;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        /* every feature map the net computes; the input and the constant zero nodes are
         * no layer's output */
        if (nd->op == OP_INPUT || nd->op == OP_ZERO || nd->op == OP_XENT || !nd->y ||
            canon[k] != k)
            continue;
        double v = min_corr_eig(nd->y, nd->C, (size_t)nd->H * nd->W, R, mean, sd, ev);
        if (isfinite(v)) s += v;
    }
    free(buf);
    free(canon);
    if (!isfinite(L)) proxy_set_err(o, "meco: loss not finite");
    proxy_set_out(o, "meco", isfinite(L) ? s : NAN);
    return 0;
}

const proxy_t proxy_meco = {
    "meco", PROXY_DEFAULT | PROXY_BATCH0,
    "sum over feature maps of the smallest eigenvalue of one example's channel Pearson correlation; higher is better",
    p_meco,
};
