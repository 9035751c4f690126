/* test_layers.c — every layer against central finite differences (float forward, loss
 * summed in double), and every BLAS-backed layer (conv, linear) against plain loops. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "engine/layers.h"
#include "engine/net.h"
#include "base/util.h"

#define TOL 2e-3

/* ---- convolution ----------------------------------------------------------------------- */

static int cB, cC, cH, cW, cOC, cK, cS, cP;
static float *cx, *cw, *cws;
static size_t cnws;

static void conv_naive_fwd(float *y, const float *x, const float *w) {
    int OH = conv2d_out(cH, cK, cS, cP), OW = conv2d_out(cW, cK, cS, cP);
    for (int b = 0; b < cB; b++)
        for (int o = 0; o < cOC; o++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double s = 0.0;
                    for (int c = 0; c < cC; c++)
                        for (int ky = 0; ky < cK; ky++)
                            for (int kx = 0; kx < cK; kx++) {
                                int iy = oh * cS - cP + ky, ix = ow * cS - cP + kx;
                                if (iy < 0 || iy >= cH || ix < 0 || ix >= cW) continue;
                                s += (double)x[((b * cC + c) * cH + iy) * cW + ix] *
                                     w[((o * cC + c) * cK + ky) * cK + kx];
                            }
                    y[((b * cOC + o) * OH + oh) * OW + ow] = (float)s;
                }
}

static void conv_naive_bwd(float *dx, float *dw, const float *dy, const float *x,
                           const float *w) {
    int OH = conv2d_out(cH, cK, cS, cP), OW = conv2d_out(cW, cK, cS, cP);
    for (int b = 0; b < cB; b++)
        for (int o = 0; o < cOC; o++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    float g = dy[((b * cOC + o) * OH + oh) * OW + ow];
                    for (int c = 0; c < cC; c++)
                        for (int ky = 0; ky < cK; ky++)
                            for (int kx = 0; kx < cK; kx++) {
                                int iy = oh * cS - cP + ky, ix = ow * cS - cP + kx;
                                if (iy < 0 || iy >= cH || ix < 0 || ix >= cW) continue;
                                size_t xi = ((size_t)(b * cC + c) * cH + iy) * cW + ix;
                                size_t wi = ((size_t)(o * cC + c) * cK + ky) * cK + kx;
                                dx[xi] += g * w[wi];
                                dw[wi] += g * x[xi];
                            }
                }
}

static void conv_fwd(void) {
    conv2d_forward(Y, cx, cw, cws, cnws, cB, cC, cH, cW, cOC, cK, cS, cP);
}

static void test_conv(int B, int C, int H, int W, int OC, int K, int S, int P, int chunk) {
    cB = B, cC = C, cH = H, cW = W, cOC = OC, cK = K, cS = S, cP = P;
    int OH = conv2d_out(H, K, S, P), OW = conv2d_out(W, K, S, P);
    size_t nx = (size_t)B * C * H * W, nw = (size_t)OC * C * K * K;
    ny = (size_t)B * OC * OH * OW;
    cnws = conv2d_ws_floats(chunk, C, H, W, OC, K, S, P);
    cx = randn(nx, 1), cw = randn(nw, 0.5f), cws = zeros(cnws);
    Y = zeros(ny), R = randn(ny, 1);
    float *yr = zeros(ny), *dx = randn(nx, 1), *dw = randn(nw, 1);
    float *dxr = malloc(sizeof(float) * nx), *dwr = malloc(sizeof(float) * nw);
    memcpy(dxr, dx, sizeof(float) * nx); /* backward accumulates: start from garbage */
    memcpy(dwr, dw, sizeof(float) * nw);
    char what[160];
    snprintf(what, sizeof what, "B%d C%d %dx%d OC%d K%d S%d P%d chunk%d%s", B, C, H, W, OC, K,
             S, P, chunk, lay_winograd ? (S == 1 ? " winograd" : " stride-2") : lay_direct ? " direct" : "");
    char msg[200];

    conv_fwd();
    conv_naive_fwd(yr, cx, cw);
    snprintf(msg, sizeof msg, "conv forward vs loops %s", what);
    check(rel_diff(Y, yr, ny) < 1e-5, msg, rel_diff(Y, yr, ny));

    conv2d_backward(dx, dw, R, cx, cw, cws, cnws, B, C, H, W, OC, K, S, P);
    conv_naive_bwd(dxr, dwr, R, cx, cw);
    snprintf(msg, sizeof msg, "conv backward dx vs loops %s", what);
    check(rel_diff(dx, dxr, nx) < 1e-5, msg, rel_diff(dx, dxr, nx));
    snprintf(msg, sizeof msg, "conv backward dw vs loops %s", what);
    check(rel_diff(dw, dwr, nw) < 1e-5, msg, rel_diff(dw, dwr, nw));

    memset(dx, 0, sizeof(float) * nx);
    memset(dw, 0, sizeof(float) * nw);
    conv2d_backward(dx, dw, R, cx, cw, cws, cnws, B, C, H, W, OC, K, S, P);
    fwd = conv_fwd;
    double e = fd(cx, dx, nx, 1e-2f);
    snprintf(msg, sizeof msg, "conv finite-diff dx %s", what);
    check(e < TOL, msg, e);
    e = fd(cw, dw, nw, 1e-2f);
    snprintf(msg, sizeof msg, "conv finite-diff dw %s", what);
    check(e < TOL, msg, e);
    free(cx), free(cw), free(cws), free(Y), free(R), free(yr), free(dx), free(dw);
    free(dxr), free(dwr);
}

