/* eval.c — a network over a split of a feed (eval.h). */
#include "model/eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/criteo.h"

int eval_argmax(const float *l, int k) {
    int best = 0;
    for (int j = 1; j < k; j++)
        if (l[j] > l[best]) best = j;
    return best;
}

/* Cross-entropy of one row of logits against label y, in double. */
static double xent(const float *l, int k, int y) {
    double mx = l[0];
    for (int j = 1; j < k; j++)
        if (l[j] > mx) mx = l[j];
    double se = 0;
    for (int j = 0; j < k; j++) se += exp(l[j] - mx);
    return log(se) + mx - l[y];
}

int eval_split(net_t *net, const feed_t *f, int split, int clicks, eval_fn fn, void *arg,
               eval_result_t *r, char *err, size_t n_err) {
    int B = net->batch, nt = f->n[split];
    const node_t *lg = &net->nodes[net->logits];
    int k = clicks ? 1 : lg->C * lg->H * lg->W;
    float *x = malloc((size_t)B * f->c * f->h * f->w * sizeof(float));
    int *y = malloc((size_t)B * sizeof(int)), *idx = malloc((size_t)B * sizeof(int));
    /* clicks: every logit and label, for the AUC */
    float *z = clicks ? malloc(sizeof(float) * (size_t)(nt ? nt : 1)) : NULL;
    int *yt = clicks ? malloc(sizeof(int) * (size_t)(nt ? nt : 1)) : NULL;
    int rc = 0;
    if (!x || !y || !idx || (clicks && (!z || !yt))) {
        snprintf(err, n_err, "out of memory evaluating");
        rc = -1;
    }
    net->bn_mode = BN_EVAL;
    double loss = 0;
    long correct = 0;
    for (int at = 0; rc == 0 && at < nt; at += B) {
        int n = nt - at < B ? nt - at : B;
        for (int i = 0; i < B; i++) idx[i] = i < n ? at + i : 0;
        feed_batch(f, split, idx, B, x, y);
        net_forward(net, x, y);
        for (int i = 0; rc == 0 && i < n; i++) {
            const float *l = lg->y + (size_t)i * k;
            if (clicks) {
                z[at + i] = l[0], yt[at + i] = y[i];
                correct += (l[0] > 0) == (y[i] == 1);
            } else {
                loss += xent(l, k, y[i]);
                correct += eval_argmax(l, k) == y[i];
            }
            if (fn) rc = fn(arg, at + i, l, k, y[i]);
        }
    }
    if (rc == 0) {
        r->n = nt;
        r->acc = nt ? (double)correct / nt : NAN;
        r->loss = clicks ? criteo_logloss(z, yt, nt) : nt ? loss / nt : NAN;
        r->auc = clicks ? criteo_auc(z, yt, nt) : NAN;
    }
    free(x), free(y), free(idx), free(z), free(yt);
    return rc;
}

int model_feed_open(const model_t *m, const char *model_path, const model_feed_t *o, feed_t *f,
                    char *err, size_t n_err) {
    const space_cfg_t *c = &m->cfg;
    feed_opts_t fo;
    char store[sizeof m->data_options];
    memset(f, 0, sizeof *f);
    feed_opts_default(&fo, m->space->data_kind);
    if (feed_options_parse(&fo.data, m->data_options, store, sizeof store, err, n_err)) return -1;
    if (o->path) fo.data.labels = NULL; /* a labels file belongs to the data it came with */
    for (int i = 0; i < o->n_opts; i++)
        if (feed_option(&fo.data, o->opt[i], o->arg[i], err, n_err)) return -1;
    fo.data.path = o->path ? o->path : m->data_path;
    fo.data.rows = c->extra[SPACE_CFG_ROWS];
    fo.data.in_c = c->in_ch, fo.data.in_h = c->H, fo.data.in_w = c->W;
    fo.seed = m->recipe.seed;
    /* the test split as train-arch drew it; the whole training split */
    fo.fraction = o->split == FEED_TEST ? m->recipe.fraction : 1;
    fo.test_fraction = o->test_fraction;
    fo.want_test = o->split == FEED_TEST;
    fo.n_norm = m->n_norm, fo.mean = m->mean, fo.std = m->std;
    int rc = feed_open(f, &fo, err, n_err);
    if (rc) return rc;
    if (c->in_ch != f->c || c->H != f->h || c->W != f->w || c->classes != f->classes ||
        c->extra[SPACE_CFG_DENSE] != f->dense) {
        char dd[48] = "", dm[32] = ""; /* click data: the dense columns too */
        if (f->kind == DATA_CLICKS) {
            snprintf(dd, sizeof dd, " (%d dense)", f->dense);
            snprintf(dm, sizeof dm, " (%d dense)", c->extra[SPACE_CFG_DENSE]);
        } else if (f->h0 != f->h || f->w0 != f->w) {
            snprintf(dd, sizeof dd, " (resized from %dx%d)", f->h0, f->w0);
        }
        snprintf(err, n_err, "%s has %dx%dx%d inputs%s and %d classes, the model %s was trained "
                 "on %dx%dx%d%s and %d classes", f->path, f->c, f->h, f->w, dd, f->classes,
                 model_path, c->in_ch, c->H, c->W, dm, c->classes);
        return -1;
    }
    return 0;
}
