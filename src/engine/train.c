/* train.c — the training step and loop (see train.h). */
#include "engine/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long train_steps_per_epoch(const train_t *T) {
    return T->batch > 0 ? T->n_examples / T->batch : 0;
}

/* Step t over its networks: gradients summed over them, one update of every view any of
 * them uses. used (scratch) is allocated at the first call, sized from the first
 * network's parameters; the caller frees it. Returns the mean loss; not finite: no
 * update. *failed: a network could not be built, or out of memory (err set). */
static float step_nets(const train_t *T, long t, const float *x, const int *y, float lr,
                       unsigned char **used, int *failed, char *err, size_t n_err) {
    int m = T->nets_per_step > 1 ? T->nets_per_step : 1;
    double sum = 0;
    params_t *P = NULL;
    *failed = 0;
    for (int k = 0; k < m; k++) {
        net_t *net = T->net_fn(T->arg, t, k, err, n_err);
        if (!net) return *failed = 1, NAN;
        if (!P) {
            P = net->P;
            if (!*used && !(*used = malloc((size_t)P->n + 1))) {
                snprintf(err, n_err, "out of memory");
                return *failed = 1, NAN;
            }
            params_zero_grad(P);
            memset(*used, 0, (size_t)P->n);
        }
        net->bn_mode = BN_TRAIN;
        float loss = net_forward(net, x, y);
        if (!isfinite(loss)) return loss;
        net_backward(net);
        net_mark_params(net, *used);
        sum += loss;
    }
    optimizer_step(&T->opt, P, *used, lr);
    return (float)(sum / m);
}

int train_run(const train_t *T, char *err, size_t n_err) {
    int B = T->batch, n = T->n_examples;
    long per_epoch = train_steps_per_epoch(T);
    float *x = malloc((size_t)B * T->x_floats * sizeof(float));
    int *y = malloc((size_t)B * sizeof(int));
    int *perm = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    unsigned char *used = NULL;
    int rc = -1;
    if (!x || !y || !perm) {
        snprintf(err, n_err, "out of memory");
        goto out;
    }
    rng_t rd;
    rng_seed(&rd, T->order_seed);
    for (int i = 0; i < n; i++) perm[i] = i;
    for (long ep = 0, t = 0; ep < T->epochs; ep++) {
        rng_shuffle(&rd, perm, n);
        for (long s = 0; s < per_epoch; s++, t++) {
            T->batch_fn(T->arg, perm + s * B, B, x, y);
            float lr = (float)optim_lr(&T->sched, t);
            int failed;
            float loss = step_nets(T, t, x, y, lr, &used, &failed, err, n_err);
            if (failed) goto out;
            if (!isfinite(loss)) {
                snprintf(err, n_err, "training diverged: loss is not finite at epoch %ld step %ld "
                         "(try a lower --lr)", ep + 1, s + 1);
                goto out;
            }
            if (T->step_fn) T->step_fn(T->arg, ep, s, t, loss);
        }
    }
    rc = 0;
out:
    free(x), free(y), free(perm), free(used);
    return rc;
}
