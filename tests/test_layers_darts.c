/* test_layers_darts.c — the DARTS layers (layers_darts.h) against plain loops and central
 * finite differences, with 1 and 2 threads giving the same bits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "engine/layers.h"
#include "engine/layers_darts.h"

#define TOL 2e-3

static float *dup(const float *p, size_t n) {
    float *q = malloc(sizeof(float) * (n ? n : 1));
    memcpy(q, p, sizeof(float) * n);
    return q;
}

/* ---- depthwise convolution ---------------------------------------------------------------- */

static int dB, dC, dH, dW, dK, dS, dP, dD;
static float *dxv, *dwv;

static void dw_naive(float *y, float *dx, float *dw, const float *dy, const float *x,
                     const float *w) {
    int OH = dconv_out(dH, dK, dS, dP, dD), OW = dconv_out(dW, dK, dS, dP, dD);
    for (int b = 0; b < dB; b++)
        for (int c = 0; c < dC; c++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    size_t yi = (((size_t)b * dC + c) * OH + oh) * OW + ow;
                    double s = 0.0;
                    for (int ky = 0; ky < dK; ky++)
                        for (int kx = 0; kx < dK; kx++) {
                            int iy = oh * dS - dP + ky * dD, ix = ow * dS - dP + kx * dD;
                            if (iy < 0 || iy >= dH || ix < 0 || ix >= dW) continue;
                            size_t xi = (((size_t)b * dC + c) * dH + iy) * dW + ix;
                            size_t wi = ((size_t)c * dK + ky) * dK + kx;
                            s += (double)x[xi] * w[wi];
                            if (dy) {
                                dx[xi] += dy[yi] * w[wi];
                                dw[wi] += dy[yi] * x[xi];
                            }
                        }
                    if (y) y[yi] = (float)s;
                }
}

static void dw_fwd(void) { dwconv_forward(Y, dxv, dwv, dB, dC, dH, dW, dK, dS, dP, dD); }

static void test_dwconv(int B, int C, int H, int W, int K, int S, int P, int D) {
    dB = B, dC = C, dH = H, dW = W, dK = K, dS = S, dP = P, dD = D;
    int OH = dconv_out(H, K, S, P, D), OW = dconv_out(W, K, S, P, D);
    size_t nx = (size_t)B * C * H * W, nw = (size_t)C * K * K;
    ny = (size_t)B * C * OH * OW;
    dxv = randn(nx, 1), dwv = randn(nw, 0.5f);
    Y = zeros(ny), R = randn(ny, 1);
    float *yr = zeros(ny), *dx = randn(nx, 1), *dw = randn(nw, 1);
    float *dxr = dup(dx, nx), *dwr = dup(dw, nw); /* backward accumulates */
    fwd = dw_fwd;
    dw_fwd();
    dw_naive(yr, dxr, dwr, R, dxv, dwv);
    dwconv_backward(dx, dw, R, dxv, dwv, B, C, H, W, K, S, P, D);
    char what[160];
    snprintf(what, sizeof what, "dwconv B%d C%d %dx%d K%d S%d P%d D%d", B, C, H, W, K, S, P, D);
    double e = fmax(rel_diff(Y, yr, ny), fmax(rel_diff(dx, dxr, nx), rel_diff(dw, dwr, nw)));
    char msg[200];
    snprintf(msg, sizeof msg, "%s vs plain loops", what);
    check(e < 1e-5, msg, e);
    /* finite differences of the analytic gradients alone */
    memset(dx, 0, sizeof(float) * nx), memset(dw, 0, sizeof(float) * nw);
    dwconv_backward(dx, dw, R, dxv, dwv, B, C, H, W, K, S, P, D);
    e = fmax(fd(dxv, dx, nx, 1e-2f), fd(dwv, dw, nw, 1e-2f));
    snprintf(msg, sizeof msg, "%s finite differences", what);
    check(e < TOL, msg, e);
    /* two threads: the same bits */
    float *y2 = zeros(ny), *dx2 = zeros(nx), *dw2 = zeros(nw);
    lay_threads = 2;
    dwconv_forward(y2, dxv, dwv, B, C, H, W, K, S, P, D);
    dwconv_backward(dx2, dw2, R, dxv, dwv, B, C, H, W, K, S, P, D);
    lay_threads = 1;
    check(memcmp(y2, Y, sizeof(float) * ny) == 0 && memcmp(dx2, dx, sizeof(float) * nx) == 0 &&
              memcmp(dw2, dw, sizeof(float) * nw) == 0,
          "dwconv 2 threads: same bits", 0);
    /* NULL dx: only dw */
    float *dw3 = zeros(nw);
    dwconv_backward(NULL, dw3, R, dxv, dwv, B, C, H, W, K, S, P, D);
    check(memcmp(dw3, dw, sizeof(float) * nw) == 0, "dwconv dw alone", 0);
    free(dxv), free(dwv), free(Y), free(R), free(yr), free(dx), free(dw), free(dxr), free(dwr);
    free(y2), free(dx2), free(dw2), free(dw3);
}

