/* test_proxy.c — every proxy on tiny networks against values computed independently:
 * SiGeo's S1/S2/L and ZiCo from engine gradients combined by plain loops written here,
 * GraSP and Fisher against closed forms for a linear softmax model, SynFlow by hand on a
 * two-layer net and through Euler's identity on a small NB201 net, NASWOT with a
 * determinant by cofactor expansion, JacobCov with a closed-form 2x2 spectrum, params and
 * FLOPs by hand, the one-shot BN recalibration, NaN reporting, and that the supernet is
 * never written. */
#include "proxies/proxy.h"
#include "engine/layers_rec.h"
#include "spaces/nb201.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_fail;

static void check(int ok, const char *what, double got, double want) {
    printf("%s %s (got %.10g, want %.10g)\n", ok ? "ok" : "NOT OK", what, got, want);
    if (!ok) n_fail++;
}

static int close_rel(double a, double b, double tol) {
    return fabs(a - b) <= tol * (fabs(b) > 1 ? fabs(b) : 1);
}

/* A supernet S (allocated, initialized), a working copy W with the same views, the net
 * built over W, random data and the proxy context. */
typedef struct {
    params_t S, W;
    float *S_copy;
    net_t net;
    unsigned char used[256];
    float *x;
    int *y;
    proxy_ctx_t c;
} fix_t;

typedef int (*build_fn)(net_t *net, void *arg);

static int build_convnet(net_t *net, void *arg) {
    (void)arg;
    int h = net_input(net, 1, 4, 4);
    h = net_conv(net, h, "c1", 2, 3, 1, 1);
    h = net_bn(net, h, "bn1", 1);
    h = net_relu(net, h);
    h = net_avgpool3(net, h);
    h = net_conv(net, h, "c2", 3, 1, 1, 0);
    h = net_bn(net, h, "bn2", 1);
    h = net_relu(net, h);
    h = net_gap(net, h);
    h = net_linear(net, h, "fc", 3, 1);
    return net_xent(net, h) < 0 ? -1 : 0;
}

static int build_linear(net_t *net, void *arg) {
    (void)arg;
    int h = net_input(net, 5, 1, 1);
    h = net_linear(net, h, "fc", 3, 0);
    return net_xent(net, h) < 0 ? -1 : 0;
}

static int build_mlp(net_t *net, void *arg) {
    int D = *(int *)arg;
    int h = net_input(net, D, 1, 1);
    h = net_linear(net, h, "l1", 4, 0);
    h = net_relu(net, h);
    h = net_linear(net, h, "l2", 2, 1);
    return net_xent(net, h) < 0 ? -1 : 0;
}

static int build_nb201(net_t *net, void *arg) {
    space_cfg_t c;
    space_cfg_default(&space_nb201, &c);
    c.C = 2, c.N = 1, c.in_ch = 1, c.H = c.W = 8, c.classes = 3;
    arch_t a;
    char err[128];
    if (space_nb201.parse((const char *)arg, &a, err, sizeof err)) return -1;
    return nb201_build(net, &c, &a);
}

static void fix_free(fix_t *f) {
    proxy_ctx_free(&f->c);
    net_free(&f->net);
    params_free(&f->S);
    params_free(&f->W);
    free(f->S_copy);
    free(f->x);
    free(f->y);
}

