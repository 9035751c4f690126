/* oneshot.c — the one-shot baseline: inherited weights, BN statistics recomputed. */
#include "proxy_impl.h"
#include "data/criteo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inherited weights, BN running statistics recomputed for this subnet as the cumulative
 * average over n_bn batches (momentum 1/t), then loss and accuracy on n_eval batches in
 * evaluation mode; with a binary cross-entropy loss (click data: one logit, imbalanced
 * labels, so accuracy says little) also the ROC AUC of the logits over those batches.
 * No parameter changes. */
static int p_oneshot(proxy_ctx_t *c, proxy_out_t *o) {
    proxy_restore(c);
    net_t *net = c->net;
    params_t *P = c->P;
    int B = net->batch;
    size_t sz = proxy_img_size(c);
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_BN) continue;
        if (nd->st[0] >= 0) memset(P->s + P->sv[nd->st[0]].off, 0, P->sv[nd->st[0]].n * sizeof(float));
        if (nd->st[1] >= 0)
            for (size_t j = 0; j < P->sv[nd->st[1]].n; j++) P->s[P->sv[nd->st[1]].off + j] = 1;
    }
    float mom = net->bn_momentum;
    net->bn_mode = BN_TRAIN;
    for (int t = 0; t < c->n_bn; t++) {
        net->bn_momentum = 1.0f / (float)(t + 1);
        net_forward(net, c->x_bn + (size_t)t * B * sz, c->y_bn + (size_t)t * B);
    }
    net->bn_momentum = mom;
    net->bn_mode = BN_EVAL;
    double loss = 0;
    long right = 0;
    const node_t *lg = &net->nodes[net->logits];
    int K = lg->C * lg->H * lg->W;
    int binary = net->nodes[net->loss].op == OP_BCE && K == 1;
    float *z_all = NULL; /* every evaluation logit, for the AUC */
    if (binary && c->n_eval > 0 && !(z_all = malloc((size_t)c->n_eval * B * sizeof(float))))
        return -1;
    for (int t = 0; t < c->n_eval; t++) {
        const int *y = c->y_eval + (size_t)t * B;
        loss += net_forward(net, c->x_eval + (size_t)t * B * sz, y);
        for (int b = 0; b < B; b++) {
            const float *z = lg->y + (size_t)b * K;
            if (z_all) z_all[(size_t)t * B + b] = z[0];
            int best = 0;
            if (K == 1) /* one logit (binary cross-entropy): class 1 when it is positive */
                best = z[0] > 0;
            for (int q = 1; q < K; q++)
                if (z[q] > z[best]) best = q;
            right += best == y[b];
        }
    }
    net->bn_mode = BN_BATCH;
    c->have_batch0 = 0;
    double acc = c->n_eval > 0 ? (double)right / ((double)c->n_eval * B) : NAN;
    loss = c->n_eval > 0 ? loss / c->n_eval : NAN;
    if (!isfinite(loss)) proxy_set_err(o, "oneshot: evaluation loss not finite");
    proxy_set_out(o, "oneshot_acc", isfinite(loss) ? acc : NAN);
    proxy_set_out(o, "oneshot_loss", loss);
    if (binary) {
        /* y_eval holds the n_eval batches back to back, as the logits were stored */
        double auc = z_all && isfinite(loss) ? criteo_auc(z_all, c->y_eval, (long)c->n_eval * B) : NAN;
        if (isfinite(loss) && !isfinite(auc))
            proxy_set_err(o, "oneshot: AUC undefined (one class only in the evaluation batches)");
        proxy_set_out(o, "oneshot_auc", auc);
    }
    free(z_all);
    return 0;
}

const proxy_t proxy_oneshot = {
    "oneshot", PROXY_DEFAULT | PROXY_LIVE_ONLY,
    "oneshot_acc, oneshot_auc (one-logit click nets; higher is better) and oneshot_loss (lower is better) with inherited weights",
    p_oneshot,
};