/* The direct AVX-512 path (conv_direct.c) against plain loops: forward, and backward with
 * both gradients, with dw only and with dx only (dx needs C % 8 == 0), accumulating on
 * top of garbage; then through conv2d_forward/backward, which must pick it (forward, and
 * backward without dx) and agree with the im2col path. */
static void test_direct(int B, int C, int H, int W, int OC) {
    cB = B, cC = C, cH = H, cW = W, cOC = OC, cK = 3, cS = 1, cP = 1;
    size_t nx = (size_t)B * C * H * W, nw = (size_t)OC * C * 9, ny = (size_t)B * OC * H * W;
    size_t nws = convd_ws_floats(C, H, W, OC), nws2 = conv2d_ws_floats(2, C, H, W, OC, 3, 1, 1);
    float *x = randn(nx, 1), *w = randn(nw, 0.5f), *dy = randn(ny, 1), *g = randn(nx + nw, 1);
    float *ws = randn(nws2, 100), *y = zeros(ny), *yr = zeros(ny); /* ws starts dirty */
    float *dx = malloc(sizeof(float) * nx), *dw = malloc(sizeof(float) * nw);
    float *dxr = malloc(sizeof(float) * nx), *dwr = malloc(sizeof(float) * nw);
    char what[96], msg[160];
    snprintf(what, sizeof what, "B%d C%d %dx%d OC%d", B, C, H, W, OC);
    check(nws2 >= nws, "conv2d_ws_floats covers the direct path", (double)nws2);
    convd_forward(y, x, w, ws, B, C, H, W, OC);
    conv_naive_fwd(yr, x, w);
    snprintf(msg, sizeof msg, "conv direct forward vs loops %s", what);
    check(rel_diff(y, yr, ny) < 1e-5, msg, rel_diff(y, yr, ny));
    for (int mode = 0; mode < 3; mode++) { /* both, dw only, dx only */
        int want_dx = mode != 1 && C % 8 == 0, want_dw = mode != 2;
        if (!want_dx && !want_dw) continue;
        memcpy(dx, g, sizeof(float) * nx), memcpy(dxr, g, sizeof(float) * nx);
        memcpy(dw, g + nx, sizeof(float) * nw), memcpy(dwr, g + nx, sizeof(float) * nw);
        convd_backward(want_dx ? dx : NULL, want_dw ? dw : NULL, dy, x, w, ws, B, C, H, W, OC);
        conv_naive_bwd(dxr, dwr, dy, x, w);
        if (want_dx) {
            snprintf(msg, sizeof msg, "conv direct dx vs loops %s%s", what, want_dw ? "" : " (dx only)");
            check(rel_diff(dx, dxr, nx) < 1e-5, msg, rel_diff(dx, dxr, nx));
        }
        if (want_dw) {
            snprintf(msg, sizeof msg, "conv direct dw vs loops %s%s", what, want_dx ? "" : " (dw only)");
            check(rel_diff(dw, dwr, nw) < 1e-5, msg, rel_diff(dw, dwr, nw));
        }
    }
    /* dispatch: the same numbers as convd_* (direct taken), close to im2col's */
    float *y2 = zeros(ny), *dw2 = zeros(nw), *dw3 = zeros(nw);
    conv2d_forward(y2, x, w, ws, nws2, B, C, H, W, OC, 3, 1, 1);
    conv2d_backward(NULL, dw2, dy, x, w, ws, nws2, B, C, H, W, OC, 3, 1, 1);
    memset(dw, 0, sizeof(float) * nw);
    convd_backward(NULL, dw, dy, x, w, ws, B, C, H, W, OC);
    snprintf(msg, sizeof msg, "conv2d_* take the direct path (forward, backward without dx) %s",
             what);
    check(memcmp(y2, y, sizeof(float) * ny) == 0 && memcmp(dw2, dw, sizeof(float) * nw) == 0,
          msg, 0);
    lay_direct = 0;
    conv2d_forward(y2, x, w, ws, nws2, B, C, H, W, OC, 3, 1, 1);
    conv2d_backward(NULL, dw3, dy, x, w, ws, nws2, B, C, H, W, OC, 3, 1, 1);
    lay_direct = 1;
    double e = rel_diff(y2, y, ny), e2 = rel_diff(dw3, dw, nw);
    snprintf(msg, sizeof msg, "conv direct vs im2col y, dw %s", what);
    check((e > e2 ? e : e2) < 1e-5, msg, e > e2 ? e : e2);
    free(x), free(w), free(dy), free(g), free(ws), free(y), free(yr), free(dx), free(dw);
    free(dxr), free(dwr), free(y2), free(dw2), free(dw3);
}

