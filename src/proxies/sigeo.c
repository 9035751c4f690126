/* sigeo.c — SiGeo: l1*S1 + l2*S2 - l3*L + l4*J over K batches with a plain-SGD step
 * after each (S1, S2 also serve ZiCo; docs/proxies.md). */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double proxy_s1(const proxy_ctx_t *c, const float *G, int K) {
    size_t n_w = proxy_weight_count(c), k = 0;
    double s1 = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!proxy_used_weight(c, i)) continue;
        double layer = 0;
        for (size_t j = k; j < k + c->P->v[i].n; j++) {
            double mean = 0, mabs = 0, var = 0;
            for (int b = 0; b < K; b++) {
                double g = G[(size_t)b * n_w + j];
                mean += g;
                mabs += fabs(g);
            }
            mean /= K;
            mabs /= K;
            for (int b = 0; b < K; b++) {
                double d = G[(size_t)b * n_w + j] - mean;
                var += d * d;
            }
            double sd = sqrt(var / K); /* population std, as numpy's default */
            if (sd != 0) layer += mabs / sd; /* NaN is not 0: it propagates, as in numpy */
        }
        if (layer != 0) s1 += log(layer);
        k += c->P->v[i].n;
    }
    return s1;
}

double proxy_s2(const proxy_ctx_t *c, const float *G, int K) {
    size_t n_w = proxy_weight_count(c), k = 0;
    double s = 0;
    for (int i = 0; i < c->P->n; i++) {
        if (!proxy_used_weight(c, i)) continue;
        const float *th = c->P->w + c->P->v[i].off;
        double dot = 0;
        for (size_t j = 0; j < c->P->v[i].n; j++) {
            double g = 0;
            for (int b = 0; b < K; b++) g += G[(size_t)b * n_w + k + j];
            dot += g * th[j];
        }
        s += fabs(dot);
        k += c->P->v[i].n;
    }
    return 2.0 * log(s + 1e-5);
}

static int p_sigeo(proxy_ctx_t *c, proxy_out_t *o) {
    /* J, the Jacobian-covariance term, at the inherited weights before any step (the
     * same value as the jacov proxy, from the forward pass of SiGeo's first batch);
     * skipped when its weight is 0. */
    int want_j = c->lambda[3] != 0;
    size_t n_w = proxy_weight_count(c);
    float *G = malloc((n_w ? n_w : 1) * c->n_batches * sizeof(float));
    if (!G) return -1;
    double L;
    if (proxy_batch_grads_j(c, c->step_lr, G, &L, want_j && !c->have_jacov)) {
        free(G);
        return -1;
    }
    double J = want_j ? c->jacov_s : 0;
    int flat = want_j && c->jacov_flat;
    if (flat) J = NAN;
    double s1 = proxy_s1(c, G, c->n_batches), s2 = proxy_s2(c, G, c->n_batches);
    free(G);
    double v = c->lambda[0] * s1 + c->lambda[1] * s2 - c->lambda[2] * L;
    if (c->lambda[3] != 0) v += c->lambda[3] * J;
    if (!isfinite(v) || !isfinite(L)) {
        char why[160];
        if (flat)
            snprintf(why, sizeof why, "sigeo: the output does not depend on the input (no path "
                     "through the cell), so the Jacobian term J is undefined");
        else
            snprintf(why, sizeof why, "sigeo: not finite (S1 %g, S2 %g, loss %g, J %g)", s1, s2,
                     L, J);
        proxy_set_err(o, why);
    }
    proxy_set_out(o, "sigeo", isfinite(v) && isfinite(L) ? v : NAN);
    proxy_set_out(o, "sigeo_s1", s1);
    proxy_set_out(o, "sigeo_s2", s2);
    proxy_set_out(o, "sigeo_loss", L);
    if (c->lambda[3] != 0) proxy_set_out(o, "sigeo_j", J);
    return 0;
}

const proxy_t proxy_sigeo = {
    "sigeo", PROXY_DEFAULT | PROXY_LIVE_ONLY | PROXY_INPUT_DY,
    "l1*S1 + l2*S2 - l3*L + l4*J (J: jacov at the inherited weights); higher is better",
    p_sigeo,
};
