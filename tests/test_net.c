/* test_net.c — the whole NB201 network: central finite differences on every parameter
 * and the input, bit-identical runs for one seed, BN modes, weight sharing by name, and
 * parameter / MAC counts against hand-computed values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spaces/nb201.h"
#include "engine/net.h"
#include "engine/optim.h"
#include "base/util.h"

static int fails;
static void check(int ok, const char *what, double v) {
    printf("%s %s (%.4g)\n", ok ? "ok" : "NOT OK", what, v);
    fails += !ok;
}

static space_cfg_t tiny(void) {
    space_cfg_t c;
    memset(&c, 0, sizeof c);
    c.C = 4, c.N = 1, c.in_ch = 2, c.H = 8, c.W = 8, c.classes = 3;
    return c;
}

static arch_t arch(const int ops[6]) {
    arch_t a;
    memset(&a, 0, sizeof a);
    a.n = 6;
    memcpy(a.g, ops, sizeof(int) * 6);
    return a;
}

/* A built, finalized net with its own params (seeded), a random batch and labels. */
typedef struct {
    params_t P;
    net_t net;
    float *x;
    int *lab;
    size_t nx;
} fix_t;

static int fix_new(fix_t *f, const space_cfg_t *c, const arch_t *a, int B, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed);
    params_init(&f->P);
    net_init(&f->net, &f->P, B);
    if (nb201_build(&f->net, c, a) < 0 || net_finalize(&f->net, &r) < 0) return -1;
    f->nx = (size_t)B * c->in_ch * c->H * c->W;
    f->x = malloc(sizeof(float) * f->nx);
    f->lab = malloc(sizeof(int) * B);
    for (size_t i = 0; i < f->nx; i++) f->x[i] = (float)rng_normal(&r);
    for (int i = 0; i < B; i++) f->lab[i] = (int)rng_below(&r, c->classes);
    /* random BN affine parameters so that gamma and beta gradients are exercised */
    for (int i = 0; i < f->P.n; i++) {
        pview_t *v = &f->P.v[i];
        if (v->kind == PK_BN_GAMMA || v->kind == PK_BN_BETA || v->kind == PK_BIAS)
            for (size_t j = 0; j < v->n; j++)
                f->P.w[v->off + j] += (float)(0.3 * rng_normal(&r));
    }
    return 0;
}

static void fix_free(fix_t *f) {
    net_free(&f->net);
    params_free(&f->P);
    free(f->x);
    free(f->lab);
}

static double fwd_loss(fix_t *f) { return net_forward(&f->net, f->x, f->lab); }

static double central(fix_t *f, float *p, float h) {
    float s = *p;
    *p = s + h;
    double step = *p, lp = fwd_loss(f);
    *p = s - h;
    step -= *p;
    double lm = fwd_loss(f);
    *p = s;
    return (lp - lm) / step;
}

/* Central differences at h and h/4 on up to max_n entries of p (spread over the tensor)
 * against g, errors relative to the largest |g| of the tensor. The network is piecewise
 * smooth (ReLU kinks, and BN over a batch of 4 is strongly curved), so an entry is
 * trusted only where the two step sizes agree within 1e-2 (*n_rough counts the others);
 * a trusted entry differing from g by more than tol counts in *n_bad. Float rounding of
 * the loss (~1e-7) over a step of 1e-3 allows ~1e-3 relative noise; a wrong gradient
 * term is off by O(1). Returns the worst trusted error. */
static double fd_tensor(fix_t *f, float *p, const float *g, size_t n, size_t max_n,
                        double tol, int *n_checked, int *n_rough, int *n_bad) {
    double gmax = 1e-4, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(g[i]) > gmax) gmax = fabs(g[i]);
    size_t stride = n > max_n ? n / max_n : 1;
    for (size_t i = 0; i < n; i += stride) {
        double n1 = central(f, p + i, 2e-3f), n2 = central(f, p + i, 5e-4f);
        (*n_checked)++;
        if (fabs(n1 - n2) > 1e-2 * gmax) {
            (*n_rough)++;
            continue;
        }
        double e = fabs(n2 - g[i]) / gmax;
        if (e > tol) (*n_bad)++;
        if (e > worst) worst = e;
    }
    fwd_loss(f);
    return worst;
}