/* The channel-last paths (conv_cl.c: Winograd for stride 1, direct for stride 2) against
 * plain loops: forward, and backward with both gradients, dw only and dx only,
 * accumulating on top of garbage, on a workspace full of NaN; then through
 * conv2d_forward/backward, which must pick them and agree with the im2col path (and,
 * for Winograd, differ from it: it is another computation). */
typedef void (*cl_fwd_fn)(float *, const float *, const float *, float *, int, int, int, int,
                          int);
typedef void (*cl_bwd_fn)(float *, float *, const float *, const float *, const float *,
                          float *, int, int, int, int, int);

static void test_cl(int S, int B, int C, int H, int W, int OC) {
    cB = B, cC = C, cH = H, cW = W, cOC = OC, cK = 3, cS = S, cP = 1;
    int OH = conv2d_out(H, 3, S, 1), OW = conv2d_out(W, 3, S, 1);
    size_t nx = (size_t)B * C * H * W, nw = (size_t)OC * C * 9, ny = (size_t)B * OC * OH * OW;
    cl_fwd_fn cf = S == 1 ? convw_forward : convs_forward;
    cl_bwd_fn cb = S == 1 ? convw_backward : convs_backward;
    const char *path = S == 1 ? "winograd" : "stride-2";
    size_t nws = S == 1 ? convw_ws_floats(C, H, W, OC) : convs_ws_floats(C, H, W, OC);
    size_t nws2 = conv2d_ws_floats(2, C, H, W, OC, 3, S, 1);
    float *x = randn(nx, 1), *w = randn(nw, 0.5f), *dy = randn(ny, 1), *g = randn(nx + nw, 1);
    float *ws = malloc(sizeof(float) * nws2), *y = zeros(ny), *yr = zeros(ny);
    float *dx = malloc(sizeof(float) * nx), *dw = malloc(sizeof(float) * nw);
    float *dxr = malloc(sizeof(float) * nx), *dwr = malloc(sizeof(float) * nw);
    for (size_t i = 0; i < nws2; i++) ws[i] = NAN;
    char what[96], msg[160];
    snprintf(what, sizeof what, "B%d C%d %dx%d OC%d", B, C, H, W, OC);
    snprintf(msg, sizeof msg, "conv2d_ws_floats covers the %s path", path);
    check(nws2 >= nws, msg, (double)nws2);
    cf(y, x, w, ws, B, C, H, W, OC);
    conv_naive_fwd(yr, x, w);
    snprintf(msg, sizeof msg, "conv %s forward vs loops %s", path, what);
    check(rel_diff(y, yr, ny) < 1e-5, msg, rel_diff(y, yr, ny));
    for (int mode = 0; mode < 3; mode++) { /* both, dw only, dx only */
        int want_dx = mode != 1, want_dw = mode != 2;
        memcpy(dx, g, sizeof(float) * nx), memcpy(dxr, g, sizeof(float) * nx);
        memcpy(dw, g + nx, sizeof(float) * nw), memcpy(dwr, g + nx, sizeof(float) * nw);
        cb(want_dx ? dx : NULL, want_dw ? dw : NULL, dy, x, w, ws, B, C, H, W, OC);
        conv_naive_bwd(dxr, dwr, dy, x, w);
        if (want_dx) {
            snprintf(msg, sizeof msg, "conv %s dx vs loops %s%s", path, what, want_dw ? "" : " (dx only)");
            check(rel_diff(dx, dxr, nx) < 1e-5, msg, rel_diff(dx, dxr, nx));
        } else {
            snprintf(msg, sizeof msg, "conv %s dw only leaves dx %s", path, what);
            check(memcmp(dx, g, sizeof(float) * nx) == 0, msg, 0);
        }
        if (want_dw) {
            snprintf(msg, sizeof msg, "conv %s dw vs loops %s%s", path, what, want_dx ? "" : " (dw only)");
            check(rel_diff(dw, dwr, nw) < 1e-5, msg, rel_diff(dw, dwr, nw));
        }
    }
    /* dispatch: the same bits as convw_*, close to im2col's but not equal */
    float *y2 = zeros(ny), *dx2 = zeros(nx), *dw2 = zeros(nw), *dx3 = zeros(nx), *dw3 = zeros(nw);
    conv2d_forward(y2, x, w, ws, nws2, B, C, H, W, OC, 3, S, 1);
    conv2d_backward(dx2, dw2, dy, x, w, ws, nws2, B, C, H, W, OC, 3, S, 1);
    memset(dx, 0, sizeof(float) * nx), memset(dw, 0, sizeof(float) * nw);
    cb(dx, dw, dy, x, w, ws, B, C, H, W, OC);
    snprintf(msg, sizeof msg, "conv2d_* take the %s path %s", path, what);
    check(memcmp(y2, y, sizeof(float) * ny) == 0 && memcmp(dx2, dx, sizeof(float) * nx) == 0 &&
              memcmp(dw2, dw, sizeof(float) * nw) == 0,
          msg, 0);
    lay_winograd = 0, lay_direct = 0;
    conv2d_forward(y2, x, w, ws, nws2, B, C, H, W, OC, 3, S, 1);
    conv2d_backward(dx3, dw3, dy, x, w, ws, nws2, B, C, H, W, OC, 3, S, 1);
    lay_winograd = 1;
    double e = fmax(rel_diff(y2, y, ny), fmax(rel_diff(dx3, dx, nx), rel_diff(dw3, dw, nw)));
    snprintf(msg, sizeof msg, "conv %s vs im2col y, dx, dw %s", path, what);
    check(e < 1e-5 && (e > 0 || H * W == 1 || S == 2), msg, e);
    free(x), free(w), free(dy), free(g), free(ws), free(y), free(yr), free(dx), free(dw);
    free(dxr), free(dwr), free(y2), free(dx2), free(dw2), free(dx3), free(dw3);
}