/* K scoring batches, then n_bn and n_eval one-shot batches, of B examples each. */
static int fix_init(fix_t *f, build_fn build, void *arg, int B, int K, int n_bn, int n_eval,
                    uint64_t seed) {
    memset(f, 0, sizeof *f);
    rng_t r;
    rng_seed(&r, seed);
    params_init(&f->S);
    net_t tmp;
    net_init(&tmp, &f->S, B);
    if (build(&tmp, arg) || net_finalize(&tmp, &r)) return -1;
    net_free(&tmp);
    /* Non-trivial BN affine, biases and running statistics. */
    for (int i = 0; i < f->S.n; i++) {
        pview_t *v = &f->S.v[i];
        if (v->kind == PK_BN_GAMMA || v->kind == PK_BN_BETA || v->kind == PK_BIAS)
            for (size_t j = 0; j < v->n; j++)
                f->S.w[v->off + j] += (float)(0.3 * rng_normal(&r));
    }
    for (size_t j = 0; j < f->S.n_state_floats; j++) f->S.s[j] = (float)(1 + 0.2 * rng_uniform(&r));
    params_init(&f->W);
    for (int i = 0; i < f->S.n; i++)
        params_declare(&f->W, f->S.v[i].name, f->S.v[i].kind, f->S.v[i].n_dim, f->S.v[i].shape);
    for (int i = 0; i < f->S.n_state; i++)
        params_declare(&f->W, f->S.sv[i].name, f->S.sv[i].kind, f->S.sv[i].n_dim,
                       f->S.sv[i].shape);
    if (params_alloc(&f->W)) return -1;
    /* W starts as garbage: the proxies must restore what they use. */
    for (size_t j = 0; j < f->W.n_floats; j++) f->W.w[j] = 7;
    net_init(&f->net, &f->W, B);
    if (build(&f->net, arg) || net_finalize(&f->net, NULL)) return -1;
    net_used_params(&f->net, f->used);
    const node_t *in = &f->net.nodes[f->net.input];
    size_t img = (size_t)in->C * in->H * in->W;
    int n = (K + n_bn + n_eval) * B, classes = f->net.nodes[f->net.logits].C;
    f->x = malloc((size_t)n * img * sizeof(float));
    f->y = malloc((size_t)n * sizeof(int));
    for (size_t j = 0; j < (size_t)n * img; j++) f->x[j] = (float)rng_normal(&r);
    for (int j = 0; j < n; j++) f->y[j] = (int)rng_below(&r, (uint64_t)classes);
    f->S_copy = malloc(f->S.n_floats * sizeof(float));
    memcpy(f->S_copy, f->S.w, f->S.n_floats * sizeof(float));
    proxy_ctx_t c = {.net = &f->net, .P = &f->W, .src = &f->S, .used = f->used, .c = in->C,
                     .h = in->H, .w = in->W, .n_batches = K, .x = f->x, .y = f->y,
                     .n_bn = n_bn, .n_eval = n_eval,
                     .x_bn = f->x + (size_t)K * B * img, .y_bn = f->y + K * B,
                     .x_eval = f->x + (size_t)(K + n_bn) * B * img, .y_eval = f->y + (K + n_bn) * B,
                     .step_lr = 0.5f, .lambda = {1, 2, 0.5}};
    f->c = c;
    return 0;
}

static proxy_out_t run(fix_t *f, const char *name) {
    proxy_out_t o;
    memset(&o, 0, sizeof o);
    const proxy_t *p = proxy_find(name);
    if (!p || p->fn(&f->c, &o)) {
        printf("NOT OK %s ran\n", name);
        n_fail++;
    }
    return o;
}

static double get(const proxy_out_t *o, const char *key) {
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->key[i], key) == 0) return o->v[i];
    return -12345.678;
}

static int is_w(const params_t *P, int i) {
    return P->v[i].kind == PK_CONV || P->v[i].kind == PK_LINEAR_W;
}

/* Engine gradients of every conv/linear weight over the K batches (plain SGD step of lr on
 * every used parameter after each), combined here with plain loops. */
static void sigeo_reference(fix_t *f, float lr, double *S1, double *S2, double *L) {
    params_t *W = &f->W;
    int K = f->c.n_batches, B = f->net.batch;
    size_t img = (size_t)f->c.c * f->c.h * f->c.w;
    memcpy(W->w, f->S.w, W->n_floats * sizeof(float));
    memcpy(W->s, f->S.s, W->n_state_floats * sizeof(float));
    float *G = malloc((size_t)K * W->n_floats * sizeof(float)); /* full-buffer copies */
    for (int b = 0; b < K; b++) {
        memset(W->g, 0, W->n_floats * sizeof(float));
        f->net.bn_mode = BN_BATCH;
        *L = net_forward(&f->net, f->x + (size_t)b * B * img, f->y + b * B);
        net_backward(&f->net);
        memcpy(G + (size_t)b * W->n_floats, W->g, W->n_floats * sizeof(float));
        for (int i = 0; i < W->n; i++)
            if (f->used[i])
                for (size_t j = 0; j < W->v[i].n; j++)
                    W->w[W->v[i].off + j] -= lr * W->g[W->v[i].off + j];
    }
    *S1 = 0;
    double s2 = 0;
    for (int i = 0; i < W->n; i++) {
        if (!f->used[i] || !is_w(W, i)) continue;
        double lay = 0, dot = 0;
        for (size_t j = W->v[i].off; j < W->v[i].off + W->v[i].n; j++) {
            double m = 0, a = 0, q = 0;
            for (int b = 0; b < K; b++) {
                double g = G[(size_t)b * W->n_floats + j];
                m += g / K;
                a += fabs(g) / K;
            }
            for (int b = 0; b < K; b++) {
                double d = G[(size_t)b * W->n_floats + j] - m;
                q += d * d / K;
            }
            if (q > 0) lay += a / sqrt(q);
            double gs = 0;
            for (int b = 0; b < K; b++) gs += G[(size_t)b * W->n_floats + j];
            dot += gs * W->w[j];
        }
        if (lay != 0) *S1 += log(lay);
        s2 += fabs(dot);
    }
    *S2 = 2 * log(s2 + 1e-5);
    free(G);
}

