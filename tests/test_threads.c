/* test_threads.c — the threaded engine (layers.h's lay_threads) against the serial one.
 *
 * Everything but a conv's weight gradient must give the same bits with two threads as
 * with one; the weight gradient must equal, bit for bit, the serial gradient of the first
 * part's images added into dw followed by the second part's, summed on their own. Also:
 * lay_par's parts tile [0, n) and run on distinct threads, a split GEMM matches the whole,
 * and a two-thread training run is bit-reproducible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "gradcheck.h"
#include "engine/layers.h"
#include "spaces/nb201.h"
#include "engine/net.h"
#include "engine/optim.h"
#include "base/util.h"

static float *randv(rng_t *r, size_t n) {
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) v[i] = (float)rng_normal(r);
    return v;
}

static int same(const float *a, const float *b, size_t n) { return !memcmp(a, b, sizeof(float) * n); }

/* ---- lay_par ---------------------------------------------------------------------------- */

static int seen[1000], who[8];
static void mark(void *arg, int t, size_t lo, size_t hi) {
    (void)arg;
    for (size_t i = lo; i < hi; i++) seen[i]++;
#ifdef _OPENMP
    who[t] = omp_get_thread_num();
#else
    who[t] = t;
#endif
}

static void test_par(void) {
    static const size_t cases[][2] = {{1000, 64}, {10, 4}, {3, 1}, {1, 1}, {129, 64}};
    int ok = 1;
    lay_set_threads(2);
    for (int c = 0; c < 5; c++) {
        memset(seen, 0, sizeof seen);
        lay_par(2, cases[c][0], cases[c][1], mark, NULL);
        for (size_t i = 0; i < cases[c][0]; i++) ok &= seen[i] == 1;
    }
    check(ok, "lay_par: the parts cover [0, n) exactly once", 5);
    who[0] = who[1] = -1;
    lay_par(2, 1000, 64, mark, NULL);
    check(who[0] == 0 && who[1] == 1, "lay_par: two parts run on threads 0 and 1", who[1]);
}

/* ---- convolution -------------------------------------------------------------------------- */

static void test_conv(int B, int C, int H, int OC, int K, int S, int P) {
    rng_t r;
    rng_seed(&r, (uint64_t)(B * 1000 + C * 100 + H + K));
    int OH = conv2d_out(H, K, S, P);
    size_t nx = (size_t)B * C * H * H, ny = (size_t)B * OC * OH * OH, nw = (size_t)OC * C * K * K;
    /* the workspace net_finalize gives two threads */
    size_t want = conv2d_ws_floats(B, C, H, H, OC, K, S, P);
    if (want > (1u << 16)) want = 1u << 16;
    if (want < conv2d_ws_floats(1, C, H, H, OC, K, S, P)) want = conv2d_ws_floats(1, C, H, H, OC, K, S, P);
    lay_set_threads(2);
    size_t n_ws = conv2d_ws_threads(want, C, OC, K);
    float *x = randv(&r, nx), *w = randv(&r, nw), *dy = randv(&r, ny), *dw0 = randv(&r, nw);
    float *ws = calloc(n_ws, sizeof(float));
    float *y1 = malloc(sizeof(float) * ny), *y2 = malloc(sizeof(float) * ny);
    float *dx1 = calloc(nx, sizeof(float)), *dx2 = calloc(nx, sizeof(float));
    float *dw1 = malloc(sizeof(float) * nw), *dw2 = malloc(sizeof(float) * nw);
    float *dwb = calloc(nw, sizeof(float));

    lay_set_threads(1);
    conv2d_forward(y1, x, w, ws, n_ws, B, C, H, H, OC, K, S, P);
    float *dws = malloc(sizeof(float) * nw); /* serial, all images */
    memcpy(dws, dw0, sizeof(float) * nw);
    conv2d_backward(dx1, dws, dy, x, w, ws, n_ws, B, C, H, H, OC, K, S, P);
    /* expected weight gradient: images [0, h) added into dw0, [h, B) summed on their own
     * (with dx wanted too, which decides the path); one image is one part: serial */
    int h = B / 2;
    memcpy(dw1, dws, sizeof(float) * nw);
    if (B > 1) {
        float *scratch = calloc(nx, sizeof(float));
        memcpy(dw1, dw0, sizeof(float) * nw);
        conv2d_backward(scratch, dw1, dy, x, w, ws, n_ws, h, C, H, H, OC, K, S, P);
        conv2d_backward(scratch, dwb, dy + (size_t)h * OC * OH * OH, x + (size_t)h * C * H * H,
                        w, ws, n_ws, B - h, C, H, H, OC, K, S, P);
        for (size_t i = 0; i < nw; i++) dw1[i] += dwb[i];
        free(scratch);
    }

    lay_set_threads(2);
    memset(ws, 0xff, sizeof(float) * n_ws); /* NaN scratch: every slice must be written first */
    memcpy(dw2, dw0, sizeof(float) * nw);
    conv2d_forward(y2, x, w, ws, n_ws, B, C, H, H, OC, K, S, P);
    conv2d_backward(dx2, dw2, dy, x, w, ws, n_ws, B, C, H, H, OC, K, S, P);
    lay_set_threads(1);

    char what[160];
    snprintf(what, sizeof what,
             "conv %d@%dx%d->%d k%d s%d p%d, B=%d, 2 threads: y and dx bit-identical, dw = the "
             "two parts' sums (rel. diff to serial %.1e)", C, H, H, OC, K, S, P, B,
             rel_diff(dw2, dws, nw));
    check(same(y1, y2, ny) && same(dx1, dx2, nx) && same(dw1, dw2, nw) &&
              rel_diff(dw2, dws, nw) < 1e-5, what, rel_diff(dw2, dws, nw));
    free(x), free(w), free(dy), free(dw0), free(ws), free(y1), free(y2), free(dx1), free(dx2);
    free(dw1), free(dw2), free(dwb), free(dws);
}