/* ---- linear ---------------------------------------------------------------------------- */

static int lB, lIN, lOUT;
static float *lx, *lw, *lb;
static void lin_fwd(void) { linear_forward(Y, lx, lw, lb, lB, lIN, lOUT); }

static void test_linear(int bias) {
    lB = 5, lIN = 7, lOUT = 4;
    ny = (size_t)lB * lOUT;
    lx = randn(lB * lIN, 1), lw = randn(lOUT * lIN, 1), lb = bias ? randn(lOUT, 1) : NULL;
    Y = zeros(ny), R = randn(ny, 1);
    float *dx = zeros(lB * lIN), *dw = zeros(lOUT * lIN), *db = zeros(lOUT);
    float *yr = zeros(ny), *dxr = zeros(lB * lIN), *dwr = zeros(lOUT * lIN), *dbr = zeros(lOUT);
    lin_fwd();
    for (int i = 0; i < lB; i++)
        for (int o = 0; o < lOUT; o++) {
            double s = lb ? lb[o] : 0.0;
            for (int k = 0; k < lIN; k++) s += (double)lx[i * lIN + k] * lw[o * lIN + k];
            yr[i * lOUT + o] = (float)s;
            float g = R[i * lOUT + o];
            for (int k = 0; k < lIN; k++) {
                dxr[i * lIN + k] += g * lw[o * lIN + k];
                dwr[o * lIN + k] += g * lx[i * lIN + k];
            }
            dbr[o] += g;
        }
    linear_backward(dx, dw, lb ? db : NULL, R, lx, lw, lB, lIN, lOUT);
    const char *t = bias ? "linear+bias" : "linear";
    char msg[100];
    snprintf(msg, sizeof msg, "%s forward vs loops", t);
    check(rel_diff(Y, yr, ny) < 1e-5, msg, rel_diff(Y, yr, ny));
    snprintf(msg, sizeof msg, "%s backward dx, dw vs loops", t);
    double e = fmax(rel_diff(dx, dxr, lB * lIN), rel_diff(dw, dwr, lOUT * lIN));
    check(e < 1e-5, msg, e);
    fwd = lin_fwd;
    snprintf(msg, sizeof msg, "%s finite-diff dx, dw", t);
    e = fmax(fd(lx, dx, lB * lIN, 1e-2f), fd(lw, dw, lOUT * lIN, 1e-2f));
    check(e < TOL, msg, e);
    if (bias) {
        e = fmax(rel_diff(db, dbr, lOUT), fd(lb, db, lOUT, 1e-2f));
        check(e < TOL, "linear finite-diff and loops db", e);
    }
    free(lx), free(lw), free(lb), free(Y), free(R), free(dx), free(dw), free(db);
    free(yr), free(dxr), free(dwr), free(dbr);
}

