/* test_layers_rec.c — the recommender layers against central finite differences (loss
 * L = sum R * Y summed in double) and plain loops, the sliced layers against their
 * unsliced selves, AUC/log loss against hand values, and a whole nasrec network's
 * gradient (standalone and over the supernet) against finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/criteo.h"
#include "gradcheck.h"
#include "engine/layers_rec.h"
#include "spaces/nasrec.h"
#include "engine/net.h"
#include "base/util.h"

#define TOL 3e-3

/* ---- embedding ---------------------------------------------------------------------- */
static int eB = 5, eF = 3, eRows = 4, eE = 6, eLd = 7;
static float *ex, *etab;
static void embed_fwd(void) { embed_forward(Y, ex, etab, eB, eLd, 2, eF, eRows, eE); }

static void test_embed(void) {
    ex = zeros((size_t)eB * eLd);
    for (int b = 0; b < eB; b++)
        for (int f = 0; f < eF; f++) ex[b * eLd + 2 + f] = (float)((b * 7 + f * 3) % eRows);
    ex[1 * eLd + 2] = (float)eRows; /* out of range: zero row, no gradient */
    etab = randn((size_t)eF * eRows * eE, 1);
    ny = (size_t)eB * eF * eE;
    Y = zeros(ny), R = randn(ny, 1);
    float *g = zeros((size_t)eF * eRows * eE);
    fwd = embed_fwd;
    loss();
    embed_backward(g, R, ex, eB, eLd, 2, eF, eRows, eE);
    check(fd(etab, g, (size_t)eF * eRows * eE, 1e-2f) < TOL, "embed: dtable vs finite differences", 0);
    double z = 0;
    for (int e = 0; e < eE; e++) z += fabs(Y[(1 * eF + 0) * eE + e]);
    check(z == 0, "embed: out-of-range id gives a zero row", z);
    free(ex), free(etab), free(g), free(Y), free(R);
}

/* ---- sliced linear -------------------------------------------------------------------- */
static int lB = 4, lIN = 5, lOUT = 3, lLD = 8;
static float *lx, *lw, *lb;
static void rlin_fwd(void) { rlinear_forward(Y, lx, lw, lb, lB, lIN, lOUT, lLD); }

static void test_rlinear(void) {
    lx = randn((size_t)lB * lIN, 1), lw = randn((size_t)6 * lLD, 1), lb = randn(lOUT, 1);
    ny = (size_t)lB * lOUT;
    Y = zeros(ny), R = randn(ny, 1);
    float *dx = zeros((size_t)lB * lIN), *dw = zeros((size_t)6 * lLD), *db = zeros(lOUT);
    fwd = rlin_fwd;
    loss();
    /* plain loop reference of the forward */
    double worst = 0;
    for (int b = 0; b < lB; b++)
        for (int o = 0; o < lOUT; o++) {
            double s = lb[o];
            for (int i = 0; i < lIN; i++) s += (double)lx[b * lIN + i] * lw[o * lLD + i];
            worst = fmax(worst, fabs(s - Y[b * lOUT + o]));
        }
    check(worst < 1e-5, "rlinear: forward vs plain loop (sliced, ld 8)", worst);
    rlinear_backward(dx, dw, db, R, lx, lw, lB, lIN, lOUT, lLD);
    check(fd(lx, dx, (size_t)lB * lIN, 1e-2f) < TOL, "rlinear: dx vs finite differences", 0);
    check(fd(lw, dw, (size_t)6 * lLD, 1e-2f) < TOL, "rlinear: dw vs finite differences", 0);
    check(fd(lb, db, lOUT, 1e-2f) < TOL, "rlinear: db vs finite differences", 0);
    double out = 0;
    for (int o = 0; o < 6; o++)
        for (int i = 0; i < lLD; i++)
            if (o >= lOUT || i >= lIN) out += fabs(dw[o * lLD + i]);
    check(out == 0, "rlinear: no gradient outside the leading block", out);
    free(lx), free(lw), free(lb), free(dx), free(dw), free(db), free(Y), free(R);
}

