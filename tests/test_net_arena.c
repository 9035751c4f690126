/* test_net_arena.c — the net's memory plan gives the same numbers as the plain one:
 * share_dy (dy buffers reused across nodes by liveness, cleared when they become live) and
 * net_reset (one arena rebuilt for successive architectures, never zeroed) must leave the
 * loss, every parameter gradient, the BN running statistics and the input's dy
 * bit-identical to a fresh, unshared net, over many NB201 cells (dead-end nodes, all-none,
 * chains, pooling, skips) and over a second pass on dirty buffers. The lean passes too:
 * no_input_dy changes nothing but the image's gradient (left zero), no_param_grad nothing
 * but the conv, BN and linear gradients (left zero). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spaces/nb201.h"
#include "engine/net.h"
#include "base/util.h"

enum { BATCH = 5, IN_CH = 2, HW = 8, N_X = BATCH * IN_CH * HW * HW };

static int fails;

/* What a step leaves behind, for comparison. */
typedef struct {
    float loss;
    size_t n_g, n_s;
    float *g, *s;
    float dx[N_X];
    size_t n_dy; /* dy block size, to check the sharing shrinks it */
} result_t;

static void result_free(result_t *r) {
    free(r->g);
    free(r->s);
}

static space_cfg_t cfg(void) {
    space_cfg_t c;
    memset(&c, 0, sizeof c);
    c.C = 4, c.N = 2, c.in_ch = IN_CH, c.H = HW, c.W = HW, c.classes = 3;
    return c;
}

/* Two forward+backward steps (the second over the buffers the first dirtied) of the cell
 * ops on net (reset first when reuse, else freshly initialized) over fresh parameters. */
enum { LEAN_NO_INPUT_DY = 1, LEAN_NO_PARAM_GRAD = 2 };

static int step(net_t *net, int reuse, int share, int lean, const int ops[6], result_t *out) {
    space_cfg_t c = cfg();
    arch_t a;
    memset(&a, 0, sizeof a);
    a.n = 6;
    memcpy(a.g, ops, sizeof(int) * 6);
    params_t *P = net->P;
    if (reuse) net_reset(net);
    else net_init(net, P, BATCH);
    rng_t r;
    rng_seed(&r, 3);
    if (nb201_build(net, &c, &a) < 0) return -1;
    net->share_dy = share;
    net->no_input_dy = (lean & LEAN_NO_INPUT_DY) != 0;
    net->no_param_grad = (lean & LEAN_NO_PARAM_GRAD) != 0;
    if (net_finalize(net, &r) < 0) return -1;
    params_init_default(P, &r); /* same weights whatever P held before */
    float x[N_X];
    int y[BATCH];
    for (int i = 0; i < N_X; i++) x[i] = (float)rng_normal(&r);
    for (int i = 0; i < BATCH; i++) y[i] = i % 3;
    for (int rep = 0; rep < 2; rep++) {
        params_zero_grad(P);
        out->loss = net_forward(net, x, y);
        net_backward(net);
    }
    out->n_g = P->n_floats;
    out->n_s = P->n_state_floats;
    out->g = malloc(sizeof(float) * (out->n_g ? out->n_g : 1));
    out->s = malloc(sizeof(float) * (out->n_s ? out->n_s : 1));
    if (!out->g || !out->s) return -1;
    memcpy(out->g, P->g, sizeof(float) * out->n_g);
    memcpy(out->s, P->s, sizeof(float) * out->n_s);
    memcpy(out->dx, net->nodes[net->input].dy, sizeof out->dx);
    out->n_dy = net->n_dy;
    return 0;
}

static int all_zero(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0f) return 0;
    return 1;
}

static int same(const result_t *a, const result_t *b) {
    return memcmp(&a->loss, &b->loss, sizeof a->loss) == 0 && a->n_g == b->n_g &&
           a->n_s == b->n_s && memcmp(a->g, b->g, sizeof(float) * a->n_g) == 0 &&
           memcmp(a->s, b->s, sizeof(float) * a->n_s) == 0 &&
           memcmp(a->dx, b->dx, sizeof a->dx) == 0;
}