/* ---- batch norm ------------------------------------------------------------------------ */

static int bB, bC, bHW, bmode;
static float *bx, *bg, *bb, *brm, *brv, *baux;
static void bn_fwd(void) {
    batchnorm_forward(Y, baux, bx, bg, bb, brm, brv, bmode, 0.1f, 1e-5f, bB, bC, bHW);
}

static void test_bn(int mode, int affine) {
    static const char *const names[] = {"train", "batch", "eval", "off"};
    bB = 4, bC = 3, bHW = 5, bmode = mode;
    size_t n = (size_t)bB * bC * bHW;
    ny = n;
    bx = randn(n, 2);
    for (size_t i = 0; i < n; i++) bx[i] += 1.0f; /* non-zero mean */
    bg = affine ? randn(bC, 1) : NULL, bb = affine ? randn(bC, 1) : NULL;
    brm = randn(bC, 0.5f), brv = randn(bC, 0.3f), baux = zeros(2 * bC);
    for (int c = 0; c < bC; c++) brv[c] = 1.0f + fabsf(brv[c]);
    Y = zeros(n), R = randn(n, 1);
    float *dx = zeros(n), *dg = zeros(bC), *db = zeros(bC);
    float rm0[8], rv0[8];
    memcpy(rm0, brm, sizeof(float) * bC);
    memcpy(rv0, brv, sizeof(float) * bC);
    bn_fwd();
    /* running statistics: updated (PyTorch convention) in train mode only */
    double st = 0.0;
    for (int c = 0; c < bC; c++) {
        double s = 0, v = 0;
        for (int b = 0; b < bB; b++)
            for (int i = 0; i < bHW; i++) s += bx[(b * bC + c) * bHW + i];
        s /= n / bC;
        for (int b = 0; b < bB; b++)
            for (int i = 0; i < bHW; i++) v += pow(bx[(b * bC + c) * bHW + i] - s, 2);
        v /= (double)(n / bC - 1);
        double em = mode == BN_TRAIN ? 0.9 * rm0[c] + 0.1 * s : rm0[c];
        double ev = mode == BN_TRAIN ? 0.9 * rv0[c] + 0.1 * v : rv0[c];
        st = fmax(st, fmax(fabs(brm[c] - em), fabs(brv[c] - ev)));
    }
    char msg[100];
    snprintf(msg, sizeof msg, "bn %s%s running statistics", names[mode],
             affine ? " affine" : "");
    check(st < 1e-5, msg, st);
    /* keep running stats fixed during the finite differences */
    if (mode == BN_TRAIN) bmode = BN_BATCH;
    batchnorm_backward(dx, bg ? dg : NULL, bg ? db : NULL, R, bx, bg, baux, mode, bB, bC, bHW);
    fwd = bn_fwd;
    double e = fd(bx, dx, n, 1e-2f);
    if (affine) e = fmax(e, fmax(fd(bg, dg, bC, 1e-2f), fd(bb, db, bC, 1e-2f)));
    snprintf(msg, sizeof msg, "bn %s%s finite-diff dx%s", names[mode], affine ? " affine" : "",
             affine ? ", dgamma, dbeta" : "");
    check(e < TOL, msg, e);
    free(bx), free(bg), free(bb), free(brm), free(brv), free(baux), free(Y), free(R);
    free(dx), free(dg), free(db);
}