/* ---- batch norm, ReLU, pooling: the same bits ------------------------------------------- */

static void test_bn(int B, int C, int HW, int mode) {
    rng_t r;
    rng_seed(&r, 7);
    size_t n = (size_t)B * C * HW;
    float *x = randv(&r, n), *dy = randv(&r, n), *g = randv(&r, C), *b = randv(&r, C);
    float *out[2][8];
    for (int t = 0; t < 2; t++) {
        lay_set_threads(t + 1);
        float *y = malloc(sizeof(float) * n), *aux = malloc(sizeof(float) * 2 * C);
        float *rm = calloc(C, sizeof(float)), *rv = malloc(sizeof(float) * C);
        float *dx = calloc(n, sizeof(float)), *dxs = malloc(sizeof(float) * n);
        float *dg = calloc(C, sizeof(float)), *db = calloc(C, sizeof(float));
        for (int c = 0; c < C; c++) rv[c] = 1.0f;
        batchnorm_forward(y, aux, x, g, b, rm, rv, mode, 0.1f, 1e-5f, B, C, HW);
        batchnorm_backward(dx, dg, db, dy, x, g, aux, mode, B, C, HW);
        batchnorm_backward_set(dxs, NULL, NULL, dy, x, g, aux, mode, B, C, HW);
        float *o[8] = {y, aux, rm, rv, dx, dxs, dg, db};
        memcpy(out[t], o, sizeof o);
    }
    lay_set_threads(1);
    size_t sz[8] = {n, 2 * (size_t)C, C, C, n, n, C, C};
    int ok = 1;
    for (int k = 0; k < 8; k++) ok &= same(out[0][k], out[1][k], sz[k]);
    char what[96];
    snprintf(what, sizeof what, "batch norm B=%d C=%d HW=%d mode %d: 2 threads bit-identical", B,
             C, HW, mode);
    check(ok, what, 0);
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 8; k++) free(out[t][k]);
    free(x), free(dy), free(g), free(b);
}

static void test_elementwise(int BC, int H, int W) {
    rng_t r;
    rng_seed(&r, 11);
    size_t n = (size_t)BC * H * W, n2 = (size_t)BC * (H / 2) * (W / 2);
    float *x = randv(&r, n), *dy = randv(&r, n);
    float *o[2][6];
    for (int t = 0; t < 2; t++) {
        lay_set_threads(t + 1);
        for (int k = 0; k < 6; k++) o[t][k] = calloc(n, sizeof(float));
        relu_forward(o[t][0], x, n);
        relu_backward(o[t][1], dy, x, n);
        avgpool3_forward(o[t][2], x, BC, H, W);
        avgpool3_backward(o[t][3], dy, BC, H, W);
        avgpool2_forward(o[t][4], x, BC, H, W);
        avgpool2_backward(o[t][5], dy, BC, H, W);
    }
    lay_set_threads(1);
    size_t sz[6] = {n, n, n, n, n2, n};
    int ok = 1;
    for (int k = 0; k < 6; k++) ok &= same(o[0][k], o[1][k], sz[k]);
    char what[96];
    snprintf(what, sizeof what, "ReLU and pooling on %dx%dx%d: 2 threads bit-identical", BC, H, W);
    check(ok, what, 0);
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 6; k++) free(o[t][k]);
    free(x), free(dy);
}

/* ---- a GEMM split outside the parallel loops ---------------------------------------------- */