int main(void) {
    /* all supernet weights declared up front, so every cell's net shares one params_t */
    space_cfg_t c = cfg();
    params_t P;
    params_init(&P);
    if (nb201_declare_supernet(&P, &c) < 0 || params_alloc(&P) < 0) {
        printf("NOT OK cannot declare the supernet\n");
        return 1;
    }
    static const int fixed[][6] = {
        {NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3},
        {NB_CONV3, NB_SKIP, NB_CONV1, NB_AVG3, NB_NONE, NB_CONV3},
        {NB_NONE, NB_NONE, NB_NONE, NB_NONE, NB_NONE, NB_NONE},
        {NB_CONV3, NB_NONE, NB_NONE, NB_NONE, NB_NONE, NB_CONV1}, /* node 1 a dead end */
        {NB_SKIP, NB_NONE, NB_SKIP, NB_NONE, NB_NONE, NB_SKIP},   /* chain of identities */
        {NB_AVG3, NB_AVG3, NB_AVG3, NB_AVG3, NB_AVG3, NB_AVG3},
    };
    int n_fixed = (int)(sizeof fixed / sizeof fixed[0]), n_cells = 60, bad_share = 0,
        bad_reset = 0, shrunk = 0, bad_lean = 0;
    rng_t r;
    rng_seed(&r, 7);
    net_t reused;
    net_init(&reused, &P, BATCH);
    for (int it = 0; it < n_cells; it++) {
        int ops[6];
        for (int e = 0; e < 6; e++)
            ops[e] = it < n_fixed ? fixed[it][e] : (int)rng_below(&r, NB_N_OPS);
        net_t fresh;
        fresh.P = &P;
        result_t plain, shared, again;
        memset(&plain, 0, sizeof plain);
        memset(&shared, 0, sizeof shared);
        memset(&again, 0, sizeof again);
        if (step(&fresh, 0, 0, 0, ops, &plain) < 0) {
            printf("NOT OK cannot build cell %d\n", it);
            return 1;
        }
        net_free(&fresh);
        fresh.P = &P;
        if (step(&fresh, 0, 1, 0, ops, &shared) < 0) return 1;
        net_free(&fresh);
        /* one net for every cell, alternating plain and shared plans */
        if (step(&reused, 1, it % 2, 0, ops, &again) < 0) return 1;
        /* lean passes, on the reused net, shared plan on odd cells */
        result_t noin, nopar;
        memset(&noin, 0, sizeof noin);
        memset(&nopar, 0, sizeof nopar);
        if (step(&reused, 1, it % 2, LEAN_NO_INPUT_DY, ops, &noin) < 0 ||
            step(&reused, 1, it % 2, LEAN_NO_PARAM_GRAD, ops, &nopar) < 0)
            return 1;
        int ok_in = memcmp(&noin.loss, &plain.loss, sizeof noin.loss) == 0 &&
                    memcmp(noin.g, plain.g, sizeof(float) * plain.n_g) == 0 &&
                    memcmp(noin.s, plain.s, sizeof(float) * plain.n_s) == 0 &&
                    all_zero(noin.dx, N_X);
        /* every gradient of P here is a conv, BN or linear one */
        int ok_par = memcmp(&nopar.loss, &plain.loss, sizeof nopar.loss) == 0 &&
                     all_zero(nopar.g, nopar.n_g) &&
                     memcmp(nopar.s, plain.s, sizeof(float) * plain.n_s) == 0 &&
                     memcmp(nopar.dx, plain.dx, sizeof plain.dx) == 0;
        bad_lean += !ok_in + !ok_par;
        if (!ok_in || !ok_par)
            printf("# lean pass differs (%s): cell %d%d%d%d%d%d\n", ok_in ? "no_param_grad" :
                   "no_input_dy", ops[0], ops[1], ops[2], ops[3], ops[4], ops[5]);
        result_free(&noin);
        result_free(&nopar);
        bad_share += !same(&plain, &shared);
        bad_reset += !same(&plain, &again);
        shrunk += shared.n_dy < plain.n_dy;
        if (!same(&plain, &shared) || !same(&plain, &again))
            printf("# differs: cell %d%d%d%d%d%d\n", ops[0], ops[1], ops[2], ops[3], ops[4],
                   ops[5]);
        result_free(&plain);
        result_free(&shared);
        result_free(&again);
    }
    net_free(&reused);
    params_free(&P);
    printf("%s share_dy: loss, gradients, BN state and input dy bit-identical (%d of %d cells "
           "differ)\n", bad_share ? "NOT OK" : "ok", bad_share, n_cells);
    printf("%s net_reset: one arena rebuilt for every cell gives the same (%d differ)\n",
           bad_reset ? "NOT OK" : "ok", bad_reset);
    int ok = shrunk >= n_cells - 2; /* all-none has little to share */
    printf("%s share_dy shrinks the dy block (%d of %d cells)\n", ok ? "ok" : "NOT OK", shrunk,
           n_cells);
    printf("%s lean passes: no_input_dy and no_param_grad change only what they skip (%d "
           "differ)\n", bad_lean ? "NOT OK" : "ok", bad_lean);
    fails += bad_share + bad_reset + !ok + bad_lean;
    return fails != 0;
}