/* Eval with the batch's own (biased) statistics must equal batch mode. */
static void test_bn_eval_equals_batch(void) {
    int B = 3, C = 2, HW = 7;
    size_t n = (size_t)B * C * HW;
    float *x = randn(n, 1.5f), *g = randn(C, 1), *b = randn(C, 1);
    float *y1 = zeros(n), *y2 = zeros(n), aux[4], rm[2] = {0, 0}, rv[2] = {1, 1};
    batchnorm_forward(y1, aux, x, g, b, rm, rv, BN_BATCH, 0.1f, 1e-5f, B, C, HW);
    for (int c = 0; c < C; c++) {
        rm[c] = aux[c];
        rv[c] = 1.0f / (aux[C + c] * aux[C + c]) - 1e-5f;
    }
    batchnorm_forward(y2, aux, x, g, b, rm, rv, BN_EVAL, 0.1f, 1e-5f, B, C, HW);
    check(rel_diff(y2, y1, n) < 1e-5, "bn eval with batch statistics = batch mode",
          rel_diff(y2, y1, n));
    batchnorm_forward(y2, aux, x, g, b, rm, rv, BN_OFF, 0.1f, 1e-5f, B, C, HW);
    check(rel_diff(y2, x, n) == 0.0, "bn off is the identity", rel_diff(y2, x, n));
    free(x), free(g), free(b), free(y1), free(y2);
}

/* Batch statistics of data far from zero (mean 1000, std 1) against a double reference. */
static void test_bn_offset(void) {
    int B = 4, C = 2, HW = 50;
    size_t n = (size_t)B * C * HW;
    float *x = randn(n, 1), *y = zeros(n), aux[4], rm[2] = {0, 0}, rv[2] = {1, 1};
    for (size_t i = 0; i < n; i++) x[i] += 1000.0f;
    batchnorm_forward(y, aux, x, NULL, NULL, rm, rv, BN_BATCH, 0.1f, 1e-5f, B, C, HW);
    double worst = 0.0;
    for (int c = 0; c < C; c++) {
        double s = 0, v = 0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) s += x[(b * C + c) * HW + i];
        s /= B * HW;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) v += pow(x[(b * C + c) * HW + i] - s, 2);
        v /= B * HW;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                size_t j = (size_t)(b * C + c) * HW + i;
                worst = fmax(worst, fabs(y[j] - (x[j] - s) / sqrt(v + 1e-5)));
            }
    }
    check(worst < 1e-3, "bn batch statistics of data with mean 1000, std 1", worst);
    free(x), free(y);
}

/* ---- parameter-free layers ------------------------------------------------------------- */

static int pBC, pH, pW;
static float *px;
static void relu_fwd(void) { relu_forward(Y, px, (size_t)pBC * pH * pW); }
static void pool3_fwd(void) { avgpool3_forward(Y, px, pBC, pH, pW); }
static void pool2_fwd(void) { avgpool2_forward(Y, px, pBC, pH, pW); }
static void gap_fwd(void) { gap_forward(Y, px, pBC, pH * pW); }

static void test_plain(const char *name, void (*f)(void), void (*bwd)(float *), size_t nyy) {
    pBC = 6, pH = 5, pW = 6;
    size_t n = (size_t)pBC * pH * pW;
    px = randn(n, 1);
    for (size_t i = 0; i < n; i++) /* keep ReLU inputs away from the kink */
        if (fabsf(px[i]) < 0.05f) px[i] = px[i] < 0 ? -0.05f : 0.05f;
    ny = nyy;
    Y = zeros(ny), R = randn(ny, 1);
    float *dx = zeros(n);
    f();
    bwd(dx);
    fwd = f;
    double e = fd(px, dx, n, 1e-2f);
    char msg[100];
    snprintf(msg, sizeof msg, "%s finite-diff dx", name);
    check(e < TOL, msg, e);
    free(px), free(Y), free(R), free(dx);
}
static void relu_bwd(float *dx) { relu_backward(dx, R, px, (size_t)pBC * pH * pW); }
static void pool3_bwd(float *dx) { avgpool3_backward(dx, R, pBC, pH, pW); }
static void pool2_bwd(float *dx) { avgpool2_backward(dx, R, pBC, pH, pW); }
static void gap_bwd(float *dx) { gap_backward(dx, R, pBC, pH * pW); }

/* avg pool 3x3 must not count padding: a corner averages 4 cells, an edge 6. */
static void test_pool3_values(void) {
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[9];
    avgpool3_forward(y, x, 1, 3, 3);
    int ok = fabsf(y[0] - 3.0f) < 1e-6f && fabsf(y[1] - 3.5f) < 1e-6f &&
             fabsf(y[4] - 5.0f) < 1e-6f && fabsf(y[8] - 7.0f) < 1e-6f;
    check(ok, "avgpool3 excludes padding from the count", y[0]);
}

