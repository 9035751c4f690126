/* train.c — the training step and loop (see train.h). */
#include "engine/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long train_steps_per_epoch(const train_t *T) {
    return T->batch > 0 ? T->n_examples / T->batch : 0;
}

float train_step(net_t *net, const float *x, const int *y, const optimizer_t *opt, float lr,
                 unsigned char *used) {
    params_t *P = net->P;
    net->bn_mode = BN_TRAIN;
    params_zero_grad(P);
    float loss = net_forward(net, x, y);
    if (!isfinite(loss)) return loss;
    net_backward(net);
    net_used_params(net, used);
    optimizer_step(opt, P, used, lr);
    return loss;
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
            net_t *net = T->net_fn(T->arg, t, err, n_err);
            if (!net) goto out;
            if (!used && !(used = malloc((size_t)net->P->n + 1))) {
                snprintf(err, n_err, "out of memory");
                goto out;
            }
            T->batch_fn(T->arg, perm + s * B, B, x, y);
            float lr = (float)optim_lr(&T->sched, t);
            float loss = train_step(net, x, y, &T->opt, lr, used);
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