/* ---- pooling -------------------------------------------------------------------------------- */

static int pBC, pH, pW, pS, pMax;
static float *pxv;

static void pool_naive(float *y, float *dx, const float *dy, const float *x) {
    int OH = (pH - 1) / pS + 1, OW = (pW - 1) / pS + 1;
    for (int p = 0; p < pBC; p++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                double s = 0.0, m = -INFINITY;
                int n = 0, at = -1;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = oh * pS - 1 + ky, ix = ow * pS - 1 + kx;
                        if (iy < 0 || iy >= pH || ix < 0 || ix >= pW) continue;
                        double v = x[((size_t)p * pH + iy) * pW + ix];
                        s += v, n++;
                        if (v > m) m = v, at = iy * pW + ix;
                    }
                size_t yi = ((size_t)p * OH + oh) * OW + ow;
                y[yi] = (float)(pMax ? m : s / n);
                if (pMax) dx[(size_t)p * pH * pW + at] += dy[yi];
                else
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oh * pS - 1 + ky, ix = ow * pS - 1 + kx;
                            if (iy < 0 || iy >= pH || ix < 0 || ix >= pW) continue;
                            dx[((size_t)p * pH + iy) * pW + ix] += (float)(dy[yi] / n);
                        }
            }
}

static void pool_fwd(void) {
    (pMax ? maxpool3_forward : avgpool3s_forward)(Y, pxv, pBC, pH, pW, pS);
}

static void test_pool(int max, int BC, int H, int W, int S) {
    pBC = BC, pH = H, pW = W, pS = S, pMax = max;
    size_t nx = (size_t)BC * H * W;
    ny = (size_t)BC * ((H - 1) / S + 1) * ((W - 1) / S + 1);
    /* a permutation of well-separated values: no near-ties for the max to jump across */
    pxv = zeros(nx);
    for (size_t i = 0; i < nx; i++) pxv[i] = (float)i * 0.1f;
    for (size_t i = nx - 1; i > 0; i--) {
        size_t k = (size_t)(rng_uniform(&rng) * (double)(i + 1));
        if (k > i) k = i;
        float t = pxv[i];
        pxv[i] = pxv[k], pxv[k] = t;
    }
    Y = zeros(ny), R = randn(ny, 1);
    float *yr = zeros(ny), *dx = randn(nx, 1), *dxr = dup(dx, nx);
    fwd = pool_fwd;
    pool_fwd();
    pool_naive(yr, dxr, R, pxv);
    if (max) maxpool3_backward(dx, R, pxv, BC, H, W, S);
    else avgpool3s_backward(dx, R, BC, H, W, S);
    char what[128], msg[200];
    snprintf(what, sizeof what, "%spool3 BC%d %dx%d S%d", max ? "max" : "avg", BC, H, W, S);
    double e = fmax(rel_diff(Y, yr, ny), rel_diff(dx, dxr, nx));
    snprintf(msg, sizeof msg, "%s vs plain loops", what);
    check(e < 1e-6, msg, e);
    memset(dx, 0, sizeof(float) * nx);
    if (max) maxpool3_backward(dx, R, pxv, BC, H, W, S);
    else avgpool3s_backward(dx, R, BC, H, W, S);
    e = fd(pxv, dx, nx, 1e-2f);
    snprintf(msg, sizeof msg, "%s finite differences", what);
    check(e < TOL, msg, e);
    /* stride 1 average: the same numbers as layers.h's avgpool3 */
    if (!max && S == 1) {
        avgpool3_forward(yr, pxv, BC, H, W);
        e = rel_diff(Y, yr, ny);
        check(e < 1e-6, "avgpool3s stride 1 = avgpool3", e);
    }
    free(pxv), free(Y), free(R), free(yr), free(dx), free(dxr);
}

