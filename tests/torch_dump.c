/* torch_dump.c — writes a reference file for tests/torch_check.py: a tiny NB201 network's
 * configuration, weights, batch, and the engine's loss, logits, input gradient, every
 * parameter gradient and BN running statistics after one forward/backward pass.
 *
 * usage: torch_dump FILE [ARCH_INDEX [BN_MODE [C N H B [THREADS]]]]
 * Layout (little-endian): "SGTD" u32 version=1; i32 C N in_ch H W classes B bn_mode ops[6];
 * then the step (refdump.h: x, labels, loss, logits, dx, the views with their gradients);
 * i32 n_state, each: i32 name_len, name, i32 n, f32 before[n], f32 after[n]. */
#include "refdump.h"
#include "spaces/nb201.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: torch_dump FILE [ARCH_INDEX [BN_MODE [C N H B [THREADS]]]]\n");
        return 2;
    }
    long idx = argc > 2 ? atol(argv[2]) : 0;
    int mode = argc > 3 ? atoi(argv[3]) : BN_TRAIN;
    space_cfg_t c;
    memset(&c, 0, sizeof c);
    c.C = argc > 4 ? atoi(argv[4]) : 4;
    c.N = argc > 5 ? atoi(argv[5]) : 1;
    c.H = c.W = argc > 6 ? atoi(argv[6]) : 8;
    int B = argc > 7 ? atoi(argv[7]) : 4;
    lay_set_threads(argc > 8 ? atoi(argv[8]) : 1);
    c.in_ch = 3, c.classes = 5;
    arch_t a;
    memset(&a, 0, sizeof a);
    a.n = NB_N_EDGES;
    nb201_ops(idx, a.g);
    params_t P;
    net_t net;
    rng_t r;
    if (rd_build("torch_dump", &space_nb201, &c, &a, B, 11, &P, &net, &r)) return 1;
    /* perturb BN parameters and running stats so every term is exercised */
    rd_perturb_affine(&P, &r);
    rd_perturb_state(&P, &r, 0.1);
    float *s0 = malloc(sizeof(float) * (P.n_state_floats + 1));
    FILE *f = fopen(argv[1], "wb");
    if (!f || !s0) {
        perror(argv[1]);
        return 1;
    }
    fwrite("SGTD", 1, 4, f);
    wi(f, 1);
    int hdr[8] = {c.C, c.N, c.in_ch, c.H, c.W, c.classes, B, mode};
    for (int i = 0; i < 8; i++) wi(f, hdr[i]);
    for (int e = 0; e < NB_N_EDGES; e++) wi(f, a.g[e]);
    net.bn_mode = mode;
    if (rd_step(f, &net, &P, &r, (size_t)B * c.in_ch * c.H * c.W, c.classes, s0)) return perror("torch_dump"), 1;
    wi(f, P.n_state);
    for (int i = 0; i < P.n_state; i++) {
        const pview_t *v = &P.sv[i];
        wname(f, v->name);
        wi(f, (int)v->n);
        wf(f, s0 + v->off, v->n);
        wf(f, P.s + v->off, v->n);
    }
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    net_free(&net);
    params_free(&P);
    free(s0);
    return 0;
}