static void test_sigeo_zico(void) {
    fix_t f;
    if (fix_init(&f, build_convnet, NULL, 6, 3, 2, 2, 11)) {
        printf("NOT OK convnet fixture\n");
        n_fail++;
        return;
    }
    proxy_out_t o = run(&f, "sigeo");
    double S1, S2, L;
    sigeo_reference(&f, 0.5f, &S1, &S2, &L);
    check(close_rel(get(&o, "sigeo_s1"), S1, 1e-9), "sigeo S1 = plain-loop reference", get(&o, "sigeo_s1"), S1);
    check(close_rel(get(&o, "sigeo_s2"), S2, 1e-9), "sigeo S2 = plain-loop reference", get(&o, "sigeo_s2"), S2);
    check(get(&o, "sigeo_loss") == L, "sigeo L = last batch's loss", get(&o, "sigeo_loss"), L);
    double want = S1 + 2 * S2 - 0.5 * L;
    check(close_rel(get(&o, "sigeo"), want, 1e-9), "sigeo = l1 S1 + l2 S2 - l3 L", get(&o, "sigeo"), want);
    check(S1 != 0 && isfinite(S1), "S1 non-trivial", S1, S1);
    check(o.err[0] == 0, "sigeo: no error on a healthy net", 0, 0);

    proxy_out_t z = run(&f, "zico");
    double Z1, Z2, ZL;
    sigeo_reference(&f, 0.0f, &Z1, &Z2, &ZL);
    check(close_rel(get(&z, "zico"), Z1, 1e-9), "zico = plain-loop reference (no steps)", get(&z, "zico"), Z1);
    check(fabs(Z1 - S1) > 1e-6, "zico differs from SiGeo's S1 (the steps matter)", Z1, S1);
    proxy_ctx_reset(&f.c); /* ZiCo above reused SiGeo's batch-0 gradient; now without */
    proxy_out_t z2 = run(&f, "zico");
    check(get(&z2, "zico") == get(&z, "zico"), "zico identical with and without the cached batch 0",
          get(&z2, "zico"), get(&z, "zico"));

    /* Order independence and the supernet left alone. */
    for (int i = 0; proxy_table[i]; i++) run(&f, proxy_table[i]->name);
    proxy_out_t o2 = run(&f, "sigeo");
    check(get(&o2, "sigeo") == get(&o, "sigeo"), "sigeo identical after every other proxy ran",
          get(&o2, "sigeo"), get(&o, "sigeo"));
    check(memcmp(f.S.w, f.S_copy, f.S.n_floats * sizeof(float)) == 0,
          "supernet weights unchanged by all proxies", 0, 0);

    /* grad_norm and snip from one engine gradient, combined here. */
    memcpy(f.W.w, f.S.w, f.W.n_floats * sizeof(float));
    memset(f.W.g, 0, f.W.n_floats * sizeof(float));
    f.net.bn_mode = BN_BATCH;
    net_forward(&f.net, f.x, f.y);
    net_backward(&f.net);
    double gn = 0, sn = 0;
    for (int i = 0; i < f.W.n; i++) {
        if (!is_w(&f.W, i)) continue;
        double q = 0;
        for (size_t j = f.W.v[i].off; j < f.W.v[i].off + f.W.v[i].n; j++) {
            q += (double)f.W.g[j] * f.W.g[j];
            sn += fabs((double)f.W.g[j] * f.W.w[j]);
        }
        gn += sqrt(q);
    }
    f.c.have_batch0 = 0;
    proxy_out_t g = run(&f, "grad_norm"), s = run(&f, "snip");
    check(close_rel(get(&g, "grad_norm"), gn, 1e-9), "grad_norm = reference", get(&g, "grad_norm"), gn);
    check(close_rel(get(&s, "snip"), sn, 1e-9), "snip = reference", get(&s, "snip"), sn);

    /* params and FLOPs by hand: c1 2*1*9, bn1 2+2, c2 3*2, bn2 3+3, fc 3*3+3;
     * MACs c1 2*16*9, c2 3*16*2, fc 3*3. */
    proxy_out_t pp = run(&f, "params"), fl = run(&f, "flops");
    check(get(&pp, "params") == 46, "params by hand", get(&pp, "params"), 46);
    check(get(&fl, "flops") == 393, "flops by hand", get(&fl, "flops"), 393);

    /* NaN: a non-finite inherited weight gives NaN scores with reasons, not a failure. */
    int c1 = params_find(&f.S, "c1.w", 0);
    float keep = f.S.w[f.S.v[c1].off];
    f.S.w[f.S.v[c1].off] = NAN;
    proxy_out_t bad = run(&f, "sigeo"), badz = run(&f, "zico");
    check(isnan(get(&bad, "sigeo")) && bad.err[0], "NaN weight: sigeo NaN with a reason", get(&bad, "sigeo"), NAN);
    check(isnan(get(&badz, "zico")) && badz.err[0], "NaN weight: zico NaN with a reason", get(&badz, "zico"), NAN);
    printf("# reason: %s\n", bad.err);
    f.S.w[f.S.v[c1].off] = keep;
    fix_free(&f);
}