static void test_maxpool_ties(void) {
    /* a constant plane: every window ties, the gradient goes to its first cell */
    float x[16], y[4], dx[16] = {0}, dy[4] = {1, 2, 3, 4};
    for (int i = 0; i < 16; i++) x[i] = 1.0f;
    maxpool3_forward(y, x, 1, 4, 4, 2);
    maxpool3_backward(dx, dy, x, 1, 4, 4, 2);
    /* windows start at rows/cols -1 (clipped to 0) and 1 */
    int ok = dx[0] == 1 && dx[1] == 2 && dx[4] == 3 && dx[5] == 4 && y[3] == 1.0f;
    check(ok, "maxpool3 ties: first maximum in row-major order", 0);
    /* all -inf: nothing beats the padding, the gradient goes to the first cell in bounds */
    for (int i = 0; i < 16; i++) x[i] = -INFINITY, dx[i] = 0.0f;
    maxpool3_forward(y, x, 1, 4, 4, 2);
    maxpool3_backward(dx, dy, x, 1, 4, 4, 2);
    ok = dx[0] == 1 && dx[1] == 2 && dx[4] == 3 && dx[5] == 4 && y[0] == -INFINITY;
    check(ok, "maxpool3 all -inf: first cell in bounds", 0);
    x[5] = NAN;
    maxpool3_forward(y, x, 1, 4, 4, 2);
    check(isnan(y[0]) && isnan(y[3]), "maxpool3: NaN propagates", 0);
}

/* ---- factorized reduce -------------------------------------------------------------------- */

static int fB, fC, fH, fW, fOC;
static float *fxv, *fw1, *fw2, *fws;

static void fr_fwd(void) { facred_forward(Y, fxv, fw1, fw2, fws, fB, fC, fH, fW, fOC); }

static void test_facred(int B, int C, int H, int W, int OC) {
    fB = B, fC = C, fH = H, fW = W, fOC = OC;
    int OH = H / 2, OW = W / 2, h = OC / 2;
    size_t nx = (size_t)B * C * H * W, nw = (size_t)h * C;
    ny = (size_t)B * OC * OH * OW;
    fxv = randn(nx, 1), fw1 = randn(nw, 0.5f), fw2 = randn(nw, 0.5f);
    fws = zeros(facred_ws_floats(C, H, W));
    Y = zeros(ny), R = randn(ny, 1);
    float *yr = zeros(ny), *dx = randn(nx, 1), *d1 = randn(nw, 1), *d2 = randn(nw, 1);
    float *dxr = dup(dx, nx), *d1r = dup(d1, nw), *d2r = dup(d2, nw);
    fwd = fr_fwd;
    fr_fwd();
    facred_backward(dx, d1, d2, R, fxv, fw1, fw2, fws, B, C, H, W, OC);
    for (int b = 0; b < B; b++)
        for (int o = 0; o < OC; o++)
            for (int i = 0; i < OH; i++)
                for (int j = 0; j < OW; j++) {
                    int sh = o >= h, oo = o % h;
                    const float *w = sh ? fw2 : fw1;
                    float *dw = sh ? d2r : d1r;
                    size_t yi = (((size_t)b * OC + o) * OH + i) * OW + j;
                    double s = 0.0;
                    for (int c = 0; c < C; c++) {
                        size_t xi = (((size_t)b * C + c) * H + 2 * i + sh) * W + 2 * j + sh;
                        s += (double)w[oo * C + c] * fxv[xi];
                        dxr[xi] += R[yi] * w[oo * C + c];
                        dw[oo * C + c] += R[yi] * fxv[xi];
                    }
                    yr[yi] = (float)s;
                }
    char what[128], msg[200];
    snprintf(what, sizeof what, "facred B%d C%d %dx%d OC%d", B, C, H, W, OC);
    double e = fmax(rel_diff(Y, yr, ny), rel_diff(dx, dxr, nx));
    e = fmax(e, fmax(rel_diff(d1, d1r, nw), rel_diff(d2, d2r, nw)));
    snprintf(msg, sizeof msg, "%s vs plain loops", what);
    check(e < 1e-5, msg, e);
    memset(dx, 0, sizeof(float) * nx), memset(d1, 0, sizeof(float) * nw);
    memset(d2, 0, sizeof(float) * nw);
    facred_backward(dx, d1, d2, R, fxv, fw1, fw2, fws, B, C, H, W, OC);
    e = fmax(fd(fxv, dx, nx, 1e-2f), fmax(fd(fw1, d1, nw, 1e-2f), fd(fw2, d2, nw, 1e-2f)));
    snprintf(msg, sizeof msg, "%s finite differences", what);
    check(e < TOL, msg, e);
    free(fxv), free(fw1), free(fw2), free(fws), free(Y), free(R), free(yr), free(dx);
    free(d1), free(d2), free(dxr), free(d1r), free(d2r);
}

