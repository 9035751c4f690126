/* bench_darts.c — forward+backward steps of a DARTS network on the engine, for
 * bench/darts.py, which alternates it with the same network in PyTorch.
 *
 * usage: bench_darts GENOTYPE C N IN_CH HW BATCH THREADS STEPS
 * prints: steps, wall ms/step, CPU ms/step (after 2 untimed warm-up steps). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/util.h"
#include "engine/layers.h"
#include "spaces/darts.h"

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: bench_darts GENOTYPE C N IN_CH HW BATCH THREADS STEPS\n");
        return 2;
    }
    space_cfg_t c;
    space_cfg_default(&space_darts, &c);
    c.C = atoi(argv[2]), c.N = atoi(argv[3]), c.in_ch = atoi(argv[4]);
    c.H = c.W = atoi(argv[5]);
    int B = atoi(argv[6]), steps = atoi(argv[8]);
    lay_set_threads(atoi(argv[7]));
    arch_t a;
    char err[256];
    if (space_darts.parse(argv[1], &a, err, sizeof err)) {
        fprintf(stderr, "bench_darts: error: %s\n", err);
        return 1;
    }
    params_t P;
    params_init(&P);
    net_t net;
    net_init(&net, &P, B);
    rng_t r;
    rng_seed(&r, 1);
    /* as in training: no dy read after the pass, no image gradient */
    net.share_dy = net.no_input_dy = 1;
    if (darts_build(&net, &c, &a) < 0 || net_finalize(&net, &r) < 0) {
        fprintf(stderr, "bench_darts: error: cannot build the network\n");
        return 1;
    }
    size_t nx = (size_t)B * c.in_ch * c.H * c.W;
    float *x = malloc(sizeof(float) * nx);
    int *lab = malloc(sizeof(int) * B);
    for (size_t i = 0; i < nx; i++) x[i] = (float)rng_normal(&r);
    for (int i = 0; i < B; i++) lab[i] = (int)rng_below(&r, c.classes);
    for (int s = -2; s < steps; s++) {
        static double t0;
        static clock_t c0;
        if (s == 0) t0 = util_now(), c0 = clock();
        params_zero_grad(&P);
        net_forward(&net, x, lab);
        net_backward(&net);
        if (s == steps - 1)
            printf("%d %.3f %.3f\n", steps, 1e3 * (util_now() - t0) / steps,
                   1e3 * (double)(clock() - c0) / CLOCKS_PER_SEC / steps);
    }
#ifdef NET_PROFILE
    { /* per-op CPU ms/step: build with -DNET_PROFILE */
        extern double net_prof[64][2];
        for (int o = 0; o < OP_N; o++)
            if (net_prof[o][0] + net_prof[o][1] > 0)
                printf("  %-10s fwd %7.2f  bwd %7.2f CPU ms/step\n", net_ops[o]->name,
                       1e3 * net_prof[o][0] / (steps + 2), 1e3 * net_prof[o][1] / (steps + 2));
    }
#endif
    free(x), free(lab);
    net_free(&net);
    params_free(&P);
    return 0;
}