static void test_gradients(const int ops[6], const char *label, int mode) {
    space_cfg_t c = tiny();
    arch_t a = arch(ops);
    fix_t f;
    if (fix_new(&f, &c, &a, 4, 7) < 0) {
        check(0, "build tiny NB201 net", 0);
        return;
    }
    f.net.bn_mode = mode;
    params_zero_grad(&f.P);
    fwd_loss(&f);
    net_backward(&f.net);
    float *g = malloc(sizeof(float) * f.P.n_floats);
    memcpy(g, f.P.g, sizeof(float) * f.P.n_floats);
    float *gx = malloc(sizeof(float) * f.nx);
    memcpy(gx, f.net.nodes[f.net.input].dy, sizeof(float) * f.nx);
    if (mode == BN_TRAIN) f.net.bn_mode = BN_BATCH; /* same function, stats left alone */
    double worst = 0.0, tol = 3e-2;
    int n_checked = 0, n_rough = 0, n_bad = 0;
    for (int i = 0; i < f.P.n; i++) {
        pview_t *v = &f.P.v[i];
        double e = fd_tensor(&f, f.P.w + v->off, g + v->off, v->n, 32, tol, &n_checked,
                             &n_rough, &n_bad);
        if (e > worst) worst = e;
        if (e > tol) printf("  %s: max rel err %.3g\n", v->name, e);
    }
    double ex = fd_tensor(&f, f.x, gx, f.nx, 64, tol, &n_checked, &n_rough, &n_bad);
    if (ex > tol) printf("  input: max rel err %.3g\n", ex);
    static const char *const mn[] = {"train", "batch", "eval", "off"};
    char msg[240];
    snprintf(msg, sizeof msg,
             "NB201 %s bn=%s: finite differences on %d entries of all %d parameter tensors "
             "and the input: %d rough, %d over 3e-2, worst %.3g",
             label, mn[mode], n_checked, f.P.n, n_rough, n_bad, fmax(worst, ex));
    check(n_bad == 0 && n_rough * 10 < n_checked, msg, fmax(worst, ex));
    free(g), free(gx);
    fix_free(&f);
}

/* Two runs with one seed: bit-identical weights and losses after a few SGD steps. */
static void test_determinism(void) {
    space_cfg_t c = tiny();
    int ops[6] = {NB_CONV3, NB_SKIP, NB_CONV1, NB_AVG3, NB_NONE, NB_CONV3};
    arch_t a = arch(ops);
    float loss[2][5];
    float *w[2];
    size_t nw = 0;
    for (int run = 0; run < 2; run++) {
        fix_t f;
        fix_new(&f, &c, &a, 8, 99);
        sgd_t o = {0.05f, 0.9f, 5e-4f, 1};
        for (int s = 0; s < 5; s++) {
            params_zero_grad(&f.P);
            loss[run][s] = net_forward(&f.net, f.x, f.lab);
            net_backward(&f.net);
            sgd_step(&o, &f.P, NULL);
        }
        nw = f.P.n_floats;
        w[run] = malloc(sizeof(float) * (nw + f.P.n_state_floats));
        memcpy(w[run], f.P.w, sizeof(float) * nw);
        memcpy(w[run] + nw, f.P.s, sizeof(float) * f.P.n_state_floats);
        nw += f.P.n_state_floats;
        fix_free(&f);
    }
    check(memcmp(loss[0], loss[1], sizeof loss[0]) == 0 && memcmp(w[0], w[1], sizeof(float) * nw) == 0,
          "same seed -> bit-identical losses, weights and BN statistics after 5 SGD steps",
          loss[0][4]);
    check(loss[0][4] < loss[0][0], "5 SGD steps on one batch lower the loss", loss[0][4] - loss[0][0]);
    free(w[0]), free(w[1]);
}

/* BN modes: only BN_TRAIN moves running statistics; BN_EVAL treats examples
 * independently; BN_BATCH does not. */