/* Linear softmax model z = W x: closed forms for Fisher and GraSP. */
static void test_fisher_grasp(void) {
    fix_t f;
    int B = 7, D = 5, K = 3;
    if (fix_init(&f, build_linear, NULL, B, 2, 1, 1, 5)) {
        printf("NOT OK linear fixture\n");
        n_fail++;
        return;
    }
    const float *W = f.S.w + f.S.v[params_find(&f.S, "fc.w", 0)].off;
    double g[15] = {0}, fish = 0, p[7][3];
    for (int b = 0; b < B; b++) {
        const float *x = f.x + b * D;
        double z[3], mx = -1e300, se = 0;
        for (int k = 0; k < K; k++) {
            z[k] = 0;
            for (int d = 0; d < D; d++) z[k] += (double)W[k * D + d] * x[d];
            if (z[k] > mx) mx = z[k];
        }
        for (int k = 0; k < K; k++) se += exp(z[k] - mx);
        for (int k = 0; k < K; k++) {
            p[b][k] = exp(z[k] - mx) / se;
            double dz = (p[b][k] - (f.y[b] == k)) / B;
            fish += 0.5 / B * (z[k] * dz) * (z[k] * dz);
            for (int d = 0; d < D; d++) g[k * D + d] += dz * x[d];
        }
    }
    /* H g: sum_b (J_p(b) (g x_b)) x_b^T / B with J_p = diag(p) - p p^T. */
    double Hg[15] = {0}, grasp = 0;
    for (int b = 0; b < B; b++) {
        const float *x = f.x + b * D;
        double u[3], pu = 0;
        for (int k = 0; k < K; k++) {
            u[k] = 0;
            for (int d = 0; d < D; d++) u[k] += g[k * D + d] * x[d];
            pu += p[b][k] * u[k];
        }
        for (int k = 0; k < K; k++)
            for (int d = 0; d < D; d++) Hg[k * D + d] += p[b][k] * (u[k] - pu) * x[d] / B;
    }
    for (int j = 0; j < K * D; j++) grasp -= W[j] * Hg[j];
    proxy_out_t fo = run(&f, "fisher"), go = run(&f, "grasp");
    check(close_rel(get(&fo, "fisher"), fish, 1e-5), "fisher = closed form (linear softmax)", get(&fo, "fisher"), fish);
    check(fabs(get(&go, "grasp") - grasp) <= 1e-2 * fabs(grasp), "grasp = closed form within 1% (finite difference)",
          get(&go, "grasp"), grasp);
    fix_free(&f);
}

/* SynFlow by hand on x -> |W1| -> relu -> |W2| + |b| with x = 1:
 * R = sum_o |b_o| + sum_o sum_j |W2_oj| sum_i |W1_ji|; score = 2 sum_oj |W2_oj| sum_i |W1_ji|. */
static void test_synflow(void) {
    fix_t f;
    int D = 3;
    if (fix_init(&f, build_mlp, &D, 2, 2, 1, 1, 9)) {
        printf("NOT OK mlp fixture\n");
        n_fail++;
        return;
    }
    const float *W1 = f.S.w + f.S.v[params_find(&f.S, "l1.w", 0)].off;
    const float *W2 = f.S.w + f.S.v[params_find(&f.S, "l2.w", 0)].off;
    double want = 0;
    for (int o = 0; o < 2; o++)
        for (int j = 0; j < 4; j++) {
            double r = 0;
            for (int i = 0; i < D; i++) r += fabs(W1[j * D + i]);
            want += 2 * fabs(W2[o * 4 + j]) * r;
        }
    proxy_out_t so = run(&f, "synflow");
    check(close_rel(get(&so, "synflow"), want, 1e-12), "synflow by hand (two linear layers)", get(&so, "synflow"), want);
    fix_free(&f);

    /* Euler: sum_i theta_i dR/dtheta_i = d/da R(a theta_w) at a = 1 for the conv/linear
     * weights theta_w, with R from the engine in BN_OFF mode on |weights|. */
    const char *arch = "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|";
    if (fix_init(&f, build_nb201, (void *)arch, 1, 2, 1, 1, 13)) {
        printf("NOT OK nb201 fixture\n");
        n_fail++;
        return;
    }
    so = run(&f, "synflow");
    double R[2];
    float ones[64];
    for (int i = 0; i < 64; i++) ones[i] = 1;
    int lab = 0;
    double h = 1e-3;
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < f.W.n; i++) {
            if (!f.used[i]) continue;
            double a = is_w(&f.W, i) ? (s ? 1 - h : 1 + h) : 1;
            for (size_t j = f.W.v[i].off; j < f.W.v[i].off + f.W.v[i].n; j++)
                f.W.w[j] = (float)(a * fabs(f.S.w[j]));
        }
        f.net.bn_mode = BN_OFF;
        net_forward(&f.net, ones, &lab);
        const node_t *lg = &f.net.nodes[f.net.logits];
        R[s] = 0;
        for (int k = 0; k < lg->C; k++) R[s] += lg->y[k];
    }
    want = (R[0] - R[1]) / (2 * h);
    check(close_rel(get(&so, "synflow"), want, 1e-3) && want > 0,
          "synflow = Euler derivative of R on an NB201 cell with every op", get(&so, "synflow"), want);
    fix_free(&f);
}

