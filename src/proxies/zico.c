/* zico.c — ZiCo: SiGeo's S1 over K batches at the inherited weights, no steps. */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int p_zico(proxy_ctx_t *c, proxy_out_t *o) {
    size_t n_w = proxy_weight_count(c);
    float *G = malloc((n_w ? n_w : 1) * c->n_batches * sizeof(float));
    if (!G) return -1;
    double L;
    if (proxy_batch_grads(c, 0, G, &L)) {
        free(G);
        return -1;
    }
    double v = proxy_s1(c, G, c->n_batches);
    free(G);
    if (!isfinite(L) || !isfinite(v)) {
        char why[160];
        snprintf(why, sizeof why, "zico: not finite (S1 %g, loss %g)", v, L);
        proxy_set_err(o, why);
        v = NAN;
    }
    proxy_set_out(o, "zico", v);
    return 0;
}

const proxy_t proxy_zico = {
    "zico", PROXY_DEFAULT | PROXY_LIVE_ONLY,
    "sum_m log(sum_i mean|g|/std(g)) over K batches, no steps; higher is better",
    p_zico,
};