static void test_bn_modes(void) {
    space_cfg_t c = tiny();
    int ops[6] = {NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3};
    arch_t a = arch(ops);
    fix_t f;
    fix_new(&f, &c, &a, 4, 5);
    size_t ns = f.P.n_state_floats;
    float *s0 = malloc(sizeof(float) * ns);
    memcpy(s0, f.P.s, sizeof(float) * ns);
    int modes[3] = {BN_BATCH, BN_EVAL, BN_OFF}, same = 1;
    for (int i = 0; i < 3; i++) {
        f.net.bn_mode = modes[i];
        net_forward(&f.net, f.x, f.lab);
        net_backward(&f.net);
        same &= memcmp(s0, f.P.s, sizeof(float) * ns) == 0;
    }
    check(same, "BN batch/eval/off leave running statistics alone", 0);
    f.net.bn_mode = BN_TRAIN;
    net_forward(&f.net, f.x, f.lab);
    check(memcmp(s0, f.P.s, sizeof(float) * ns) != 0, "BN train updates running statistics", 0);

    /* change examples 1..3: logits of example 0 stay put in eval, move in batch mode */
    int K = c.classes;
    float l0[2][8];
    const float *lg = f.net.nodes[f.net.logits].y;
    for (int m = 0; m < 2; m++) {
        f.net.bn_mode = m == 0 ? BN_EVAL : BN_BATCH;
        float before[8];
        net_forward(&f.net, f.x, f.lab);
        memcpy(before, lg, sizeof(float) * K);
        for (size_t i = f.nx / 4; i < f.nx; i++) f.x[i] = 2.0f * f.x[i] + 0.5f;
        net_forward(&f.net, f.x, f.lab);
        float d = 0;
        for (int k = 0; k < K; k++) d = fmaxf(d, fabsf(before[k] - lg[k]));
        l0[m][0] = d;
    }
    check(l0[0][0] == 0.0f, "BN eval: an example's logits do not depend on the batch", l0[0][0]);
    check(l0[1][0] > 1e-4f, "BN batch: an example's logits depend on the batch", l0[1][0]);
    free(s0);
    fix_free(&f);
}

/* A subnet built over the supernet's params_t uses exactly its ops' weights; counts. */
static void test_supernet_and_counts(void) {
    space_cfg_t c = tiny();
    params_t S;
    params_init(&S);
    check(nb201_declare_supernet(&S, &c) == 0, "declare supernet", S.n);
    size_t n_super = S.n_floats;
    params_alloc(&S);
    rng_t r;
    rng_seed(&r, 3);
    params_init_default(&S, &r);
    int ops[6] = {NB_CONV3, NB_SKIP, NB_CONV1, NB_AVG3, NB_NONE, NB_CONV3};
    arch_t a = arch(ops);
    net_t n;
    net_init(&n, &S, 2);
    int ok = nb201_build(&n, &c, &a) == 0 && net_finalize(&n, NULL) == 0;
    check(ok && S.n_floats == n_super, "subnet builds over a frozen supernet params_t", 0);

    /* standalone net: same names and shapes for every view it declares */
    params_t P;
    params_init(&P);
    net_t m;
    net_init(&m, &P, 2);
    nb201_build(&m, &c, &a);
    int match = 1;
    for (int i = 0; i < P.n; i++) {
        int j = params_find(&S, P.v[i].name, 0);
        match &= j >= 0 && S.v[j].n == P.v[i].n && S.v[j].kind == P.v[i].kind;
    }
    for (int i = 0; i < P.n_state; i++) match &= params_find(&S, P.sv[i].name, 1) >= 0;
    check(match, "every standalone parameter name exists in the supernet", P.n);
    size_t pc = net_param_count(&n);
    check(pc == P.n_floats, "param count of subnet over supernet = standalone", (double)pc);

    /* hand count: C=4, in 2, classes 3 */
    size_t stem = 4 * 2 * 9 + 8, hand = stem;
    for (int s = 0; s < 3; s++) {
        size_t C = 4u << s;
        if (s > 0) hand += C * (C / 2) * 9 + 2 * C + C * C * 9 + 2 * C + C * (C / 2);
        hand += 2 * (C * C * 9 + 2 * C) + (C * C + 2 * C); /* two conv3, one conv1 */
    }
    hand += 2 * 16 + 16 * 3 + 3;
    check(pc == hand, "param count matches hand count", (double)hand);
    /* MACs per example */
    double mac = 4 * 2 * 9 * 64.0, HW = 64;
    for (int s = 0; s < 3; s++) {
        double C = 4 << s;
        if (s > 0) {
            HW /= 4;
            mac += C * (C / 2) * 9 * HW + C * C * 9 * HW + C * (C / 2) * HW;
        }
        mac += (2 * C * C * 9 + C * C) * HW;
    }
    mac += 16 * 3;
    check(fabs(net_flops(&n) - mac) < 0.5, "MACs match hand count", mac);
    unsigned char *used = calloc(S.n, 1);
    net_used_params(&n, used);
    int nu = 0;
    for (int i = 0; i < S.n; i++) nu += used[i];
    check(nu == P.n, "used views of the subnet = views of the standalone net", nu);
    free(used);
    net_free(&m);
    params_free(&P);
    net_free(&n);
    params_free(&S);
}