/* ---- EFC ------------------------------------------------------------------------------- */
static int fB = 3, fSI = 4, fSO = 3, fE = 5, fLD = 6;
static float *fx, *fw;
static void efc_fwd(void) { efc_forward(Y, fx, fw, fB, fSI, fSO, fE, fLD); }

static void test_efc(void) {
    fx = randn((size_t)fB * fSI * fE, 1), fw = randn((size_t)fSO * fLD, 1);
    ny = (size_t)fB * fSO * fE;
    Y = zeros(ny), R = randn(ny, 1);
    float *dx = zeros((size_t)fB * fSI * fE), *dw = zeros((size_t)fSO * fLD);
    fwd = efc_fwd;
    loss();
    double worst = 0;
    for (int b = 0; b < fB; b++)
        for (int o = 0; o < fSO; o++)
            for (int e = 0; e < fE; e++) {
                double s = 0;
                for (int i = 0; i < fSI; i++) s += (double)fw[o * fLD + i] * fx[(b * fSI + i) * fE + e];
                worst = fmax(worst, fabs(s - Y[(b * fSO + o) * fE + e]));
            }
    check(worst < 1e-5, "efc: forward vs plain loop (sliced)", worst);
    efc_backward(dx, dw, R, fx, fw, fB, fSI, fSO, fE, fLD);
    check(fd(fx, dx, (size_t)fB * fSI * fE, 1e-2f) < TOL, "efc: dx vs finite differences", 0);
    check(fd(fw, dw, (size_t)fSO * fLD, 1e-2f) < TOL, "efc: dw vs finite differences", 0);
    free(fx), free(fw), free(dx), free(dw), free(Y), free(R);
}

/* ---- dot, layer norm, sigmoid, BCE ---------------------------------------------------- */
static int dB = 3, dN = 4, dE = 5;
static float *dxv;
static void dot_fwd(void) { dot_forward(Y, dxv, dB, dN, dE); }

static void test_dot(void) {
    dxv = randn((size_t)dB * dN * dE, 1);
    ny = (size_t)dB * dN * (dN - 1) / 2;
    Y = zeros(ny), R = randn(ny, 1);
    float *dx = zeros((size_t)dB * dN * dE);
    fwd = dot_fwd;
    loss();
    double s = 0; /* pair (1,3) of example 2 by hand */
    for (int e = 0; e < dE; e++) s += (double)dxv[(2 * dN + 1) * dE + e] * dxv[(2 * dN + 3) * dE + e];
    check(fabs(s - Y[2 * 6 + 4]) < 1e-5, "dot: pair order is the row-major upper triangle", s);
    dot_backward(dx, R, dxv, dB, dN, dE);
    check(fd(dxv, dx, (size_t)dB * dN * dE, 1e-2f) < TOL, "dot: dx vs finite differences", 0);
    free(dxv), free(dx), free(Y), free(R);
}

static int nR = 4, nG = 7;
static float *nx, *ng, *nb, *naux;
static void ln_fwd(void) { layernorm_forward(Y, naux, nx, ng, nb, nR, nG, 1e-5f); }

static void test_layernorm(void) {
    nx = randn((size_t)nR * nG, 2), ng = randn(nG, 1), nb = randn(nG, 1), naux = zeros(2 * nR);
    ny = (size_t)nR * nG;
    Y = zeros(ny), R = randn(ny, 1);
    float *dx = zeros(ny), *dg = zeros(nG), *db = zeros(nG);
    fwd = ln_fwd;
    loss();
    layernorm_backward(dx, dg, db, R, nx, ng, naux, nR, nG);
    check(fd(nx, dx, ny, 1e-2f) < TOL, "layernorm: dx vs finite differences", 0);
    check(fd(ng, dg, nG, 1e-2f) < TOL, "layernorm: dgamma vs finite differences", 0);
    check(fd(nb, db, nG, 1e-2f) < TOL, "layernorm: dbeta vs finite differences", 0);
    free(nx), free(ng), free(nb), free(naux), free(dx), free(dg), free(db), free(Y), free(R);
}

static float *sx;
static void sig_fwd(void) { sigmoid_forward(Y, sx, ny); }

