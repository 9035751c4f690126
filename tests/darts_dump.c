/* darts_dump.c — writes a reference file for tests/darts_check.py: a DARTS network's
 * configuration, genotype, weights and batch, and the engine's loss, logits, input
 * gradient and every parameter gradient after one forward/backward pass (BN in training
 * mode).
 *
 * usage: darts_dump FILE [GENOTYPE [C N H B [THREADS]]]
 * Layout (little-endian): "SGDD" u32 version=1; i32 C N in_ch H W classes B; i32 len,
 * genotype; f32 x[B*in_ch*H*W]; i32 labels[B]; f32 loss; f32 logits[B*classes];
 * f32 dx[...]; i32 n_views, each: i32 name_len, name, i32 n_dim, i32 shape[4], f32 w[n],
 * f32 g[n]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/layers.h"
#include "spaces/darts.h"

static void wi(FILE *f, int v) { fwrite(&v, 4, 1, f); }
static void wf(FILE *f, const float *p, size_t n) { fwrite(p, 4, n, f); }
static void wname(FILE *f, const char *s) {
    wi(f, (int)strlen(s));
    fwrite(s, 1, strlen(s), f);
}

static const char *const darts_v2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: darts_dump FILE [GENOTYPE [C N H B [THREADS]]]\n");
        return 2;
    }
    const char *geno = argc > 2 ? argv[2] : darts_v2;
    space_cfg_t c;
    space_cfg_default(&space_darts, &c);
    c.C = argc > 3 ? atoi(argv[3]) : 4;
    c.N = argc > 4 ? atoi(argv[4]) : 5;
    c.H = c.W = argc > 5 ? atoi(argv[5]) : 8;
    int B = argc > 6 ? atoi(argv[6]) : 4;
    lay_set_threads(argc > 7 ? atoi(argv[7]) : 1);
    c.in_ch = 3, c.classes = 5;
    arch_t a;
    char err[256], canon[1024];
    if (space_darts.parse(geno, &a, err, sizeof err) || space_darts.format(&a, canon, sizeof canon)) {
        fprintf(stderr, "darts_dump: error: %s\n", err);
        return 1;
    }
    params_t P;
    params_init(&P);
    net_t net;
    net_init(&net, &P, B);
    rng_t r;
    rng_seed(&r, 11);
    if (darts_build(&net, &c, &a) < 0 || net_finalize(&net, &r) < 0) {
        fprintf(stderr, "darts_dump: error: cannot build the network\n");
        return 1;
    }
    /* perturb BN parameters and biases so every term is exercised */
    for (int i = 0; i < P.n; i++)
        if (P.v[i].kind != PK_CONV && P.v[i].kind != PK_LINEAR_W)
            for (size_t j = 0; j < P.v[i].n; j++) P.w[P.v[i].off + j] += (float)(0.2 * rng_normal(&r));
    size_t nx = (size_t)B * c.in_ch * c.H * c.W;
    float *x = malloc(sizeof(float) * nx);
    int *lab = malloc(sizeof(int) * B);
    for (size_t i = 0; i < nx; i++) x[i] = (float)rng_normal(&r);
    for (int i = 0; i < B; i++) lab[i] = (int)rng_below(&r, c.classes);
    params_zero_grad(&P);
    float loss = net_forward(&net, x, lab);
    net_backward(&net);

    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fwrite("SGDD", 1, 4, f);
    wi(f, 1);
    int hdr[7] = {c.C, c.N, c.in_ch, c.H, c.W, c.classes, B};
    for (int i = 0; i < 7; i++) wi(f, hdr[i]);
    wname(f, canon);
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
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    net_free(&net);
    params_free(&P);
    free(x), free(lab);
    return 0;
}
