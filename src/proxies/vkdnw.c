/* vkdnw.c — VKDNW (Tybl & Neumann, CVPR 2025): the Fisher information matrix of a small
 * set of weights, F = 1/B sum_b sum_c p_bc g_bc g_bc^T with g_bc the gradient of
 * log p(c | x_b) (the model's own predictive distribution, every class c weighted by its
 * softmax probability), its eigenvalues' deciles q_1..q_9, and the entropy of the
 * normalized deciles -sum t_k log t_k, t_k = q_k / sum q. The weights: the first element
 * (index 0) of every conv and linear weight the candidate uses whose gradient is not
 * identically zero. BN uses its running statistics, so the examples are independent and
 * the per-example gradients are the ones of the whole-batch passes (docs/proxies.md).
 * Keys: vkdnw (the entropy), vkdnw_dim (the number of weights, the paper's layer count)
 * and vkdnw_single = vkdnw_dim + vkdnw; all higher is better. */
#include "proxy_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* d/dw[0] of logit-seeded pass, per example: sum over the output positions of channel 0's
 * gradient times the input value its tap (0,0) of input channel 0 reads; a linear's W[0][0]
 * is dy[b][0] * x[b][0]. out has one value per example. */
static void first_weight_grad(const net_t *net, const node_t *nd, double *out) {
    const node_t *in = &net->nodes[nd->in[0]];
    int B = nd->B;
    if (nd->op == OP_LINEAR) {
        size_t n_in = (size_t)in->C * in->H * in->W, n_out = (size_t)nd->C;
        for (int b = 0; b < B; b++)
            out[b] = (double)nd->dy[b * n_out] * in->y[b * n_in];
        return;
    }
    /* conv: x is (B,C,H,W), dy is (B,OC,OH,OW) */
    size_t xs = (size_t)in->C * in->H * in->W, ys = (size_t)nd->C * nd->H * nd->W;
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int oh = 0; oh < nd->H; oh++) {
            int ih = oh * nd->stride - nd->pad;
            if (ih < 0 || ih >= in->H) continue;
            for (int ow = 0; ow < nd->W; ow++) {
                int iw = ow * nd->stride - nd->pad;
                if (iw < 0 || iw >= in->W) continue;
                s += (double)nd->dy[b * ys + (size_t)oh * nd->W + ow] *
                     in->y[b * xs + (size_t)ih * in->W + iw];
            }
        }
        out[b] = s;
    }
}