static double det_cofactor(const double *a, int n) {
    if (n == 1) return a[0];
    double d = 0, m[64];
    for (int c = 0; c < n; c++) {
        int q = 0;
        for (int i = 1; i < n; i++)
            for (int j = 0; j < n; j++)
                if (j != c) m[q++] = a[i * n + j];
        d += (c % 2 ? -1 : 1) * a[c] * det_cofactor(m, n - 1);
    }
    return d;
}

static void test_naswot(void) {
    fix_t f;
    int B = 4;
    if (fix_init(&f, build_convnet, NULL, B, 2, 1, 1, 17)) {
        printf("NOT OK convnet fixture\n");
        n_fail++;
        return;
    }
    proxy_out_t no = run(&f, "naswot"); /* leaves batch 0's activations in the net */
    double Km[16] = {0};
    for (int k = 0; k < f.net.n; k++) {
        const node_t *nd = &f.net.nodes[k];
        if (nd->op != OP_RELU) continue;
        size_t u = (size_t)nd->C * nd->H * nd->W;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < B; j++)
                for (size_t q = 0; q < u; q++)
                    Km[i * B + j] += (nd->y[i * u + q] > 0) == (nd->y[j * u + q] > 0);
    }
    double want = log(fabs(det_cofactor(Km, B)));
    check(close_rel(get(&no, "naswot"), want, 1e-9), "naswot = log|det| by cofactors", get(&no, "naswot"), want);
    fix_free(&f);
}

/* JacobCov with batch 2: J_b = W1^T diag(h_b > 0) W2^T 1; eigenvalues 1 +- r. */
static void test_jacov(void) {
    fix_t f;
    int D = 6;
    if (fix_init(&f, build_mlp, &D, 2, 2, 1, 1, 21)) {
        printf("NOT OK mlp fixture\n");
        n_fail++;
        return;
    }
    const float *W1 = f.S.w + f.S.v[params_find(&f.S, "l1.w", 0)].off;
    const float *W2 = f.S.w + f.S.v[params_find(&f.S, "l2.w", 0)].off;
    double J[2][6], m[2] = {0}, q[2] = {0}, cr = 0;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < D; i++) {
            J[b][i] = 0;
            for (int j = 0; j < 4; j++) {
                double h = 0;
                for (int t = 0; t < D; t++) h += (double)W1[j * D + t] * f.x[b * D + t];
                if (h > 0) J[b][i] += W1[j * D + i] * ((double)W2[j] + W2[4 + j]);
            }
            m[b] += J[b][i] / D;
        }
    for (int i = 0; i < D; i++) {
        q[0] += (J[0][i] - m[0]) * (J[0][i] - m[0]);
        q[1] += (J[1][i] - m[1]) * (J[1][i] - m[1]);
        cr += (J[0][i] - m[0]) * (J[1][i] - m[1]);
    }
    double r = cr / sqrt(q[0] * q[1]), want = 0;
    for (int s = -1; s <= 1; s += 2) want -= log(1 + s * r + 1e-5) + 1 / (1 + s * r + 1e-5);
    proxy_out_t jo = run(&f, "jacov");
    check(close_rel(get(&jo, "jacov"), want, 1e-5), "jacov = closed form (batch 2)", get(&jo, "jacov"), want);
    fix_free(&f);
}

/* One-shot: the recomputed running mean is the average of the per-batch means of the BN
 * input; accuracy is a share; the loss matches an evaluation with those statistics. */
