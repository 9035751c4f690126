/* fisher.c — Fisher (zero-cost-nas) over the outputs of every weight layer. */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A weight layer's output for Fisher: a conv or linear node, or (recommender ops) a sliced
 * linear / EFC node, or a sum of such nodes. nasrec writes one linear layer over several
 * sources as per-source projections summed by OP_ADD (one layer over the concatenated
 * inputs); that sum is the layer's output, so its parts are not counted on their own. */
static int rec_linear(const net_t *net, int k) {
    const node_t *nd = &net->nodes[k];
    if (nd->op == OP_RLINEAR || nd->op == OP_EFC) return 1;
    if (nd->op != OP_ADD) return 0;
    for (int q = 0; q < nd->n_in; q++)
        if (!rec_linear(net, nd->in[q])) return 0;
    return 1;
}

static int fisher_layer(const net_t *net, int k) {
    const node_t *nd = &net->nodes[k];
    if (nd->op == OP_CONV || nd->op == OP_LINEAR) return 1;
    if (!rec_linear(net, k)) return 0;
    int n_cons = 0, n_sum = 0; /* a part read only by sums of linear layers is absorbed */
    for (int m = k + 1; m < net->n; m++)
        for (int q = 0; q < net->nodes[m].n_in; q++)
            if (net->nodes[m].in[q] == k) {
                n_cons++;
                n_sum += net->nodes[m].op == OP_ADD && rec_linear(net, m);
                break;
            }
    return n_cons == 0 || n_sum < n_cons;
}

/* Fisher (zero-cost-nas): over the output a of every weight layer (fisher_layer),
 * 0.5 * mean_b (sum_hw a * dL/da)^2 summed over channels and layers. A channel is a conv's
 * output channel over its positions, a linear unit, or an EFC output row over the E
 * embedding positions its weight row is shared across ((B,SO,E) is C=SO, H=E). */
static int p_fisher(proxy_ctx_t *c, proxy_out_t *o) {
    double L = proxy_batch0(c), s = 0;
    const net_t *net = c->net;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (!fisher_layer(net, k) || !nd->y || !nd->dy) continue;
        size_t hw = (size_t)nd->H * nd->W;
        for (int b = 0; b < nd->B; b++)
            for (int ch = 0; ch < nd->C; ch++) {
                const float *y = nd->y + ((size_t)b * nd->C + ch) * hw;
                const float *d = nd->dy + ((size_t)b * nd->C + ch) * hw;
                double t = 0;
                for (size_t j = 0; j < hw; j++) t += (double)y[j] * d[j];
                s += t * t;
            }
    }
    s *= 0.5 / net->batch;
    proxy_set_grad_score(o, "fisher", L, s);
    return 0;
}

const proxy_t proxy_fisher = {
    "fisher", PROXY_DEFAULT | PROXY_LIVE_ONLY | PROXY_BATCH0 | PROXY_NODE_DY,
    "sum over conv/linear/EFC layer outputs of 0.5 mean_b (sum_hw a dL/da)^2; higher is better",
    p_fisher,
};
