/* refdump.h — what the reference dumpers share (torch_dump.c and darts_dump.c for the
 * PyTorch cross-checks, onnx_dump.c for the ONNX one): building one candidate of a space
 * with a seeded initialization, moving the BN/LN parameters and running statistics off
 * their initial values so every term matters, a random batch, and the little-endian
 * writers of the reference files read by tests/refcheck.py.
 *
 * Included by one dumper each (everything is static). */
#ifndef SIGEO_TESTS_REFDUMP_H
#define SIGEO_TESTS_REFDUMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/layers.h"
#include "spaces/space.h"

static inline void wi(FILE *f, int v) { fwrite(&v, 4, 1, f); }
static inline void wf(FILE *f, const float *p, size_t n) { fwrite(p, 4, n, f); }
static inline void wname(FILE *f, const char *s) {
    wi(f, (int)strlen(s));
    fwrite(s, 1, strlen(s), f);
}

/* The network of a in space S for cfg c and batch B into *net over *P, initialized from
 * seed (the same rng goes on in *r). 0, or -1 after saying so on stderr as prog. */
static inline int rd_build(const char *prog, const space_t *S, const space_cfg_t *c, const arch_t *a, int B,
                           uint64_t seed, params_t *P, net_t *net, rng_t *r) {
    params_init(P);
    net_init(net, P, B);
    rng_seed(r, seed);
    if (S->build(net, c, a) < 0 || net_finalize(net, r) < 0) {
        fprintf(stderr, "%s: error: cannot build the network\n", prog);
        return -1;
    }
    return 0;
}

/* Every running statistic moved: variances to 0.5 + U(0,1), means to mean_scale * N(0,1). */
static inline void rd_perturb_state(params_t *P, rng_t *r, double mean_scale) {
    for (int i = 0; i < P->n_state; i++)
        for (size_t j = 0; j < P->sv[i].n; j++) {
            float *s = &P->s[P->sv[i].off + j];
            *s = P->sv[i].kind == PK_STATE_VAR ? 0.5f + (float)rng_uniform(r)
                                               : (float)(mean_scale * rng_normal(r));
        }
}

/* Every parameter but conv and linear weights (BN scales and shifts, biases) += 0.2 N(0,1). */
static inline void rd_perturb_affine(params_t *P, rng_t *r) {
    for (int i = 0; i < P->n; i++)
        if (P->v[i].kind != PK_CONV && P->v[i].kind != PK_LINEAR_W)
            for (size_t j = 0; j < P->v[i].n; j++) P->w[P->v[i].off + j] += (float)(0.2 * rng_normal(r));
}

/* One forward/backward on a random batch (nx floats of N(0,1), B labels below classes)
 * from the net's batch, then the step's part of a reference file: f32 x[nx]; i32 labels[B];
 * f32 loss; f32 logits[B*classes]; f32 dx[nx]; i32 n_views, each: i32 name_len, name,
 * i32 n_dim, i32 shape[4], f32 w[n], f32 g[n]. Running statistics before the step into
 * s0 (P->n_state_floats) unless NULL. 0, or -1 out of memory. */
static inline int rd_step(FILE *f, net_t *net, params_t *P, rng_t *r, size_t nx, int classes, float *s0) {
    int B = net->batch;
    float *x = malloc(sizeof(float) * (nx ? nx : 1));
    int *lab = malloc(sizeof(int) * (size_t)B);
    if (!x || !lab) return free(x), free(lab), -1;
    for (size_t i = 0; i < nx; i++) x[i] = (float)rng_normal(r);
    for (int i = 0; i < B; i++) lab[i] = (int)rng_below(r, (uint64_t)classes);
    if (s0) memcpy(s0, P->s, sizeof(float) * P->n_state_floats);
    params_zero_grad(P);
    float loss = net_forward(net, x, lab);
    net_backward(net);
    wf(f, x, nx);
    for (int i = 0; i < B; i++) wi(f, lab[i]);
    wf(f, &loss, 1);
    wf(f, net->nodes[net->logits].y, (size_t)B * classes);
    wf(f, net->nodes[net->input].dy, nx);
    wi(f, P->n);
    for (int i = 0; i < P->n; i++) {
        const pview_t *v = &P->v[i];
        wname(f, v->name);
        wi(f, v->n_dim);
        for (int d = 0; d < 4; d++) wi(f, d < v->n_dim ? v->shape[d] : 1);
        wf(f, P->w + v->off, v->n);
        wf(f, P->g + v->off, v->n);
    }
    free(x), free(lab);
    return 0;
}

#endif
