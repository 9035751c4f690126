/* grasp.c — GraSP: -theta . (H g) by a central difference of the gradient along g. */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GraSP: -theta . (H g) over conv/linear weights, H g by a central difference of the
 * gradient along g. */
#define GRASP_REL_STEP 3e-3
static int p_grasp(proxy_ctx_t *c, proxy_out_t *o) {
    size_t n_w = proxy_weight_count(c);
    float *buf = malloc((n_w ? n_w : 1) * 4 * sizeof(float));
    if (!buf) return -1;
    float *g0 = buf, *th = buf + n_w, *gp = buf + 2 * n_w, *gm = buf + 3 * n_w;
    double L = proxy_batch0(c);
    proxy_gather(c, c->P->g, g0);
    proxy_gather(c, c->P->w, th);
    double ng = 0, nt = 0;
    for (size_t j = 0; j < n_w; j++) {
        ng += (double)g0[j] * g0[j];
        nt += (double)th[j] * th[j];
    }
    double s = 0;
    if (ng > 0) {
        double h = GRASP_REL_STEP * sqrt(nt > 0 ? nt : 1) / sqrt(ng);
        for (int sign = 1; sign >= -1; sign -= 2) {
            size_t k = 0;
            for (int i = 0; i < c->P->n; i++) {
                if (!proxy_used_weight(c, i)) continue;
                float *w = c->P->w + c->P->v[i].off;
                for (size_t j = 0; j < c->P->v[i].n; j++, k++)
                    w[j] = (float)(th[k] + sign * h * g0[k]);
            }
            double l = proxy_run_batch(c, c->x, c->y);
            if (!isfinite(l)) L = l;
            proxy_gather(c, c->P->g, sign > 0 ? gp : gm);
        }
        for (size_t j = 0; j < n_w; j++) s -= th[j] * ((double)gp[j] - gm[j]) / (2 * h);
        proxy_restore(c);
        c->have_batch0 = 0;
    }
    free(buf);
    proxy_set_grad_score(o, "grasp", L, s);
    return 0;
}

const proxy_t proxy_grasp = {
    "grasp", PROXY_DEFAULT | PROXY_BATCH0,
    "-sum W * (H g) over conv/linear weights; higher is better",
    p_grasp,
};