/* ---- channel concatenation ---------------------------------------------------------------- */

static void test_chcat(void) {
    int B = 3, HW = 5, c[3] = {2, 1, 4}, T = 7;
    float *x[3], *dx[3], *dxr[3];
    for (int i = 0; i < 3; i++) {
        x[i] = randn((size_t)B * c[i] * HW, 1);
        dx[i] = randn((size_t)B * c[i] * HW, 1);
        dxr[i] = dup(dx[i], (size_t)B * c[i] * HW);
    }
    float *y = zeros((size_t)B * T * HW), *dy = randn((size_t)B * T * HW, 1);
    chcat_forward(y, (const float *const *)x, c, 3, B, HW);
    float *dxs[3] = {dx[0], NULL, dx[2]};
    chcat_backward(dxs, dy, c, 3, B, HW);
    int ok = 1;
    for (int b = 0; b < B; b++)
        for (int ch = 0, i = 0, base = 0; ch < T; ch++) {
            if (ch - base >= c[i]) base += c[i++];
            for (int k = 0; k < HW; k++) {
                size_t yi = ((size_t)b * T + ch) * HW + k;
                size_t xi = ((size_t)b * c[i] + ch - base) * HW + k;
                ok &= y[yi] == x[i][xi];
                float want = dxr[i][xi] + (i == 1 ? 0.0f : dy[yi]);
                ok &= dx[i][xi] == want;
            }
        }
    check(ok, "chcat forward and backward (NULL dx skipped)", 0);
    for (int i = 0; i < 3; i++) free(x[i]), free(dx[i]), free(dxr[i]);
    free(y), free(dy);
}

int main(void) {
    rng_seed(&rng, 4321);
    lay_threads = 1;
    /* the DARTS ops' depthwise convs: sep 3x3/5x5 and dil 3x3/5x5, stride 1 and 2, odd
     * sizes, and a kernel wider than the image */
    test_dwconv(2, 3, 6, 7, 3, 1, 1, 1);
    test_dwconv(2, 3, 6, 6, 3, 2, 1, 1);
    test_dwconv(2, 2, 7, 6, 5, 1, 2, 1);
    test_dwconv(2, 2, 8, 8, 5, 2, 2, 1);
    test_dwconv(2, 3, 7, 7, 3, 1, 2, 2);
    test_dwconv(2, 2, 8, 6, 3, 2, 2, 2);
    test_dwconv(1, 2, 9, 8, 5, 1, 4, 2);
    test_dwconv(2, 2, 6, 8, 5, 2, 4, 2);
    test_dwconv(1, 2, 2, 3, 5, 1, 4, 2);
    test_dwconv(2, 3, 5, 4, 3, 1, 0, 1);
    /* the plain path: a plane too large for the flat kernels, and a 7x7 kernel */
    test_dwconv(1, 2, 92, 91, 3, 1, 1, 1);
    test_dwconv(1, 2, 90, 92, 5, 2, 4, 2);
    test_dwconv(2, 2, 9, 8, 7, 1, 3, 1);
    for (int max = 0; max < 2; max++) {
        test_pool(max, 3, 5, 6, 1);
        test_pool(max, 3, 6, 6, 2);
        test_pool(max, 2, 7, 5, 2);
        test_pool(max, 2, 1, 4, 2);
        test_pool(max, 2, 1, 1, 1);
    }
    /* max planes larger than the flat path (values up to 1638: the finite differences of
     * an average would drown in float rounding) */
    test_pool(1, 2, 90, 91, 1);
    test_pool(1, 2, 91, 90, 2);
    test_maxpool_ties();
    test_facred(2, 3, 6, 8, 4);
    test_facred(3, 5, 4, 4, 6);
    test_facred(1, 2, 2, 2, 2);
    test_chcat();
    printf("%s\n", fails ? "FAILED" : "all ok");
    return fails != 0;
}
