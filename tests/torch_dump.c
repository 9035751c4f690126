/* torch_dump.c — writes a reference file for tests/torch_check.py: a tiny NB201 network's
 * configuration, weights, batch, and the engine's loss, logits, input gradient, every
 * parameter gradient and BN running statistics after one forward/backward pass.
 *
 * usage: torch_dump FILE [ARCH_INDEX [BN_MODE [C N H B]]]
 * Layout (little-endian): "SGTD" u32 version=1; i32 C N in_ch H W classes B bn_mode ops[6];
 * f32 x[B*in_ch*H*W]; i32 labels[B]; f32 loss; f32 logits[B*classes]; f32 dx[...];
 * i32 n_views, each: i32 name_len, name, i32 n_dim, i32 shape[4], f32 w[n], f32 g[n];
 * i32 n_state, each: i32 name_len, name, i32 n, f32 before[n], f32 after[n]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/layers.h"
#include "spaces/nb201.h"

static void wi(FILE *f, int v) { fwrite(&v, 4, 1, f); }
static void wf(FILE *f, const float *p, size_t n) { fwrite(p, 4, n, f); }
static void wname(FILE *f, const char *s) {
    wi(f, (int)strlen(s));
    fwrite(s, 1, strlen(s), f);
}

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
    params_init(&P);
    net_t net;
    net_init(&net, &P, B);
    rng_t r;
    rng_seed(&r, 11);
    if (nb201_build(&net, &c, &a) < 0 || net_finalize(&net, &r) < 0) {
        fprintf(stderr, "torch_dump: error: cannot build the network\n");
        return 1;
    }
    /* perturb BN parameters and running stats so every term is exercised */
    for (int i = 0; i < P.n; i++)
        if (P.v[i].kind != PK_CONV && P.v[i].kind != PK_LINEAR_W)
            for (size_t j = 0; j < P.v[i].n; j++) P.w[P.v[i].off + j] += (float)(0.2 * rng_normal(&r));
    for (int i = 0; i < P.n_state; i++)
        for (size_t j = 0; j < P.sv[i].n; j++) {
            float *s = &P.s[P.sv[i].off + j];
            *s = P.sv[i].kind == PK_STATE_VAR ? 0.5f + (float)rng_uniform(&r) : (float)(0.1 * rng_normal(&r));
        }
    size_t nx = (size_t)B * c.in_ch * c.H * c.W;
    float *x = malloc(sizeof(float) * nx), *s0 = malloc(sizeof(float) * (P.n_state_floats + 1));
    int *lab = malloc(sizeof(int) * B);
    for (size_t i = 0; i < nx; i++) x[i] = (float)rng_normal(&r);
    for (int i = 0; i < B; i++) lab[i] = (int)rng_below(&r, c.classes);
    memcpy(s0, P.s, sizeof(float) * P.n_state_floats);
    net.bn_mode = mode;
    params_zero_grad(&P);
    float loss = net_forward(&net, x, lab);
    net_backward(&net);

    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fwrite("SGTD", 1, 4, f);
    wi(f, 1);
    int hdr[8] = {c.C, c.N, c.in_ch, c.H, c.W, c.classes, B, mode};
    for (int i = 0; i < 8; i++) wi(f, hdr[i]);
    for (int e = 0; e < NB_N_EDGES; e++) wi(f, a.g[e]);
    wf(f, x, nx);
    for (int i = 0; i < B; i++) wi(f, lab[i]);
    wf(f, &loss, 1);
    wf(f, net.nodes[net.logits].y, (size_t)B * c.classes);
    wf(f, net.nodes[net.input].dy, nx);
    wi(f, P.n);
    for (int i = 0; i < P.n; i++) {
        const pview_t *v = &P.v[i];
        wname(f, v->name);
        wi(f, v->n_dim);
        for (int d = 0; d < 4; d++) wi(f, d < v->n_dim ? v->shape[d] : 1);
        wf(f, P.w + v->off, v->n);
        wf(f, P.g + v->off, v->n);
    }
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
    free(x), free(s0), free(lab);
    return 0;
}
