/* aznas.c — the four AZ-NAS components (Lee & Ham, CVPR 2024) over the block outputs the
 * space marks (net->block: stem, cells, reductions), on batch 0 at the inherited weights:
 *   expressivity   sum over blocks of the entropy of the normalized eigenvalues of the
 *                  channel covariance over all B*H*W positions (isotropy of the features);
 *   progressivity  the smallest increase of that entropy from one block to the next;
 *   trainability   mean over consecutive blocks of 2 - s - 1/(s + 1e-6), s the largest
 *                  singular value of E[g_in g_out^T], g_out a Rademacher vector at the
 *                  block's output and g_in = J^T g_out at its input (undefined, NaN,
 *                  when a block is the identity or constant);
 *   complexity     FLOPs: the flops proxy (a separate proxy because it counts operations
 *                  whose output never reaches the loss, and these keys do not).
 * AZ-NAS itself ranks candidates by each component and sums log(rank/M) over the four:
 * `rank --aggregate aznas_expressivity,aznas_progressivity,aznas_trainability,flops --log`
 * (docs/proxies.md). */
#include "proxy_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Entropy of the normalized eigenvalues of the channel covariance of map y (B,C,hw);
 * ws holds C*C + 2C doubles. */
static double expressivity(const float *y, int B, int C, size_t hw, double *ws) {
    double *cov = ws, *mean = ws + (size_t)C * C, *ev = mean + C;
    double N = (double)B * hw;
    memset(ws, 0, ((size_t)C * C + C) * sizeof(double));
    for (int b = 0; b < B; b++)
        for (int p = 0; p < C; p++) {
            const float *yp = y + ((size_t)b * C + p) * hw;
            for (size_t j = 0; j < hw; j++) mean[p] += yp[j];
        }
    for (int p = 0; p < C; p++) mean[p] /= N;
    for (int b = 0; b < B; b++)
        for (int p = 0; p < C; p++) {
            const float *yp = y + ((size_t)b * C + p) * hw;
            for (int q = p; q < C; q++) {
                const float *yq = y + ((size_t)b * C + q) * hw;
                double s = 0;
                for (size_t j = 0; j < hw; j++) s += (yp[j] - mean[p]) * (yq[j] - mean[q]);
                cov[p * C + q] += s;
            }
        }
    for (int p = 0; p < C; p++)
        for (int q = p; q < C; q++) cov[q * C + p] = cov[p * C + q] /= N;
    proxy_sym_eigvals(cov, C, ev);
    double tot = 0, h = 0;
    for (int p = 0; p < C; p++) tot += ev[p];
    for (int p = 0; p < C; p++) {
        double pr = ev[p] / tot; /* a rounding-negative eigenvalue would give log(<0) */
        if (pr < 0) pr = 0;
        h -= pr * log(pr + 1e-8);
    }
    return h;
}

/* Largest singular value of the (m x n) matrix a: sqrt of the largest eigenvalue of the
 * smaller Gram matrix. ws: min(m,n)^2 + min(m,n) doubles. */
static double top_singular(const double *a, int m, int n, double *ws) {
    int r = m < n ? m : n;
    double *G = ws, *ev = ws + (size_t)r * r;
    for (int i = 0; i < r; i++)
        for (int j = i; j < r; j++) {
            double s = 0;
            if (m <= n)
                for (int k = 0; k < n; k++) s += a[(size_t)i * n + k] * a[(size_t)j * n + k];
            else
                for (int k = 0; k < m; k++) s += a[(size_t)k * n + i] * a[(size_t)k * n + j];
            G[i * r + j] = G[j * r + i] = s;
        }
    proxy_sym_eigvals(G, r, ev);
    double top = 0;
    for (int i = 0; i < r; i++)
        if (ev[i] > top) top = ev[i];
    return sqrt(top);
}

/* One consecutive pair's trainability term: backward of Rademacher signs from block `to`
 * to block `from`. The signs come from r, element by element in NCHW order (bit e%64 of
 * word e/64). mat and ws are sized by the caller. */