static void test_sigmoid_bce(void) {
    ny = 9;
    sx = randn(ny, 3), Y = zeros(ny), R = randn(ny, 1);
    sx[0] = 100, sx[1] = -100; /* no overflow */
    float *dx = zeros(ny);
    fwd = sig_fwd;
    loss();
    check(Y[0] == 1.0f && Y[1] >= 0 && Y[1] < 1e-30 && isfinite(Y[1]), "sigmoid: saturates without NaN", Y[1]);
    sigmoid_backward(dx, R, Y, ny);
    sx[0] = 0.5f, sx[1] = -0.5f;
    memset(dx, 0, sizeof(float) * ny);
    loss();
    sigmoid_backward(dx, R, Y, ny);
    check(fd(sx, dx, ny, 1e-2f) < TOL, "sigmoid: dx vs finite differences", 0);
    free(sx), free(dx), free(Y), free(R);

    int lab[6] = {0, 1, 1, 0, 1, 0};
    float z[6] = {0.3f, -1.2f, 2.0f, 40.0f, -40.0f, 0.0f}, dz[6] = {0};
    double ref = 0; /* -log p or -log(1-p) = log(1 + e^(-z)) or log(1 + e^z), long double */
    for (int i = 0; i < 6; i++) ref += (double)log1pl(expl(lab[i] ? -(long double)z[i] : (long double)z[i]));
    ref /= 6;
    float L = bce_forward(z, lab, 6);
    check(fabs(L - ref) < 1e-5 * fmax(1, ref), "bce: mean loss vs -log sigmoid reference", L - ref);
    bce_backward(dz, z, lab, 1.0f, 6);
    double worst = 0;
    for (int i = 0; i < 6; i++) {
        float s = z[i];
        z[i] = s + 1e-2f;
        double lp = bce_forward(z, lab, 6);
        z[i] = s - 1e-2f;
        double lm = bce_forward(z, lab, 6);
        z[i] = s;
        worst = fmax(worst, fabs((lp - lm) / 2e-2 - dz[i]));
    }
    check(worst < 1e-3, "bce: dz vs finite differences", worst);
    int badl[2] = {0, 2};
    check(isnan(bce_forward(z, badl, 2)), "bce: label 2 gives NaN", 0);
}

static void test_metrics(void) {
    float s[6] = {0.9f, 0.8f, 0.7f, 0.7f, 0.2f, 0.1f};
    int y[6] = {1, 0, 1, 0, 1, 0};
    /* pairs (pos,neg): 9; pos above neg: (0.9 over all 3) + (0.7 vs 0.7 tie 0.5, over 0.1) +
     * (0.2 over 0.1) = 3 + 1.5 + 1 = 5.5 */
    double auc = criteo_auc(s, y, 6);
    check(fabs(auc - 5.5 / 9) < 1e-12, "auc: tie-averaged Mann-Whitney by hand", auc);
    int y1[3] = {1, 1, 1};
    check(isnan(criteo_auc(s, y1, 3)), "auc: one class gives NaN", 0);
    float z[2] = {0, 0};
    int yy[2] = {0, 1};
    check(fabs(criteo_logloss(z, yy, 2) - log(2)) < 1e-12, "logloss: logit 0 gives log 2", 0);
}

/* ---- a whole nasrec network ----------------------------------------------------------- */
static net_t *gnet;
static float *gx;
static int *gy;
static double net_loss(void) { return net_forward(gnet, gx, gy); }