static void test_oneshot(void) {
    fix_t f;
    int B = 5, n_bn = 3;
    if (fix_init(&f, build_convnet, NULL, B, 2, n_bn, 2, 23)) {
        printf("NOT OK convnet fixture\n");
        n_fail++;
        return;
    }
    proxy_out_t oo = run(&f, "oneshot");
    int sv = params_find(&f.W, "bn1.mean", 1);
    float got[2] = {f.W.s[f.W.sv[sv].off], f.W.s[f.W.sv[sv].off + 1]};
    double want[2] = {0, 0};
    int conv = -1;
    for (int k = 0; k < f.net.n; k++)
        if (f.net.nodes[k].op == OP_CONV) {
            conv = k;
            break;
        }
    for (int t = 0; t < n_bn; t++) {
        f.net.bn_mode = BN_BATCH;
        net_forward(&f.net, f.c.x_bn + (size_t)t * B * 16, f.c.y_bn + t * B);
        const float *y = f.net.nodes[conv].y;
        for (int b = 0; b < B; b++)
            for (int ch = 0; ch < 2; ch++)
                for (int j = 0; j < 16; j++) want[ch] += y[(b * 2 + ch) * 16 + j] / (16.0 * B * n_bn);
    }
    check(close_rel(got[0], want[0], 1e-5) && close_rel(got[1], want[1], 1e-5),
          "oneshot: BN running mean = average of batch means", got[0], want[0]);
    double acc = get(&oo, "oneshot_acc");
    check(acc >= 0 && acc <= 1 && acc * 10 == floor(acc * 10), "oneshot_acc is a share of 10 examples", acc, acc);
    check(isfinite(get(&oo, "oneshot_loss")) && get(&oo, "oneshot_loss") > 0, "oneshot_loss finite", get(&oo, "oneshot_loss"), 0);
    check(get(&oo, "oneshot_auc") == -12345.678, "no oneshot_auc for a softmax net", get(&oo, "oneshot_auc"), -12345.678);
    check(memcmp(f.S.w, f.S_copy, f.S.n_floats * 4) == 0,
          "oneshot leaves the supernet alone", 0, 0);
    fix_free(&f);
}

static int build_logistic(net_t *net, void *arg) {
    (void)arg;
    int h = net_input(net, 3, 1, 1);
    h = net_linear(net, h, "fc", 1, 1);
    return net_bce(net, h) < 0 ? -1 : 0;
}

/* One logit (click spaces): accuracy is the share of (z > 0) == label. */
static void test_oneshot_binary(void) {
    fix_t f;
    int B = 8, n_eval = 2;
    if (fix_init(&f, build_logistic, NULL, B, 2, 1, n_eval, 29)) {
        printf("NOT OK logistic fixture\n");
        n_fail++;
        return;
    }
    int n = (2 + 1 + n_eval) * B;
    for (int i = 0; i < n; i++) f.y[i] = i % 3 == 0;
    const float *w = f.S.w + f.S.v[params_find(&f.S, "fc.w", 0)].off;
    const float *b = f.S.w + f.S.v[params_find(&f.S, "fc.b", 0)].off;
    int right = 0;
    for (int i = 0; i < n_eval * B; i++) {
        const float *x = f.c.x_eval + (size_t)i * 3;
        double z = b[0] + (double)w[0] * x[0] + (double)w[1] * x[1] + (double)w[2] * x[2];
        right += (z > 0) == f.c.y_eval[i];
    }
    /* AUC by counting pairs: P(z_pos > z_neg) + 0.5 P(tie) */
    double pairs = 0, wins = 0;
    for (int i = 0; i < n_eval * B; i++)
        for (int j = 0; j < n_eval * B; j++) {
            if (!f.c.y_eval[i] || f.c.y_eval[j]) continue;
            const float *xi = f.c.x_eval + (size_t)i * 3, *xj = f.c.x_eval + (size_t)j * 3;
            double zi = (double)w[0] * xi[0] + (double)w[1] * xi[1] + (double)w[2] * xi[2];
            double zj = (double)w[0] * xj[0] + (double)w[1] * xj[1] + (double)w[2] * xj[2];
            pairs++;
            wins += zi > zj ? 1 : zi == zj ? 0.5 : 0;
        }
    proxy_out_t oo = run(&f, "oneshot");
    double want = (double)right / (n_eval * B);
    check(get(&oo, "oneshot_acc") == want, "oneshot_acc with one logit: (z > 0) == label", get(&oo, "oneshot_acc"), want);
    check(close_rel(get(&oo, "oneshot_auc"), wins / pairs, 1e-12),
          "oneshot_auc with one logit = share of (pos, neg) pairs ranked right", get(&oo, "oneshot_auc"), wins / pairs);
    fix_free(&f);
}

/* A click net with both weight-layer kinds of the nasrec space: dense features through a
 * sliced linear, two embedded ids through an EFC and a sliced linear, the two heads summed
 * (one linear layer over the concatenation, as nasrec builds it). */
static int build_recnet(net_t *net, void *arg) {
    (void)arg;
    int x = net_input(net, 4, 1, 1);
    int d = net_slice(net, x, 0, 2);
    int e = net_embed(net, x, "emb", 2, 2, 3, 2); /* (B,2,2): ids in columns 2, 3 */
    int hd = net_rlinear(net, d, "hd", 1, 1);
    int s = net_efc(net, e, "efc", 1);           /* (B,1,2) */
    int hs = net_rlinear(net, s, "hs", 1, 0);
    int in[2] = {hd, hs};
    return net_bce(net, net_add(net, 2, in)) < 0 ? -1 : 0;
}

/* Fisher over recommender weight layers, by hand: the EFC output a (B,1,E) as one channel
 * over E, and the summed head z (not its two parts): 0.5/B sum_b (z dz)^2 + (a . da)^2. */