/* avgpool3 against a plain window average (forward) and its adjoint written as a plain
 * scatter (backward), on planes that take the flat path (<= 4096 cells, one row or
 * column, 1x1) and the row path (larger planes). */
static void test_pool3_loops(int BC, int H, int W) {
    size_t n = (size_t)BC * H * W;
    float *x = randn(n, 1.0f), *g = randn(n, 1.0f), *y = zeros(n), *ref = zeros(n);
    float *dx = randn(n, 1.0f), *dref = malloc(sizeof(float) * n);
    memcpy(dref, dx, sizeof(float) * n);
    avgpool3_forward(y, x, BC, H, W);
    avgpool3_backward(dx, g, BC, H, W);
    for (int p = 0; p < BC; p++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) {
                double s = 0.0;
                int cnt = 0;
                for (int a = h - 1; a <= h + 1; a++)
                    for (int b = w - 1; b <= w + 1; b++)
                        if (a >= 0 && a < H && b >= 0 && b < W)
                            s += x[((size_t)p * H + a) * W + b], cnt++;
                ref[((size_t)p * H + h) * W + w] = (float)(s / cnt);
                for (int a = h - 1; a <= h + 1; a++)
                    for (int b = w - 1; b <= w + 1; b++)
                        if (a >= 0 && a < H && b >= 0 && b < W)
                            dref[((size_t)p * H + a) * W + b] +=
                                g[((size_t)p * H + h) * W + w] / (float)cnt;
            }
    double e = rel_diff(y, ref, n), eb = rel_diff(dx, dref, n);
    char what[96];
    snprintf(what, sizeof what, "avgpool3 %dx%dx%d (%s path) = plain loops, forward and backward",
             BC, H, W, H * W <= 4096 ? "flat" : "row");
    check(e < 1e-5 && eb < 1e-5, what, e > eb ? e : eb);
    free(x), free(g), free(y), free(ref), free(dx), free(dref);
}

/* ---- cross-entropy --------------------------------------------------------------------- */

static int xB = 4, xK = 5;
static int xlab[4] = {0, 3, 4, 1};
static float *xl, *xp;
static float xloss;
static void xent_fwd(void) {
    xloss = xent_forward(xp, xl, xlab, xB, xK);
    Y[0] = xloss;
}

static void test_xent(void) {
    xl = randn(xB * xK, 2), xp = zeros(xB * xK);
    ny = 1;
    Y = zeros(1), R = zeros(1);
    R[0] = 1.0f;
    float *dl = zeros(xB * xK);
    xent_fwd();
    double ref = 0.0;
    for (int i = 0; i < xB; i++) {
        double s = 0.0;
        for (int k = 0; k < xK; k++) s += exp(xl[i * xK + k]);
        ref += log(s) - xl[i * xK + xlab[i]];
    }
    ref /= xB;
    check(fabs(xloss - ref) < 1e-5 * fabs(ref), "xent loss vs log-sum-exp", xloss - ref);
    xent_backward(dl, xp, xlab, 1.0f, xB, xK);
    fwd = xent_fwd;
    double e = fd(xl, dl, xB * xK, 1e-2f);
    check(e < TOL, "xent finite-diff dlogits", e);
    int bad[4] = {0, 5, 1, 1};
    check(isnan(xent_forward(xp, xl, bad, xB, xK)), "xent label out of range -> NaN", 0);
    free(xl), free(xp), free(Y), free(R), free(dl);
}