static double pair_term(net_t *net, int from, int to, rng_t *r, double *mat, double *ws) {
    node_t *fo = &net->nodes[to];
    const node_t *fi = &net->nodes[from];
    size_t n_out = (size_t)fo->B * fo->C * fo->H * fo->W;
    net_zero_dy(net);
    uint64_t bits = 0;
    for (size_t e = 0; e < n_out; e++) {
        if (e % 64 == 0) bits = rng_u64(r);
        fo->dy[e] = (bits >> (e % 64)) & 1 ? 1.0f : -1.0f;
    }
    if (from == to || fi->op == OP_ZERO || fo->op == OP_ZERO) return NAN; /* identity, no path */
    net_backward_from(net, to);
    int s = fi->H / fo->H; /* a reduction halves H and W: pixel-unshuffle g_in by s */
    if (s < 1 || fi->H != s * fo->H || fi->W != s * fo->W) return NAN;
    int ci = fi->C * s * s, co = fo->C, B = fo->B;
    size_t hwo = (size_t)fo->H * fo->W;
    if (s == 1 && ci == co && memcmp(fi->dy, fo->dy, n_out * sizeof(float)) == 0) return NAN;
    memset(mat, 0, (size_t)ci * co * sizeof(double));
    for (int b = 0; b < B; b++)
        for (int c = 0; c < fi->C; c++)
            for (int dh = 0; dh < s; dh++)
                for (int dw = 0; dw < s; dw++) {
                    int row = (c * s + dh) * s + dw; /* PixelUnshuffle's channel order */
                    for (int oh = 0; oh < fo->H; oh++)
                        for (int ow = 0; ow < fo->W; ow++) {
                            double gi = fi->dy[(((size_t)b * fi->C + c) * fi->H + oh * s + dh) * fi->W +
                                               ow * s + dw];
                            const float *go = fo->dy + (size_t)b * co * hwo + (size_t)oh * fo->W + ow;
                            for (int q = 0; q < co; q++) mat[(size_t)row * co + q] += gi * go[q * hwo];
                        }
                }
    for (size_t j = 0; j < (size_t)ci * co; j++) mat[j] /= (double)B * hwo;
    double sv = top_singular(mat, ci, co, ws);
    return 2 - sv - 1 / (sv + 1e-6);
}

static int p_aznas(proxy_ctx_t *c, proxy_out_t *o) {
    net_t *net = c->net;
    if (net->n_block < 2) return 0; /* the space marks no blocks: not defined */
    double L = proxy_batch0(c);
    int cmax = 0;
    for (int i = 0; i < net->n_block; i++) {
        const node_t *nd = &net->nodes[net->block[i]];
        int cu = nd->C * 4; /* unshuffled input channels of a reduction */
        if (cu > cmax) cmax = cu;
    }
    double *ws = malloc(((size_t)cmax * cmax * 3 + 4 * (size_t)cmax + 4) * sizeof(double));
    if (!ws) return -1;
    double *mat = ws + (size_t)cmax * cmax + 2 * (size_t)cmax;
    double *ws2 = mat + (size_t)cmax * cmax;
    double expr = 0, prog = INFINITY, prev = 0;
    for (int i = 0; i < net->n_block; i++) {
        const node_t *nd = &net->nodes[net->block[i]];
        double e = expressivity(nd->y, nd->B, nd->C, (size_t)nd->H * nd->W, ws);
        expr += e;
        if (i > 0 && e - prev < prog) prog = e - prev;
        if (isnan(e)) prog = NAN;
        prev = e;
    }
    /* Trainability overwrites the dy buffers and (without no_param_grad) P->g: batch 0's
     * cached pass is gone afterwards. */
    int npg = net->no_param_grad;
    net->no_param_grad = 1;
    rng_t r;
    rng_seed(&r, 1);
    double tr = 0;
    for (int i = net->n_block - 1; i >= 1; i--)
        tr += pair_term(net, net->block[i - 1], net->block[i], &r, mat, ws2);
    tr /= net->n_block - 1;
    net->no_param_grad = npg;
    c->have_batch0 = 0;
    free(ws);
    /* The authors' code makes these -inf (ranked last); here they are NaN, which rank
     * also orders last, with the reason. */
    if (!isfinite(L)) {
        proxy_set_err(o, "aznas: loss not finite");
        expr = prog = tr = NAN;
    } else if (!isfinite(expr) || !isfinite(prog)) {
        proxy_set_err(o, "aznas: a block's features are constant (no path through a cell)");
        expr = prog = NAN;
    }
    if (isfinite(L) && !isfinite(tr)) {
        proxy_set_err(o, "aznas: a block is the identity or constant (trainability undefined)");
        tr = NAN;
    }
    proxy_set_out(o, "aznas_expressivity", expr);
    proxy_set_out(o, "aznas_progressivity", prog);
    proxy_set_out(o, "aznas_trainability", tr);
    return 0;
}

const proxy_t proxy_aznas = {
    "aznas", PROXY_BATCH0 | PROXY_NODE_DY | PROXY_LIVE_ONLY,
    "AZ-NAS components aznas_expressivity, _progressivity, _trainability (with flops, rank --aggregate ... --log is AZ-NAS); higher is better",
    p_aznas,
};