/* Linear-interpolation quantile p of sorted v (n >= 1), NumPy's default. */
static double quantile(const double *v, int n, double p) {
    double h = (n - 1) * p;
    int i = (int)floor(h);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (h - i) * (v[i + 1] - v[i]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Entropy of the normalized deciles of the n eigenvalues ev (sorted here; negative
 * round-off clamped to 0); NaN when they are all zero. */
static double decile_entropy(double *ev, int n) {
    for (int i = 0; i < n; i++)
        if (!(ev[i] > 0)) ev[i] = 0;
    qsort(ev, (size_t)n, sizeof *ev, cmp_double);
    double q[9], sum = 0, h = 0;
    for (int k = 0; k < 9; k++) sum += q[k] = quantile(ev, n, (k + 1) / 10.0);
    if (!(sum > 0)) return NAN;
    for (int k = 0; k < 9; k++)
        if (q[k] > 0) h -= q[k] / sum * log(q[k] / sum);
    return h;
}

/* The Fisher matrix: n_w weights (columns of J), J is (B, K, n_w) per-example logit
 * Jacobians, p (B, K) the softmax; F (n_w, n_w) = 1/B sum_b J_b^T (diag p_b - p_b p_b^T) J_b. */
static void fisher(const double *J, const double *p, int B, int K, int nw, int ncol, double *F) {
    memset(F, 0, (size_t)nw * nw * sizeof *F);
    for (int b = 0; b < B; b++) {
        const double *Jb = J + (size_t)b * K * ncol, *pb = p + (size_t)b * K;
        for (int i = 0; i < nw; i++)
            for (int j = i; j < nw; j++) {
                double s = 0, u = 0, v = 0; /* sum_c p_c Ji_c Jj_c - (p.Ji)(p.Jj) */
                for (int c = 0; c < K; c++) {
                    s += pb[c] * Jb[c * ncol + i] * Jb[c * ncol + j];
                    u += pb[c] * Jb[c * ncol + i];
                    v += pb[c] * Jb[c * ncol + j];
                }
                F[i * nw + j] += (s - u * v) / B;
            }
    }
    for (int i = 0; i < nw; i++)
        for (int j = 0; j < i; j++) F[i * nw + j] = F[j * nw + i];
}

/* Columns: one per distinct weight view read by a conv or linear node (a view shared by
 * several nodes gets the sum of their contributions). col[k] is node k's column or -1. */
static int columns(const net_t *net, int *col) {
    int n = 0;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        col[k] = -1;
        if ((nd->op != OP_CONV && nd->op != OP_LINEAR) || nd->p[0] < 0) continue;
        for (int j = 0; j < k && col[k] < 0; j++)
            if (col[j] >= 0 && net->nodes[j].p[0] == nd->p[0]) col[k] = col[j];
        if (col[k] < 0) col[k] = n++;
    }
    return n;
}

/* K logit-seeded backward passes fill J (B, K, ncol); p gets the softmax. */
static void jacobians(net_t *net, const int *col, int ncol, double *J, double *p, double *g) {
    const node_t *lg = &net->nodes[net->logits];
    int B = net->batch, K = lg->C;
    for (int b = 0; b < B; b++) {
        const float *z = lg->y + (size_t)b * K;
        double m = z[0], s = 0;
        for (int c = 1; c < K; c++) m = z[c] > m ? z[c] : m;
        for (int c = 0; c < K; c++) s += p[b * K + c] = exp(z[c] - m);
        for (int c = 0; c < K; c++) p[b * K + c] /= s;
    }
    memset(J, 0, (size_t)B * K * ncol * sizeof *J);
    for (int c = 0; c < K; c++) {
        net_zero_dy(net);
        float *dz = net->nodes[net->logits].dy;
        for (int b = 0; b < B; b++) dz[(size_t)b * K + c] = 1; /* row c of each Jacobian */
        net_backward_from(net, net->logits);
        for (int k = 0; k < net->n; k++) {
            const node_t *nd = &net->nodes[k];
            if (col[k] < 0 || !nd->reached) continue;
            first_weight_grad(net, nd, g);
            for (int b = 0; b < B; b++) J[((size_t)b * K + c) * ncol + col[k]] += g[b];
        }
    }
}

static int p_vkdnw(proxy_ctx_t *c, proxy_out_t *o) {
    net_t *net = c->net;
    if (net->nodes[net->loss].op != OP_XENT) return 0; /* image nets only */
    proxy_restore(c);
    c->have_batch0 = 0; /* the eval-mode pass below overwrites the batch-0 activations */
    net->bn_mode = BN_EVAL; /* running statistics: examples independent */
    double L = net_forward(net, c->x, c->y);
    int B = net->batch, K = net->nodes[net->logits].C;
    int *col = malloc((size_t)net->n * sizeof *col);
    int ncol = col ? columns(net, col) : 0;
    double *J = malloc(((size_t)B * K * (ncol + 1) + B + 2 * (size_t)ncol * ncol + ncol + 1) *
                       sizeof *J);
    if (!col || !J) {
        free(col);
        free(J);
        return -1;
    }
    double *p = J + (size_t)B * K * ncol, *g = p + (size_t)B * K, *F = g + B,
           *ev = F + (size_t)ncol * ncol;
    int save = net->no_param_grad;
    net->no_param_grad = 1; /* only the nodes' dy are read */
    jacobians(net, col, ncol, J, p, g);
    net->no_param_grad = save;
    net->bn_mode = BN_BATCH;
    /* drop weights whose gradient is identically zero (they cannot change the output) */
    int nw = 0;
    for (int j = 0; j < ncol; j++) {
        int any = 0;
        for (size_t r = 0; r < (size_t)B * K && !any; r++) any = J[r * ncol + j] != 0;
        if (!any) continue;
        for (size_t r = 0; r < (size_t)B * K; r++) J[r * ncol + nw] = J[r * ncol + j];
        nw++;
    }
    double h = NAN;
    if (nw > 0) {
        fisher(J, p, B, K, nw, ncol, F);
        proxy_sym_eigvals(F, nw, ev);
        h = decile_entropy(ev, nw);
    }
    free(col);
    free(J);
    if (!isfinite(L)) h = NAN, proxy_set_err(o, "vkdnw: loss not finite");
    if (!isfinite(h)) proxy_set_err(o, "vkdnw: Fisher matrix is zero or not finite");
    proxy_set_out(o, "vkdnw", h);
    proxy_set_out(o, "vkdnw_dim", nw);
    proxy_set_out(o, "vkdnw_single", nw + h);
    return 0;
}

const proxy_t proxy_vkdnw = {
    "vkdnw", PROXY_NODE_DY,
    "entropy of the normalized deciles of the Fisher eigenvalues of one weight per conv/linear layer (+ vkdnw_dim, vkdnw_single = dim + entropy); higher is better",
    p_vkdnw,
};