/* Finite differences of the network loss over a sample of each view's entries. */
static double net_fd(net_t *net, const unsigned char *used) {
    params_t *P = net->P;
    params_zero_grad(P);
    net_forward(net, gx, gy);
    net_backward(net);
    double worst = 0;
    for (int v = 0; v < P->n; v++) {
        if (!used[v]) continue;
        const pview_t *pv = &P->v[v];
        double gmax = 1e-4;
        for (size_t j = 0; j < pv->n; j++) gmax = fmax(gmax, fabs(P->g[pv->off + j]));
        for (int t = 0; t < 6; t++) {
            size_t j = (size_t)rng_below(&rng, pv->n);
            if (pv->kind == PK_EMB) { /* a looked-up row: the first example's id */
                int f = (int)rng_below(&rng, CRITEO_N_SPARSE), rows = pv->shape[0] / CRITEO_N_SPARSE;
                j = ((size_t)f * rows + (size_t)gx[CRITEO_N_DENSE + f]) * pv->shape[1] +
                    rng_below(&rng, pv->shape[1]);
            }
            float *w = P->w + pv->off + j, s = *w, h = 3e-3f;
            *w = s + h;
            double lp = net_loss();
            *w = s - h;
            double lm = net_loss();
            *w = s;
            double e = fabs((lp - lm) / (2.0 * h) - P->g[pv->off + j]) / gmax;
            if (e > worst) {
                worst = e;
                if (e > 0.03) printf("# %s[%zu]: fd %g analytic %g\n", pv->name, j, (lp - lm) / (2.0 * h), P->g[pv->off + j]);
            }
        }
    }
    return worst;
}

static void test_nasrec_net(void) {
    const space_t *S = space_find("nasrec");
    space_cfg_t c;
    space_cfg_default(S, &c);
    c.N = 3, c.C = 32, c.extra[0] = 16, c.extra[1] = 20, c.extra[2] = 4;
    const char *archs[] = {"B0:dp16,efc16,d=0,s=0|B1:gate32,efc16,d=0+1,s=0+1|B2:fc16,efc16,d=1+2,s=2",
                           "B0:fc32,efc16,d=0,s=0|B1:dp16,efc16,d=1,s=0|B2:gate16,efc16,d=0+2,s=1+2"};
    int B = 6;
    gx = zeros((size_t)B * CRITEO_N_COLS);
    gy = malloc(sizeof(int) * B);
    for (int b = 0; b < B; b++) {
        for (int j = 0; j < CRITEO_N_DENSE; j++) gx[b * CRITEO_N_COLS + j] = (float)rng_uniform(&rng) * 3;
        for (int k = 0; k < CRITEO_N_SPARSE; k++)
            gx[b * CRITEO_N_COLS + CRITEO_N_DENSE + k] = (float)rng_below(&rng, (uint64_t)c.extra[1]);
        gy[b] = b % 2;
    }
    for (int i = 0; i < 2; i++) {
        arch_t a;
        char err[256], back[512];
        if (S->parse(archs[i], &a, err, sizeof err)) {
            check(0, err, 0);
            continue;
        }
        /* standalone (exact shapes) and over the supernet (leading blocks of max shapes) */
        for (int sup = 0; sup < 2; sup++) {
            params_t P;
            net_t net;
            params_init(&P);
            rng_t ri;
            rng_seed(&ri, 7);
            if (sup && (S->declare_supernet(&P, &c) || params_alloc(&P))) check(0, "declare supernet", 0);
            if (sup) params_init_default(&P, &ri);
            net_init(&net, &P, B);
            int ok = S->build(&net, &c, &a) == 0 && net_finalize(&net, &ri) == 0;
            char what[128];
            snprintf(what, sizeof what, "nasrec arch %d %s: builds", i, sup ? "over the supernet" : "standalone");
            check(ok, what, 0);
            if (!ok) continue;
            /* larger weights so every path carries gradient */
            for (size_t j = 0; j < P.n_floats; j++) P.w[j] += (float)(0.05 * rng_normal(&rng));
            unsigned char *used = calloc((size_t)P.n + 1, 1);
            net_used_params(&net, used);
            gnet = &net;
            double e = net_fd(&net, used);
            snprintf(what, sizeof what, "nasrec arch %d %s: gradient vs finite differences", i,
                     sup ? "over the supernet" : "standalone");
            check(e < 5e-2, what, e);
            if (!sup) {
                check(S->format(&a, back, sizeof back) == 0 && strcmp(back, archs[i]) == 0,
                      "nasrec: format(parse(s)) == s", 0);
            }
            free(used);
            net_free(&net);
            params_free(&P);
        }
    }
    free(gx), free(gy);
}

int main(void) {
    rng_seed(&rng, 42);
    test_embed();
    test_rlinear();
    test_efc();
    test_dot();
    test_layernorm();
    test_sigmoid_bce();
    test_metrics();
    test_nasrec_net();
    return fails ? 1 : 0;
}
