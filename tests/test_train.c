/* test_train.c — the engine's training loop (train.h) against the loop written out here:
 * the same Fisher-Yates order per epoch, zero grad, forward, backward and SGD or Adagrad
 * step at a cosine schedule, bit for bit; a net callback that fails and a loss that is not
 * finite stop it with the step named. */
#include "engine/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_fail;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    if (!ok) n_fail++;
}

#define N_EX 37
#define D 5
#define K 3

typedef struct {
    float x[N_EX * D];
    int y[N_EX];
    net_t *net;
    long bad_step; /* net_fn fails at this step (-1: never) */
    long n_steps;
    double sum_loss;
} fix_t;

static void batch_fn(void *arg, const int *pos, int b, float *x, int *y) {
    fix_t *f = arg;
    for (int i = 0; i < b; i++) {
        memcpy(x + (size_t)i * D, f->x + (size_t)pos[i] * D, D * sizeof(float));
        y[i] = f->y[pos[i]];
    }
}

static net_t *net_fn(void *arg, long t, int k, char *err, size_t n_err) {
    fix_t *f = arg;
    (void)k;
    if (t == f->bad_step) {
        snprintf(err, n_err, "no net at step %ld", t + 1);
        return NULL;
    }
    return f->net;
}

static void step_fn(void *arg, long ep, long s, long t, float loss) {
    fix_t *f = arg;
    (void)ep, (void)s, (void)t;
    f->n_steps++;
    f->sum_loss += loss;
}

static int build(net_t *net, params_t *P, int B, uint64_t seed) {
    params_init(P);
    net_init(net, P, B);
    rng_t r;
    rng_seed(&r, seed);
    int h = net_input(net, D, 1, 1);
    h = net_linear(net, h, "l1", 4, 1);
    h = net_relu(net, h);
    h = net_linear(net, h, "l2", K, 1);
    return net_xent(net, h) < 0 || net_finalize(net, &r) ? -1 : 0;
}

/* The loop written out: what train_run must do. */
static void reference(fix_t *f, net_t *net, const train_t *T) {
    int B = T->batch, perm[N_EX];
    float x[N_EX * D];
    int y[N_EX];
    unsigned char used[16];
    rng_t rd;
    rng_seed(&rd, T->order_seed);
    for (int i = 0; i < N_EX; i++) perm[i] = i;
    for (long ep = 0, t = 0; ep < T->epochs; ep++) {
        for (int i = N_EX - 1; i > 0; i--) {
            int j = (int)rng_below(&rd, (uint64_t)i + 1), tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        for (int s = 0; s < N_EX / B; s++, t++) {
            batch_fn(f, perm + s * B, B, x, y);
            params_zero_grad(net->P);
            net->bn_mode = BN_TRAIN;
            for (int k = 0; k < (T->nets_per_step > 1 ? T->nets_per_step : 1); k++) {
                net_forward(net, x, y); /* gradients of the step's networks add up */
                net_backward(net);
            }
            net_used_params(net, used);
            float lr = (float)optim_lr(&T->sched, t);
            if (T->opt.kind == OPTIMIZER_ADAGRAD) {
                adagrad_step(net->P, used, lr, 1e-8f);
            } else {
                sgd_t o = {lr, T->opt.momentum, T->opt.weight_decay, T->opt.nesterov};
                sgd_step(&o, net->P, used);
            }
        }
    }
}

static void run(int kind, const char *name) {
    fix_t f = {.bad_step = -1};
    rng_t r;
    rng_seed(&r, 5);
    for (int i = 0; i < N_EX * D; i++) f.x[i] = (float)rng_normal(&r);
    for (int i = 0; i < N_EX; i++) f.y[i] = (int)rng_below(&r, K);
    params_t P1, P2;
    net_t n1, n2;
    int B = 4;
    if (build(&n1, &P1, B, 9) || build(&n2, &P2, B, 9)) {
        check(0, "build");
        return;
    }
    f.net = &n1;
    train_t T = {.n_examples = N_EX, .batch = B, .epochs = 3, .order_seed = 77,
                 .x_floats = D, .opt = {kind, 0.9f, 5e-4f, 1},
                 .sched = {OPTIM_COSINE, 0.05, 0, 3 * (N_EX / B), 2},
                 .batch_fn = batch_fn, .net_fn = net_fn, .step_fn = step_fn, .arg = &f};
    char err[128] = "";
    int rc = train_run(&T, err, sizeof err);
    reference(&f, &n2, &T);
    char what[160];
    snprintf(what, sizeof what, "%s: train_run = the loop written out, bit for bit (%ld steps)",
             name, f.n_steps);
    check(rc == 0 && f.n_steps == 3 * (N_EX / B) &&
              memcmp(P1.w, P2.w, P1.n_floats * sizeof(float)) == 0 &&
              memcmp(P1.m, P2.m, P1.n_floats * sizeof(float)) == 0 && isfinite(f.sum_loss),
          what);

    /* Two networks per step (here the same one twice): the gradients add up, one update. */
    net_free(&n1), net_free(&n2), params_free(&P1), params_free(&P2);
    if (build(&n1, &P1, B, 9) || build(&n2, &P2, B, 9)) {
        check(0, "build");
        return;
    }
    T.nets_per_step = 2, f.n_steps = 0;
    rc = train_run(&T, err, sizeof err);
    reference(&f, &n2, &T);
    check(rc == 0 && f.n_steps == 3 * (N_EX / B) &&
              memcmp(P1.w, P2.w, P1.n_floats * sizeof(float)) == 0,
          "two nets per step: gradients summed over them, one update, bit for bit");
    T.nets_per_step = 1;

    f.bad_step = 5, f.n_steps = 0;
    rc = train_run(&T, err, sizeof err);
    check(rc == -1 && f.n_steps == 5 && strcmp(err, "no net at step 6") == 0,
          "a net that cannot be built stops the loop with the callback's error");
    f.bad_step = -1, f.n_steps = 0;
    for (size_t j = 0; j < P1.n_floats; j++) P1.w[j] = INFINITY; /* inf - inf in the logits */
    rc = train_run(&T, err, sizeof err);
    long e_at = 0, s_at = 0;
    int named = sscanf(err, "training diverged: loss is not finite at epoch %ld step %ld", &e_at,
                       &s_at) == 2;
    if (!named || rc != -1) printf("# rc %d err: %s\n", rc, err);
    check(rc == -1 && named && f.n_steps == (e_at - 1) * (N_EX / B) + s_at - 1,
          "a loss that is not finite stops the loop, naming epoch and step");
    net_free(&n1), net_free(&n2), params_free(&P1), params_free(&P2);
}

int main(void) {
    run(OPTIMIZER_SGD, "sgd");
    run(OPTIMIZER_ADAGRAD, "adagrad");
    check(strcmp(optimizer_name(OPTIMIZER_ADAGRAD), "adagrad") == 0 &&
              strcmp(optimizer_name(OPTIMIZER_SGD), "sgd") == 0,
          "optimizer names");
    printf("%s\n", n_fail ? "FAILED" : "all ok");
    return n_fail ? 1 : 0;
}