static void test_gemm(int ta, int tb, int M, int N, int K) {
    rng_t r;
    rng_seed(&r, 5);
    float *A = randv(&r, (size_t)M * K), *Bm = randv(&r, (size_t)K * N);
    float *C1 = randv(&r, (size_t)M * N), *C2 = malloc(sizeof(float) * M * N);
    memcpy(C2, C1, sizeof(float) * M * N);
    lay_set_threads(1);
    lay_gemm(ta, tb, M, N, K, A, ta ? M : K, Bm, tb ? K : N, 1.0f, C1, N);
    lay_set_threads(2);
    lay_gemm(ta, tb, M, N, K, A, ta ? M : K, Bm, tb ? K : N, 1.0f, C2, N);
    lay_set_threads(1);
    char what[96];
    double d = rel_diff(C2, C1, (size_t)M * N);
    snprintf(what, sizeof what, "lay_gemm %c%c %dx%dx%d split over 2 threads (rel. diff %.1e)",
             ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, d);
    check(d < 1e-6, what, d);
    free(A), free(Bm), free(C1), free(C2);
}

/* ---- a whole network -------------------------------------------------------------------- */

/* Loss of 4 SGD steps on the NB201 network (C=8, 1x16x16, batch 6) with T threads; the
 * final weights and BN statistics in *out (malloc'd). */
static void train(int T, float loss[4], float **out, size_t *n_out) {
    lay_set_threads(T);
    space_cfg_t c;
    memset(&c, 0, sizeof c);
    c.C = 8, c.N = 1, c.in_ch = 1, c.H = 16, c.W = 16, c.classes = 5;
    arch_t a;
    memset(&a, 0, sizeof a);
    int ops[6] = {NB_CONV3, NB_SKIP, NB_CONV1, NB_AVG3, NB_CONV3, NB_CONV3};
    a.n = 6;
    memcpy(a.g, ops, sizeof ops);
    params_t P;
    net_t net;
    rng_t r;
    rng_seed(&r, 21);
    params_init(&P);
    net_init(&net, &P, 6);
    if (nb201_build(&net, &c, &a) < 0 || net_finalize(&net, &r) < 0) {
        check(0, "build the network", 0);
        return;
    }
    float *x = randv(&r, 6 * 256);
    int lab[6] = {0, 1, 2, 3, 4, 0};
    sgd_t o = {0.05f, 0.9f, 5e-4f, 1};
    for (int s = 0; s < 4; s++) {
        params_zero_grad(&P);
        loss[s] = net_forward(&net, x, lab);
        net_backward(&net);
        sgd_step(&o, &P, NULL);
    }
    *n_out = P.n_floats + P.n_state_floats;
    *out = malloc(sizeof(float) * *n_out);
    memcpy(*out, P.w, sizeof(float) * P.n_floats);
    memcpy(*out + P.n_floats, P.s, sizeof(float) * P.n_state_floats);
    free(x);
    net_free(&net);
    params_free(&P);
    lay_set_threads(1);
}

static void test_network(void) {
    float l1[4], l2[4], l2b[4];
    float *w1, *w2, *w2b;
    size_t n1, n2, n2b;
    train(1, l1, &w1, &n1);
    train(2, l2, &w2, &n2);
    train(2, l2b, &w2b, &n2b);
    check(n2 == n2b && same(l2, l2b, 4) && same(w2, w2b, n2),
          "NB201 network, 2 threads: 4 SGD steps bit-identical run to run", l2[3]);
    char what[128];
    snprintf(what, sizeof what,
             "NB201 network: first loss bit-identical to 1 thread, weights after 4 steps within "
             "%.1e", n1 == n2 ? rel_diff(w2, w1, n1) : 1.0);
    check(n1 == n2 && l1[0] == l2[0] && rel_diff(w2, w1, n1) < 1e-4, what, l2[0]);
    free(w1), free(w2), free(w2b);
}

int main(void) {
    test_par();
    /* the channel-last paths where the CPU has them (Winograd, stride 2), then the same
     * shapes on the direct path / im2col; 1x1; the stem; odd sizes and an odd batch
     * (unequal parts) */
    for (int p = 0; p < 2; p++) {
        lay_winograd = p ? 0 : -1;
        test_conv(6, 8, 28, 8, 3, 1, 1);
        test_conv(7, 16, 14, 16, 3, 1, 1);
        test_conv(5, 32, 7, 32, 3, 1, 1);
        test_conv(6, 8, 28, 16, 3, 2, 1);
    }
    lay_winograd = -1;
    test_conv(6, 16, 14, 32, 1, 1, 0);
    test_conv(5, 1, 28, 8, 3, 1, 1);
    test_conv(3, 3, 9, 5, 3, 1, 1);
    test_conv(1, 8, 8, 8, 3, 1, 1); /* one image: one part */
    test_bn(5, 8, 49, BN_TRAIN);
    test_bn(3, 3, 10, BN_EVAL);
    test_bn(2, 1, 7, BN_BATCH);
    test_elementwise(13, 28, 28);
    test_elementwise(3, 7, 5);
    test_gemm(0, 0, 300, 200, 40);
    test_gemm(1, 1, 64, 500, 40);
    test_gemm(0, 1, 40, 300, 200);
    test_network();
    if (fails) printf("%d failed\n", fails);
    return fails != 0;
}