static void test_fisher_rec(void) {
    fix_t f;
    int B = 6, E = 2;
    if (fix_init(&f, build_recnet, NULL, B, 1, 1, 1, 31)) {
        printf("NOT OK rec fixture\n");
        n_fail++;
        return;
    }
    for (int i = 0; i < 3 * B; i++) {
        f.y[i] = i % 3 == 0;
        f.x[i * 4 + 2] = (float)(i % 3);
        f.x[i * 4 + 3] = (float)((i / 2) % 3);
    }
    float *emb = f.S.w + f.S.v[params_find(&f.S, "emb.w", 0)].off;
    for (int j = 0; j < 2 * 3 * E; j++) emb[j] *= 60; /* embeddings O(1), not O(0.01) */
    const float *wd = f.S.w + f.S.v[params_find(&f.S, "hd.w", 0)].off;
    const float *bd = f.S.w + f.S.v[params_find(&f.S, "hd.b", 0)].off;
    const float *we = f.S.w + f.S.v[params_find(&f.S, "efc.w", 0)].off;
    const float *ws = f.S.w + f.S.v[params_find(&f.S, "hs.w", 0)].off;
    double fish = 0, parts = 0;
    for (int b = 0; b < B; b++) {
        const float *x = f.x + b * 4;
        double a[2], zd = bd[0] + (double)wd[0] * x[0] + (double)wd[1] * x[1], zs = 0;
        for (int e = 0; e < E; e++) {
            a[e] = 0;
            for (int q = 0; q < 2; q++) a[e] += (double)we[q] * emb[(q * 3 + (int)x[2 + q]) * E + e];
            zs += ws[e] * a[e];
        }
        double z = zd + zs, dz = (1 / (1 + exp(-z)) - f.y[b]) / B, ada = 0;
        for (int e = 0; e < E; e++) ada += a[e] * dz * ws[e];
        fish += 0.5 / B * ((z * dz) * (z * dz) + ada * ada);
        parts += 0.5 / B * ((zd * dz) * (zd * dz) + (zs * dz) * (zs * dz) + ada * ada);
    }
    proxy_out_t fo = run(&f, "fisher");
    check(close_rel(get(&fo, "fisher"), fish, 1e-5) && !close_rel(fish, parts, 1e-3),
          "fisher over EFC and summed sliced-linear layers = closed form", get(&fo, "fisher"), fish);
    fix_free(&f);
}

static int same_out(const proxy_out_t *a, const proxy_out_t *b) {
    if (a->n != b->n || strcmp(a->err, b->err)) return 0;
    for (int k = 0; k < a->n; k++)
        if (strcmp(a->key[k], b->key[k]) || memcmp(&a->v[k], &b->v[k], sizeof a->v[k])) return 0;
    return 1;
}

/* The flags are what score-sigeo plans from (proxy_plan), so they must be true: a proxy
 * without PROXY_NODE_DY scores bit-identically with dy buffers shared between nodes, every
 * proxy with the input gradient skipped in the shared passes (PROXY_INPUT_DY readers take
 * it in their own pass), and a PROXY_BATCH0 proxy with batch 0 left cached by another. */
/* latency: four positive keys once the context names the candidate (none without it); it
 * leaves the working weights, the supernet and the batch-0 cache as they were, so the
 * proxies after it score the same; only it is PROXY_TIMED. */
static void test_latency(void) {
    static const char *arch = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+"
                              "|avg_pool_3x3~0|none~1|nor_conv_3x3~2|";
    fix_t f;
    if (fix_init(&f, build_nb201, (void *)arch, 4, 2, 1, 1, 23)) {
        printf("NOT OK latency fixture\n");
        n_fail++;
        return;
    }
    proxy_out_t none = run(&f, "latency");
    check(none.n == 0, "latency without the candidate in the context: not scored", none.n, 0);
    space_cfg_t cfg;
    arch_t a;
    char err[128];
    space_cfg_default(&space_nb201, &cfg);
    cfg.C = 2, cfg.N = 1, cfg.in_ch = 1, cfg.H = cfg.W = 8, cfg.classes = 3;
    space_nb201.parse(arch, &a, err, sizeof err);
    f.c.space = &space_nb201, f.c.cfg = &cfg, f.c.arch = &a;
    f.c.lat_batch = 9, f.c.lat_repeats = 3;
    proxy_ctx_reset(&f.c);
    proxy_out_t g0 = run(&f, "grad_norm");
    float *w0 = malloc(f.W.n_floats * sizeof(float)), *s0 = malloc(f.W.n_state_floats * sizeof(float));
    if (w0) memcpy(w0, f.W.w, f.W.n_floats * sizeof(float));
    if (s0) memcpy(s0, f.W.s, f.W.n_state_floats * sizeof(float));
    proxy_out_t o = run(&f, "latency");
    check(o.n == 4 && get(&o, "latency_ms") > 0 && get(&o, "latency_batch_ms") > 0 &&
              isfinite(get(&o, "latency_ms")) && isfinite(get(&o, "latency_batch_ms")),
          "latency: positive, finite latency_ms and latency_batch_ms", get(&o, "latency_ms"), 0);
    check(get(&o, "latency_batch") == 9 && get(&o, "latency_threads") == lay_threads,
          "latency states its batch and threads", get(&o, "latency_batch"), 9);
    check(w0 && s0 && memcmp(w0, f.W.w, f.W.n_floats * sizeof(float)) == 0 &&
              memcmp(s0, f.W.s, f.W.n_state_floats * sizeof(float)) == 0 && f.c.have_batch0,
          "latency leaves the working weights, BN state and the batch-0 cache", 0, 0);
    check(memcmp(f.S.w, f.S_copy, f.S.n_floats * sizeof(float)) == 0,
          "latency leaves the supernet", 0, 0);
    proxy_out_t g1 = run(&f, "grad_norm");
    check(same_out(&g0, &g1), "grad_norm identical after latency ran", g1.v[0], g0.v[0]);
    int timed = 0;
    for (int i = 0; proxy_table[i]; i++)
        timed += !!(proxy_table[i]->flags & PROXY_TIMED) != !strcmp(proxy_table[i]->name, "latency");
    check(timed == 0 && !(proxy_find("latency")->flags & (PROXY_DEFAULT | PROXY_LIVE_ONLY)),
          "only latency is PROXY_TIMED; it is neither default nor live-only", timed, 0);
    free(w0), free(s0);
    fix_free(&f);
}

