/* proxy.c — what every proxy shares: the working parameters restored from the supernet,
 * the batch passes and the batch-0 cache, the output setters, and the plan a caller
 * derives from the selected proxies' flags. The proxies are one file each (or one per
 * tight family) and one row in table.c; docs/proxies.md has every definition. */
#include "proxy_impl.h"
#include "engine/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers over the working parameters ---------------------------------------- */

static int is_weight(const params_t *P, int i) {
    return P->v[i].kind == PK_CONV || P->v[i].kind == PK_LINEAR_W;
}

int proxy_used_weight(const proxy_ctx_t *c, int i) {
    return c->used[i] && is_weight(c->P, i);
}

size_t proxy_weight_count(const proxy_ctx_t *c) {
    size_t n = 0;
    for (int i = 0; i < c->P->n; i++)
        if (proxy_used_weight(c, i)) n += c->P->v[i].n;
    return n;
}

static void copy_state(proxy_ctx_t *c, int sv) {
    if (sv < 0) return;
    const pview_t *d = &c->P->sv[sv], *s = &c->src->sv[sv];
    memcpy(c->P->s + d->off, c->src->s + s->off, d->n * sizeof(float));
}

void proxy_restore(proxy_ctx_t *c) {
    for (int i = 0; i < c->P->n; i++)
        if (c->used[i])
            memcpy(c->P->w + c->P->v[i].off, c->src->w + c->src->v[i].off,
                   c->P->v[i].n * sizeof(float));
    for (int k = 0; k < c->net->n; k++) {
        const node_t *nd = &c->net->nodes[k];
        if (nd->op != OP_BN) continue;
        copy_state(c, nd->st[0]);
        copy_state(c, nd->st[1]);
    }
}

void proxy_ctx_reset(proxy_ctx_t *c) {
    c->have_batch0 = 0;
    c->have_g0 = 0;
    c->have_jacov = 0;
}

void proxy_ctx_free(proxy_ctx_t *c) {
    free(c->g0);
    c->g0 = NULL;
    c->n_g0 = 0;
    c->have_g0 = 0;
    if (c->lat_net) net_free(&c->lat_net[0]), net_free(&c->lat_net[1]);
    free(c->lat_net);
    c->lat_net = NULL;
}

size_t proxy_img_size(const proxy_ctx_t *c) {
    return (size_t)c->c * c->h * c->w;
}

int proxy_batch_pass(proxy_ctx_t *c, const float *x, const int *y, int want_j, double *loss) {
    c->net->bn_mode = BN_BATCH;
    float l = net_forward(c->net, x, y);
    *loss = l;
    if (want_j && proxy_jacov_after_forward(c, l)) return -1;
    params_zero_grad(c->P);
    net_backward(c->net);
    return 0;
}

double proxy_run_batch(proxy_ctx_t *c, const float *x, const int *y) {
    double loss;
    proxy_batch_pass(c, x, y, 0, &loss); /* cannot fail without want_j */
    return loss;
}

double proxy_batch0(proxy_ctx_t *c) {
    if (!c->have_batch0) {
        proxy_restore(c);
        c->loss0 = proxy_run_batch(c, c->x, c->y);
        c->have_batch0 = 1;
    }
    return c->loss0;
}

void proxy_gather(const proxy_ctx_t *c, const float *buf, float *dst) {
    size_t k = 0;
    for (int i = 0; i < c->P->n; i++)
        if (proxy_used_weight(c, i)) {
            memcpy(dst + k, buf + c->P->v[i].off, c->P->v[i].n * sizeof(float));
            k += c->P->v[i].n;
        }
}

void proxy_set_out(proxy_out_t *o, const char *key, double v) {
    if (o->n < PROXY_MAX_KEYS) {
        o->key[o->n] = key;
        o->v[o->n] = v;
        o->n++;
    }
}

void proxy_set_err(proxy_out_t *o, const char *why) {
    if (!o->err[0]) snprintf(o->err, sizeof o->err, "%s", why);
}

void proxy_set_grad_score(proxy_out_t *o, const char *key, double loss, double v) {
    if (!isfinite(loss) || !isfinite(v)) {
        char why[64];
        snprintf(why, sizeof why, "%s: loss or gradient not finite", key);
        proxy_set_err(o, why);
        v = NAN;
    }
    proxy_set_out(o, key, v);
}

/* ---- gradients over the scoring batches (SiGeo, ZiCo) ----------------------------- */

int proxy_batch_grads_j(proxy_ctx_t *c, float lr, float *G, double *loss, int want_j) {
    size_t n_w = proxy_weight_count(c), sz = proxy_img_size(c);
    int B = c->net->batch;
    sgd_t o = {.lr = lr, .momentum = 0, .weight_decay = 0, .nesterov = 0};
    proxy_restore(c);
    c->have_batch0 = 0;
    *loss = NAN;
    for (int b = 0; b < c->n_batches; b++) {
        /* Without steps, batch 0's gradient is the cached one (same weights, same batch);
         * with steps the step needs it in P->g, so it is recomputed. */
        if (b == 0 && lr == 0 && c->have_g0 && c->n_batches > 1 && !want_j) {
            memcpy(G, c->g0, n_w * sizeof(float));
        } else {
            if (proxy_batch_pass(c, c->x + (size_t)b * B * sz, c->y + (size_t)b * B,
                           b == 0 && want_j, loss))
                return -1;
            proxy_gather(c, c->P->g, G + (size_t)b * n_w);
        }
        if (b == 0 && !c->have_g0) {
            if (c->n_g0 < n_w) {
                float *p = realloc(c->g0, (n_w ? n_w : 1) * sizeof(float));
                if (!p) return -1;
                c->g0 = p;
                c->n_g0 = n_w;
            }
            memcpy(c->g0, G, n_w * sizeof(float));
            c->have_g0 = 1;
        }
        if (lr != 0) sgd_step(&o, c->P, c->used);
    }
    return 0;
}

int proxy_batch_grads(proxy_ctx_t *c, float lr, float *G, double *loss) {
    return proxy_batch_grads_j(c, lr, G, loss, 0);
}

/* ---- the table and the plan ---------------------------------------------------------- */

int proxy_count(void) {
    int n = 0;
    while (proxy_table[n]) n++;
    return n;
}

int proxy_index(const char *name) {
    for (int i = 0; proxy_table[i]; i++)
        if (strcmp(proxy_table[i]->name, name) == 0) return i;
    return -1;
}

const proxy_t *proxy_find(const char *name) {
    int i = proxy_index(name);
    return i < 0 ? NULL : proxy_table[i];
}

void proxy_plan(const unsigned char *on, proxy_plan_t *plan) {
    memset(plan, 0, sizeof *plan);
    plan->share_dy = 1;
    plan->no_input_dy = 1;
    for (int i = 0; proxy_table[i]; i++) {
        if (!on[i]) continue;
        unsigned f = proxy_table[i]->flags;
        if (f & PROXY_NODE_DY) plan->share_dy = 0;
        plan->n_live_only += (f & PROXY_LIVE_ONLY) != 0;
    }
}