int main(void) {
    rng_seed(&rng, 1234);
    lay_winograd = 0; /* the im2col path first */
    lay_direct = 0;
    /* conv: kernels, strides, paddings; chunk 1 vs whole batch vs uneven chunks */
    test_conv(3, 2, 5, 6, 3, 3, 1, 1, 3);
    test_conv(3, 2, 5, 6, 3, 3, 1, 1, 1);
    test_conv(3, 2, 6, 6, 4, 3, 2, 1, 2);
    test_conv(2, 3, 7, 5, 2, 3, 2, 1, 2);
    test_conv(3, 4, 4, 5, 3, 1, 1, 0, 1);
    test_conv(3, 4, 4, 5, 3, 1, 1, 0, 3);
    test_conv(2, 2, 6, 6, 3, 2, 2, 0, 2);
    test_conv(2, 2, 7, 6, 3, 5, 2, 2, 1);
    test_conv(3, 3, 6, 7, 4, 5, 1, 2, 2); /* "same" 5x5: block im2col / col2im paths */
    test_conv(2, 2, 1, 5, 3, 3, 1, 1, 2); /* one row: every kernel row but one is padding */
    /* the fused Winograd path: the NB201 stages, odd sizes (tiles past the edge), one row,
     * one pixel, channel counts of the generic products (24, 64) and OC % 16 != 0 */
    lay_winograd = -1;
    if (convw_use(8, 8)) {
        lay_winograd = 1;
        int w_shapes[][5] = {{2, 8, 28, 28, 8}, {3, 16, 14, 14, 16}, {2, 32, 7, 7, 32},
                             {2, 8, 5, 6, 16},   {2, 8, 1, 5, 8},     {2, 16, 2, 3, 8},
                             {1, 24, 9, 4, 24},  {2, 8, 7, 7, 24},    {2, 8, 1, 1, 8},
                             {1, 64, 4, 5, 64},  {3, 32, 3, 9, 16}};
        for (int i = 0; i < (int)(sizeof w_shapes / sizeof w_shapes[0]); i++) {
            int *d = w_shapes[i];
            test_cl(1, d[0], d[1], d[2], d[3], d[4]);
        }
        /* the stride-2 path: the NB201 reductions, odd sizes, one row, 8 outputs */
        int s_shapes[][5] = {{2, 8, 28, 28, 16}, {2, 16, 14, 14, 32}, {2, 8, 7, 7, 16},
                             {1, 8, 1, 5, 8},    {2, 16, 5, 6, 24},   {1, 24, 9, 3, 8}};
        for (int i = 0; i < (int)(sizeof s_shapes / sizeof s_shapes[0]); i++) {
            int *d = s_shapes[i];
            test_cl(2, d[0], d[1], d[2], d[3], d[4]);
        }
        /* finite differences through the dispatcher */
        test_conv(2, 8, 5, 5, 16, 3, 1, 1, 1);
        test_conv(2, 16, 6, 7, 8, 3, 1, 1, 2);
        test_conv(2, 8, 6, 7, 16, 3, 2, 1, 1);
        test_conv(2, 8, 5, 5, 8, 3, 2, 1, 2);
    } else {
        printf("skip: conv winograd and stride-2 paths (no AVX-512F/VL on this CPU or SIGEO_WINOGRAD=0)\n");
    }
    lay_winograd = 0;
    lay_direct = -1; /* on where the CPU has AVX-512F */
    if (convd_use(8, 8, 8, 0)) {
        lay_direct = 1;
        int d_shapes[][5] = {{2, 8, 28, 28, 8}, {3, 16, 14, 14, 16}, {2, 32, 7, 7, 32},
                             {3, 1, 28, 28, 8},  {2, 8, 5, 6, 16},    {2, 8, 1, 5, 8},
                             {2, 16, 2, 3, 8},  {1, 3, 9, 4, 24}};
        for (int i = 0; i < (int)(sizeof d_shapes / sizeof d_shapes[0]); i++) {
            int *d = d_shapes[i];
            test_direct(d[0], d[1], d[2], d[3], d[4]);
        }
        /* finite differences through the dispatcher (direct forward) */
        test_conv(2, 3, 6, 7, 8, 3, 1, 1, 2);
        test_conv(2, 8, 5, 5, 16, 3, 1, 1, 1);
    } else {
        printf("skip: conv direct path (no AVX-512F on this CPU or SIGEO_DIRECT=0)\n");
    }
    lay_direct = 0;
    test_linear(0);
    test_linear(1);
    for (int m = BN_TRAIN; m <= BN_OFF; m++) {
        test_bn(m, 1);
        test_bn(m, 0);
    }
    test_bn_eval_equals_batch();
    test_bn_offset();
    test_plain("relu", relu_fwd, relu_bwd, 6 * 5 * 6);
    test_plain("avgpool3", pool3_fwd, pool3_bwd, 6 * 5 * 6);
    test_plain("avgpool2", pool2_fwd, pool2_bwd, 6 * 2 * 3);
    test_plain("gap", gap_fwd, gap_bwd, 6);
    test_pool3_values();
    test_pool3_loops(5, 28, 28);
    test_pool3_loops(3, 7, 7);
    test_pool3_loops(2, 1, 9);
    test_pool3_loops(2, 9, 1);
    test_pool3_loops(2, 1, 1);
    test_pool3_loops(2, 70, 66);
    test_xent();
    if (fails) printf("%d NOT OK\n", fails);
    return fails != 0;
}