static void test_flags(void) {
    static const char *arch = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+"
                              "|avg_pool_3x3~0|none~1|nor_conv_3x3~2|";
    fix_t f;
    if (fix_init(&f, build_nb201, (void *)arch, 4, 2, 1, 1, 21)) {
        printf("NOT OK flags fixture\n");
        n_fail++;
        return;
    }
    int n = proxy_count();
    proxy_out_t ref[PROXY_MAX], o;
    for (int i = 0; i < n; i++) {
        proxy_ctx_reset(&f.c);
        ref[i] = run(&f, proxy_table[i]->name);
    }
    const proxy_t *g = proxy_find("grad_norm");
    for (int i = 0; i < n; i++) {
        if (!(proxy_table[i]->flags & PROXY_BATCH0)) continue;
        proxy_ctx_reset(&f.c);
        run(&f, g == proxy_table[i] ? "snip" : "grad_norm");
        int cached = f.c.have_batch0;
        o = run(&f, proxy_table[i]->name);
        char what[96];
        snprintf(what, sizeof what, "%s (PROXY_BATCH0) identical with batch 0 cached by another",
                 proxy_table[i]->name);
        check(same_out(&o, &ref[i]) && cached, what, o.n ? o.v[0] : 0, ref[i].n ? ref[i].v[0] : 0);
    }
    unsigned char on[PROXY_MAX];
    memset(on, 1, sizeof on);
    proxy_plan_t plan;
    proxy_plan(on, &plan);
    check(!plan.share_dy && plan.no_input_dy && plan.n_live_only > 0,
          "plan for every proxy: no shared dy (fisher reads nodes' dy), no shared input dy",
          plan.share_dy, 0);
    net_reset(&f.net);
    f.net.share_dy = 1;
    f.net.no_input_dy = 1;
    if (build_nb201(&f.net, (void *)arch) || net_finalize(&f.net, NULL)) {
        printf("NOT OK lean rebuild\n");
        n_fail++;
        fix_free(&f);
        return;
    }
    int ok = 1;
    for (int i = 0; i < n; i++) {
        if (proxy_table[i]->flags & PROXY_NODE_DY) continue;
        proxy_ctx_reset(&f.c);
        o = run(&f, proxy_table[i]->name);
        if (!same_out(&o, &ref[i])) {
            printf("# %s differs with share_dy and no_input_dy\n", proxy_table[i]->name);
            ok = 0;
        }
    }
    check(ok, "proxies without PROXY_NODE_DY identical with shared dy and no input dy", ok, 1);
    fix_free(&f);
}

int main(void) {
    test_sigeo_zico();
    test_fisher_grasp();
    test_synflow();
    test_naswot();
    test_jacov();
    test_oneshot();
    test_oneshot_binary();
    test_fisher_rec();
    test_flags();
    test_latency();
    int n = proxy_count();
    check(n == 17 && proxy_find("sigeo") && proxy_find("vkdnw") && !proxy_find("nope"), "table lists 17 proxies", n, 17);
    check(n < PROXY_MAX, "the table fits the callers' PROXY_MAX arrays", n, PROXY_MAX);
    check(proxy_index("fisher") == 4 && proxy_table[4] == proxy_find("fisher"),
          "proxy_index and proxy_find agree", proxy_index("fisher"), 4);
    printf("%s\n", n_fail ? "FAILED" : "all ok");
    return n_fail ? 1 : 0;
}
