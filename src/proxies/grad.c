/* grad.c — grad_norm and SNIP: sums over the used weights' batch-0 gradients. */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int p_grad_norm(proxy_ctx_t *c, proxy_out_t *o) {
    double L = proxy_batch0(c), s = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!proxy_used_weight(c, i)) continue;
        const float *g = c->P->g + c->P->v[i].off;
        double q = 0;
        for (size_t j = 0; j < c->P->v[i].n; j++) q += (double)g[j] * g[j];
        s += sqrt(q);
    }
    proxy_set_grad_score(o, "grad_norm", L, s);
    return 0;
}

static int p_snip(proxy_ctx_t *c, proxy_out_t *o) {
    double L = proxy_batch0(c), s = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!proxy_used_weight(c, i)) continue;
        const float *g = c->P->g + c->P->v[i].off, *w = c->P->w + c->P->v[i].off;
        for (size_t j = 0; j < c->P->v[i].n; j++) s += fabs((double)g[j] * w[j]);
    }
    proxy_set_grad_score(o, "snip", L, s);
    return 0;
}

const proxy_t proxy_grad_norm = {
    "grad_norm", PROXY_DEFAULT | PROXY_LIVE_ONLY | PROXY_BATCH0,
    "sum over conv/linear weights of ||dL/dW||_2; higher is better",
    p_grad_norm,
};

const proxy_t proxy_snip = {
    "snip", PROXY_DEFAULT | PROXY_LIVE_ONLY | PROXY_BATCH0,
    "sum |W * dL/dW| over conv/linear weights; higher is better",
    p_snip,
};