/* Cells that leave nodes empty still build and run (zero nodes). */
static void test_degenerate(void) {
    space_cfg_t c = tiny();
    int none[6] = {0, 0, 0, 0, 0, 0}, chain[6] = {NB_CONV3, NB_NONE, NB_SKIP, NB_NONE, NB_NONE, NB_AVG3};
    const int *list[2] = {none, chain};
    for (int k = 0; k < 2; k++) {
        arch_t a = arch(list[k]);
        fix_t f;
        int ok = fix_new(&f, &c, &a, 4, 1) == 0;
        float l = ok ? net_forward(&f.net, f.x, f.lab) : NAN;
        if (ok) net_backward(&f.net);
        check(ok && isfinite(l), k ? "chain cell builds and runs" : "all-none cell builds and runs", l);
        fix_free(&f);
    }
    /* Node 1 has no incoming op (all zeros): skip and pool edges out of it are not built,
     * so the cell builds the very graph of the one with none there, and computes the same
     * bits (forward and every gradient); a conv out of it is built (BN makes it non-zero). */
    int zs[6] = {NB_NONE, NB_CONV1, NB_SKIP, NB_CONV3, NB_AVG3, NB_SKIP};
    int zn[6] = {NB_NONE, NB_CONV1, NB_NONE, NB_CONV3, NB_NONE, NB_SKIP};
    int zc[6] = {NB_NONE, NB_CONV1, NB_CONV3, NB_CONV3, NB_AVG3, NB_SKIP};
    arch_t as = arch(zs), an = arch(zn), ac = arch(zc);
    fix_t fs, fn, fc;
    int ok = fix_new(&fs, &c, &as, 4, 9) == 0 && fix_new(&fn, &c, &an, 4, 9) == 0 &&
             fix_new(&fc, &c, &ac, 4, 9) == 0;
    if (ok) {
        params_zero_grad(&fs.P), params_zero_grad(&fn.P);
        float ls = net_forward(&fs.net, fs.x, fs.lab), ln = net_forward(&fn.net, fn.x, fn.lab);
        net_backward(&fs.net), net_backward(&fn.net);
        ok = fs.net.n == fn.net.n && memcmp(&ls, &ln, sizeof ls) == 0 &&
             fs.P.n_floats == fn.P.n_floats &&
             memcmp(fs.P.g, fn.P.g, sizeof(float) * fs.P.n_floats) == 0;
    }
    check(ok, "skip/pool out of an all-zero node: the graph and bits of none there", 0);
    check(fc.net.n > fn.net.n, "a conv out of an all-zero node is built", fc.net.n - fn.net.n);
    fix_free(&fs), fix_free(&fn), fix_free(&fc);
    space_cfg_t bad = tiny();
    bad.H = 6; /* 6 -> 3 -> odd at the second reduction */
    params_t P;
    params_init(&P);
    net_t n;
    net_init(&n, &P, 2);
    arch_t a = arch(none);
    check(nb201_build(&n, &bad, &a) < 0, "image size not divisible by 4 is refused", 0);
    net_free(&n);
    params_free(&P);
}

/* Every op id has a row in the op table, with a name and a forward pass unless its output
 * is a constant; a loss row is not accepted as a node's input. */
static void test_op_table(void) {
    int ok = 1;
    for (int op = 0; op < OP_N; op++) {
        const op_def_t *d = net_ops[op];
        if (!d || !d->name || (!d->forward && !(d->flags & OPF_CONST))) {
            printf("# op %d: %s\n", op, !d ? "no row" : !d->name ? "no name" : "no forward");
            ok = 0;
        }
    }
    check(ok, "op table: a named row for every op id", OP_N);
    params_t P;
    params_init(&P);
    net_t net;
    net_init(&net, &P, 2);
    int x = net_input(&net, 3, 1, 1), h = net_linear(&net, x, "fc", 2, 0), l = net_xent(&net, h);
    check(l >= 0 && net_relu(&net, l) < 0 && net_node_new(&net, OP_N, 1, 1, 1) == NULL,
          "a loss node is no input; an op id without a row makes no node", l);
    net_free(&net);
    params_free(&P);
}

int main(void) {
    test_op_table();
    int mixed[6] = {NB_CONV3, NB_SKIP, NB_CONV1, NB_AVG3, NB_NONE, NB_CONV3};
    int conv3[6] = {NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3, NB_CONV3};
    test_gradients(mixed, "mixed cell", BN_TRAIN);
    test_gradients(conv3, "all-conv3 cell", BN_EVAL);
    test_determinism();
    test_bn_modes();
    test_supernet_and_counts();
    test_degenerate();
    if (fails) printf("%d NOT OK\n", fails);
    return fails != 0;
}
