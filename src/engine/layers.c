/* layers.c — forward/backward of every layer (see include/layers.h). NCHW, flat arrays;
 * backward functions accumulate. Reductions are summed in double, in a fixed order, so
 * results are bit-reproducible and close to a float64 reference. */
/* on_exit (glibc) */
#define _DEFAULT_SOURCE
#include "engine/layers.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/net.h"

/* ---- threads ----------------------------------------------------------------------- */

int lay_threads = 1;

/* OpenBLAS's constructor starts a pool of worker threads that the engine never uses
 * (lay_set_threads pins it to one), each of which maps a ~128 MB buffer as it starts and,
 * under an address-space limit that leaves no room, retries forever; exit() then waits for
 * it in OpenBLAS's destructor: a hang after the tool's own output and error message. So
 * under such a limit (ulimit -v) exit skips the library destructors: the handler below,
 * registered after OpenBLAS's constructor ran and so run before them, flushes stdio and
 * ends the process with the same status. Without a limit nothing changes. */
static void exit_now(int status, void *arg) {
    (void)arg;
    fflush(NULL);
    _exit(status);
}

__attribute__((constructor)) static void exit_guard(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY) on_exit(exit_now, NULL);
}

void lay_set_threads(int threads) {
    lay_threads = threads < 1 ? 1 : threads > LAY_MAX_THREADS ? LAY_MAX_THREADS : threads;
    openblas_set_num_threads(1);
}

/* OpenBLAS's per-thread buffer (BUFFER_SIZE of its x86-64 builds, plus a page), and room
 * for what a tool allocates after the check. */
#define BLAS_BUFFER_BYTES (((size_t)128 << 20) + 4096)
#define BLAS_MARGIN_BYTES ((size_t)64 << 20)

int lay_blas_room(char *err, size_t n_err) {
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 0;
    size_t need = (size_t)lay_threads * BLAS_BUFFER_BYTES + BLAS_MARGIN_BYTES;
    void *p = malloc(need); /* address space only: large blocks are mapped, never touched */
    if (p) {
        free(p);
        return 0;
    }
    snprintf(err, n_err,
             "the address-space limit (ulimit -v %llu KB) leaves less than the ~%zu MB that "
             "OpenBLAS's buffers need with %d thread(s); raise it (OpenBLAS would hang, not fail)",
             (unsigned long long)(r.rlim_cur / 1024), need >> 20, lay_threads);
    return -1;
}

/* Start of part t of T over [0, n) in whole units of align. */
static size_t part_lo(size_t n, int T, int t, size_t align) {
    size_t units = (n + align - 1) / align, lo = units * (size_t)t / (size_t)T * align;
    return lo < n ? lo : n;
}

void lay_par(int T, size_t n, size_t align, lay_part_fn f, void *arg) {
    size_t units = align ? (n + align - 1) / align : n;
    if (!align) align = 1;
    if (T > lay_threads) T = lay_threads;
    if ((size_t)T > units) T = (int)units;
    if (T <= 1) {
        f(arg, 0, 0, n);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static, 1)
#endif
    for (int t = 0; t < T; t++) {
        size_t lo = part_lo(n, T, t, align), hi = part_lo(n, T, t + 1, align);
        if (lo < hi) f(arg, t, lo, hi);
    }
}

static int in_parallel(void) {
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

static void gemm1(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}

typedef struct {
    int ta, tb, M, N, K, lda, ldb, ldc, by_rows;
    const float *A, *B;
    float beta, *C;
} gemm_job;

/* Rows [lo,hi) of C (by_rows) or its columns [lo,hi), each block one call over all of K. */
static void gemm_part(void *arg, int t, size_t lo, size_t hi) {
    const gemm_job *g = arg;
    int a = (int)lo, n = (int)(hi - lo);
    (void)t;
    if (g->by_rows)
        gemm1(g->ta, g->tb, n, g->N, g->K, g->ta ? g->A + a : g->A + (size_t)a * g->lda, g->lda,
              g->B, g->ldb, g->beta, g->C + (size_t)a * g->ldc, g->ldc);
    else
        gemm1(g->ta, g->tb, g->M, n, g->K, g->A, g->lda, g->tb ? g->B + (size_t)a * g->ldb : g->B + a,
              g->ldb, g->beta, g->C + a, g->ldc);
}

void lay_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc) {
    /* OpenBLAS is pinned to one thread (lay_set_threads); a GEMM called outside the
     * engine's parallel loops (the recommender layers, linear heads) is split here */
    if (lay_threads > 1 && (double)M * N * K >= (double)(1 << 20) && !in_parallel()) {
        gemm_job g = {ta, tb, M, N, K, lda, ldb, ldc, M >= N, A, B, beta, C};
        lay_par(lay_threads, (size_t)(g.by_rows ? M : N), 16, gemm_part, &g);
        return;
    }
    gemm1(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

/* ---- convolution: im2col over a chunk of nb images + one GEMM per chunk ---------------- */

/* A stride-1 conv whose output has the input's size (odd K, pad K/2). Its input gradient
 * is itself such a conv of dy with the flipped, transposed kernel, which avoids col2im. */
static int conv_same(int H, int W, int K, int stride, int pad) {
    return stride == 1 && conv2d_out(H, K, 1, pad) == H && conv2d_out(W, K, 1, pad) == W &&
           K == 2 * pad + 1;
}

size_t conv2d_ws_floats(int nb, int C, int H, int W, int OC, int K, int stride, int pad) {
    if (K == 1 && stride == 1 && pad == 0) return 0; /* the input is its own im2col */
    size_t ohw = (size_t)conv2d_out(H, K, stride, pad) * conv2d_out(W, K, stride, pad);
    if (conv_same(H, W, K, stride, pad)) { /* im2col of x or dy; flipped kernel and its grad */
        size_t n = (size_t)nb * ohw * (C > OC ? C : OC) * K * K + 2 * (size_t)OC * C * K * K;
        if (K == 3) { /* any path, so lay_winograd / lay_direct may change between calls */
            size_t n_d = convd_ws_floats(C, H, W, OC), n_w = convw_ws_floats(C, H, W, OC);
            if (n_d > n) n = n_d;
            if (n_w > n) n = n_w;
        }
        return n;
    }
    size_t n = (size_t)nb * ohw * C * K * K;
    if (K == 3 && stride == 2 && pad == 1) {
        size_t n_s = convs_ws_floats(C, H, W, OC);
        if (n_s > n) n = n_s;
    }
    return n;
}

/* Valid output range [lo, hi) along one axis for kernel offset k: in = o*S - P + k
 * must lie in [0, n). */
static void valid_range(int n, int on, int k, int S, int P, int *lo, int *hi) {
    int a = P - k; /* o*S >= a */
    int l = a <= 0 ? 0 : (a + S - 1) / S;
    int b = n - 1 + P - k; /* o*S <= b */
    int h = b < 0 ? 0 : b / S + 1;
    if (h > on) h = on;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Zero columns [0,lo) and [hi,w) of an (n,w) block, column by column (a handful of
 * strided stores; row by row the compiler emits one tiny memset call per row). */
static void zero_cols(float *a, int n, int w, int lo, int hi) {
    for (int c = 0; c < lo; c++)
        for (int r = 0; r < n; r++) a[(size_t)r * w + c] = 0.0f;
    for (int c = hi; c < w; c++)
        for (int r = 0; r < n; r++) a[(size_t)r * w + c] = 0.0f;
}

/* col (C*K*K, nb*OH*OW): row (c,ky,kx), column (i,oh,ow) = x[i,c,oh*S-P+ky,ow*S-P+kx] or 0.
 * x is (nb,C,H,W). */
static void im2col(float *col, const float *x, int nb, int C, int H, int W, int K, int S,
                   int P, int OH, int OW) {
    size_t ohw = (size_t)OH * OW, ld = (size_t)nb * ohw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            int ylo, yhi;
            valid_range(H, OH, ky, S, P, &ylo, &yhi);
            for (int kx = 0; kx < K; kx++) {
                int xlo, xhi;
                valid_range(W, OW, kx, S, P, &xlo, &xhi);
                float *row = col + ((size_t)(c * K + ky) * K + kx) * ld;
                for (int i = 0; i < nb; i++) {
                    const float *xp = x + ((size_t)i * C + c) * H * W;
                    float *d = row + i * ohw;
                    if (S == 1 && OW == W) {
                        /* "same" conv: the valid rows are one shifted block of the plane;
                         * copy it whole, then zero the columns that wrapped around */
                        int sh = kx - P, n_rows = yhi - ylo;
                        memset(d, 0, sizeof(float) * ylo * OW);
                        float *db = d + (size_t)ylo * OW;
                        const float *sb = xp + (size_t)(ylo - P + ky) * W + sh;
                        if (n_rows > 0) {
                            /* sb[0 .. n_rows*W) may start before / end after the plane by
                             * |sh| floats: those land only in columns zeroed below */
                            int lo = sh < 0 ? -sh : 0, hi = n_rows * W - (sh > 0 ? sh : 0);
                            memcpy(db + lo, sb + lo, sizeof(float) * (hi - lo));
                            zero_cols(db, n_rows, OW, xlo, xhi);
                        }
                        memset(d + (size_t)yhi * OW, 0, sizeof(float) * (OH - yhi) * OW);
                        continue;
                    }
                    for (int oh = 0; oh < OH; oh++, d += OW) {
                        if (oh < ylo || oh >= yhi || xlo >= xhi) {
                            memset(d, 0, sizeof(float) * OW);
                            continue;
                        }
                        const float *s = xp + (size_t)(oh * S - P + ky) * W;
                        for (int ow = 0; ow < xlo; ow++) d[ow] = 0;
                        if (S == 1)
                            memcpy(d + xlo, s + xlo - P + kx, sizeof(float) * (xhi - xlo));
                        else
                            for (int ow = xlo; ow < xhi; ow++) d[ow] = s[ow * S - P + kx];
                        for (int ow = xhi; ow < OW; ow++) d[ow] = 0;
                    }
                }
            }
        }
}

static inline void vadd(float *restrict d, const float *restrict s, int n) {
    for (int i = 0; i < n; i++) d[i] += s[i];
}

/* col2im_add for the NB201 reduction's 3x3 stride-2 pad-1 conv: the three kx of a row
 * in one pass (x column 2j takes kx=1 of output column j; 2j+1 takes kx=0 of j+1, then
 * kx=2 of j), so dx is walked once per (c, ky) instead of three times in strided steps.
 * Each dx element receives its terms in the order of the general loop (ky, then kx), so
 * the sums are bit-identical. */
static void col2im_add_k3s2(float *dx, const float *col, int nb, int C, int H, int W, int OH,
                            int OW) {
    size_t ohw = (size_t)OH * OW, ld = (size_t)nb * ohw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < 3; ky++) {
            int ylo, yhi;
            valid_range(H, OH, ky, 2, 1, &ylo, &yhi);
            const float *r0 = col + (size_t)(c * 3 + ky) * 3 * ld, *r1 = r0 + ld, *r2 = r1 + ld;
            for (int i = 0; i < nb; i++)
                for (int oh = ylo; oh < yhi; oh++) {
                    float *d = dx + (((size_t)i * C + c) * H + oh * 2 - 1 + ky) * W;
                    size_t o = (size_t)i * ohw + (size_t)oh * OW;
                    for (int j = 0; 2 * j < W && j < OW; j++) {
                        d[2 * j] += r1[o + j];
                        if (2 * j + 1 < W) {
                            float t = d[2 * j + 1];
                            if (j + 1 < OW) t += r0[o + j + 1];
                            d[2 * j + 1] = t + r2[o + j];
                        }
                    }
                }
        }
}

/* dx (nb,C,H,W) += col2im(col), the adjoint of im2col. col is scratch (it may be
 * modified). */
static void col2im_add(float *dx, float *col, int nb, int C, int H, int W, int K, int S,
                       int P, int OH, int OW) {
    if (K == 3 && S == 2 && P == 1) {
        col2im_add_k3s2(dx, col, nb, C, H, W, OH, OW);
        return;
    }
    size_t ohw = (size_t)OH * OW, ld = (size_t)nb * ohw;
    for (int c = 0; c < C; c++)
        for (int ky = 0; ky < K; ky++) {
            int ylo, yhi;
            valid_range(H, OH, ky, S, P, &ylo, &yhi);
            for (int kx = 0; kx < K; kx++) {
                int xlo, xhi;
                valid_range(W, OW, kx, S, P, &xlo, &xhi);
                float *row = col + ((size_t)(c * K + ky) * K + kx) * ld;
                for (int i = 0; i < nb; i++) {
                    float *xp = dx + ((size_t)i * C + c) * H * W;
                    float *s = row + i * ohw;
                    if (S == 1 && OW == W && yhi > ylo) {
                        /* "same" conv: zero the columns that fall outside the plane, then
                         * add the valid rows as one shifted block (as in im2col) */
                        int sh = kx - P, n_rows = yhi - ylo;
                        float *sb = s + (size_t)ylo * OW;
                        zero_cols(sb, n_rows, OW, xlo, xhi);
                        int lo = sh < 0 ? -sh : 0, hi = n_rows * W - (sh > 0 ? sh : 0);
                        vadd(xp + (size_t)(ylo - P + ky) * W + sh + lo, sb + lo, hi - lo);
                        continue;
                    }
                    for (int oh = ylo; oh < yhi; oh++) {
                        float *d = xp + (size_t)(oh * S - P + ky) * W;
                        const float *r = s + (size_t)oh * OW;
                        if (S == 1)
                            vadd(d + xlo - P + kx, r + xlo, xhi - xlo);
                        else
                            for (int ow = xlo; ow < xhi; ow++) d[ow * S - P + kx] += r[ow];
                    }
                }
            }
        }
}

/* Images per im2col chunk: as many as the workspace holds (at least one). The GEMMs run
 * per image on a column block of the chunk (leading dimension n*OHW), so y and dy stay
 * NCHW with no scatter or gather; chunking only amortizes the im2col loop overhead. */
static int conv_chunk(size_t n_ws, int B, size_t per) {
    size_t nb = per ? n_ws / per : (size_t)B;
    if (nb < 1) nb = 1;
    if (nb > (size_t)B) nb = B;
    return (int)nb;
}

/* A 3x3 stride-1 pad-1 conv the fused Winograd path (conv_cl.c) takes. */
static int wino_use(size_t n_ws, int C, int H, int W, int OC, int K, int stride, int pad) {
    return K == 3 && stride == 1 && pad == 1 && convw_use(C, OC) &&
           n_ws >= convw_ws_floats(C, H, W, OC);
}

/* A 3x3 stride-2 pad-1 conv the channel-last direct path (conv_cl.c) takes. */
static int s2_use(size_t n_ws, int C, int H, int W, int OC, int K, int stride, int pad) {
    return K == 3 && stride == 2 && pad == 1 && convs_use(C, OC) &&
           n_ws >= convs_ws_floats(C, H, W, OC);
}

/* A 3x3 stride-1 pad-1 conv the direct path (conv_direct.c) takes, given the workspace. */
static int direct_use(size_t n_ws, int C, int H, int W, int OC, int K, int stride, int pad,
                      int need_dx) {
    return K == 3 && stride == 1 && pad == 1 && convd_use(C, W, OC, need_dx) &&
           n_ws >= convd_ws_floats(C, H, W, OC);
}

static void conv_fwd1(float *y, const float *x, const float *w, float *ws, size_t n_ws,
                      int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    // x is (B,C,H,W), w is (OC,C,K,K), y is (B,OC,OH,OW)
    int OH = conv2d_out(H, K, stride, pad), OW = conv2d_out(W, K, stride, pad);
    int ohw = OH * OW, ckk = C * K * K;
    if (wino_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convw_forward(y, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (s2_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convs_forward(y, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (direct_use(n_ws, C, H, W, OC, K, stride, pad, 0)) {
        convd_forward(y, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (K == 1 && stride == 1 && pad == 0) {
        for (int b = 0; b < B; b++)
            /* y[b] (OC,HW) = w (OC,C) * x[b] (C,HW) */
            lay_gemm(0, 0, OC, ohw, C, w, C, x + (size_t)b * C * ohw, ohw, 0.0f,
                     y + (size_t)b * OC * ohw, ohw);
        return;
    }
    int nb = conv_chunk(n_ws, B, (size_t)ohw * ckk);
    for (int b0 = 0; b0 < B; b0 += nb) {
        int n = B - b0 < nb ? B - b0 : nb, ld = n * ohw;
        im2col(ws, x + (size_t)b0 * C * H * W, n, C, H, W, K, stride, pad, OH, OW);
        for (int i = 0; i < n; i++)
            /* y[b] (OC,OHW) = w (OC,CKK) * col[:, i*OHW : (i+1)*OHW] (CKK,OHW) */
            lay_gemm(0, 0, OC, ohw, ckk, w, ckk, ws + (size_t)i * ohw, ld, 0.0f,
                     y + (size_t)(b0 + i) * OC * ohw, ohw);
    }
}

/* conv2d_backward for conv_same shapes, from one im2col of dy per image (cd, rows
 * (o,ky,kx), padding K-1-pad = pad):
 *   dx[b] (C,HW) += wt (C,OC*K*K) * cd, with wt[c][o][k] = w[o][c][K*K-1-k]: the input
 *     gradient is a conv of dy with the flipped, transposed kernel (a full-size GEMM
 *     writing dx directly, instead of a rank-OC GEMM and a col2im scatter-add);
 *   dwt (OC*K*K,C) += cd * x[b]^T, and dw[o][c][k] += dwt[o][K*K-1-k][c] at the end
 *     (so x needs no second im2col). */
static void conv2d_backward_same(float *dx, float *dw, const float *dy, const float *x,
                                 const float *w, float *ws, size_t n_ws, int B, int C, int H,
                                 int W, int OC, int K, int pad) {
    int hw = H * W, kk = K * K, ckk = C * kk, okk = OC * kk;
    size_t nwk = (size_t)OC * ckk;
    float *wt = ws, *dwt = ws + nwk, *col = ws + 2 * nwk;
    if (dx)
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < kk; k++)
                    wt[((size_t)c * OC + o) * kk + k] = w[((size_t)o * C + c) * kk + kk - 1 - k];
    if (dw) memset(dwt, 0, sizeof(float) * nwk);
    int nb = conv_chunk(n_ws - 2 * nwk, B, (size_t)hw * okk);
    for (int b0 = 0; b0 < B; b0 += nb) {
        int n = B - b0 < nb ? B - b0 : nb, ld = n * hw;
        im2col(col, dy + (size_t)b0 * OC * hw, n, OC, H, W, K, 1, K - 1 - pad, H, W);
        for (int i = 0; i < n; i++) {
            const float *cd = col + (size_t)i * hw;
            /* dx[b] (C,HW) += wt (C,OCKK) * cd (OCKK,HW) */
            if (dx)
                lay_gemm(0, 0, C, hw, okk, wt, okk, cd, ld, 1.0f, dx + (size_t)(b0 + i) * C * hw,
                         hw);
            /* dwt (OCKK,C) += cd (OCKK,HW) * x[b]^T (HW,C) */
            if (dw)
                lay_gemm(0, 1, okk, C, hw, cd, ld, x + (size_t)(b0 + i) * C * hw, hw, 1.0f, dwt,
                         C);
        }
    }
    if (dw)
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < kk; k++)
                    dw[((size_t)o * C + c) * kk + k] += dwt[((size_t)o * kk + kk - 1 - k) * C + c];
}

static void conv_bwd1(float *dx, float *dw, const float *dy, const float *x, const float *w,
                      float *ws, size_t n_ws, int B, int C, int H, int W, int OC, int K,
                      int stride, int pad) {
    // dy is (B,OC,OH,OW), x and dx are (B,C,H,W), w and dw are (OC,C,K,K)
    int OH = conv2d_out(H, K, stride, pad), OW = conv2d_out(W, K, stride, pad);
    int ohw = OH * OW, ckk = C * K * K;
    if (K == 1 && stride == 1 && pad == 0) {
        for (int b = 0; b < B; b++) {
            const float *xb = x + (size_t)b * C * ohw, *g = dy + (size_t)b * OC * ohw;
            /* dw (OC,C) += dy[b] (OC,HW) * x[b]^T (HW,C) */
            if (dw) lay_gemm(0, 1, OC, C, ohw, g, ohw, xb, ohw, 1.0f, dw, C);
            /* dx[b] (C,HW) += w^T (C,OC) * dy[b] (OC,HW) */
            if (dx) lay_gemm(1, 0, C, ohw, OC, w, C, g, ohw, 1.0f, dx + (size_t)b * C * ohw, ohw);
        }
        return;
    }
    if (wino_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convw_backward(dx, dw, dy, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (s2_use(n_ws, C, H, W, OC, K, stride, pad)) {
        convs_backward(dx, dw, dy, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (direct_use(n_ws, C, H, W, OC, K, stride, pad, dx != NULL)) {
        convd_backward(dx, dw, dy, x, w, ws, B, C, H, W, OC);
        return;
    }
    if (conv_same(H, W, K, stride, pad)) {
        conv2d_backward_same(dx, dw, dy, x, w, ws, n_ws, B, C, H, W, OC, K, pad);
        return;
    }
    int nb = conv_chunk(n_ws, B, (size_t)ohw * ckk);
    for (int b0 = 0; b0 < B; b0 += nb) {
        int n = B - b0 < nb ? B - b0 : nb, ld = n * ohw;
        if (dw) {
            im2col(ws, x + (size_t)b0 * C * H * W, n, C, H, W, K, stride, pad, OH, OW);
            for (int i = 0; i < n; i++)
                /* dw (OC,CKK) += dy[b] (OC,OHW) * col_i^T (OHW,CKK) */
                lay_gemm(0, 1, OC, ckk, ohw, dy + (size_t)(b0 + i) * OC * ohw, ohw,
                         ws + (size_t)i * ohw, ld, 1.0f, dw, ckk);
        }
        if (dx) {
            for (int i = 0; i < n; i++)
                /* col_i (CKK,OHW) = w^T (CKK,OC) * dy[b] (OC,OHW), then scattered into dx */
                lay_gemm(1, 0, ckk, ohw, OC, w, ckk, dy + (size_t)(b0 + i) * OC * ohw, ohw,
                         0.0f, ws + (size_t)i * ohw, ld);
            col2im_add(dx + (size_t)b0 * C * H * W, ws, n, C, H, W, K, stride, pad, OH, OW);
        }
    }
}

/* Threaded convs: images split into parts, each with its own slice of the workspace
 * (n_ws / T floats: a private weight gradient, then the conv's scratch). Part 0 adds its
 * weight gradient into dw directly, the others into their slices, which are then added to
 * dw in part order. One part is the serial code with the whole workspace. */
typedef struct {
    float *y, *dx, *dw, *ws;
    const float *x, *w, *dy;
    size_t per, nw;
    int C, H, W, OC, K, S, P;
} conv_job;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

/* Floats of one part's slice: its weight gradient, then a scratch of ws floats, each
 * rounded up to 16 floats, and 16 for the rounding of n_ws / T. */
static size_t slice_floats(size_t ws, int C, int OC, int K) {
    return round16((size_t)OC * C * K * K) + round16(ws) + 16;
}

size_t conv2d_ws_threads(size_t ws, int C, int OC, int K) {
    return lay_threads > 1 ? slice_floats(ws, C, OC, K) * lay_threads : ws;
}

/* The path switches read from the environment on first use, settled before any part
 * (thread) reads them. */
static void conv_settle(void) {
    if (lay_direct < 0) (void)convd_use(8, 32, 8, 0);
    if (lay_winograd < 0) (void)convw_use(8, 8);
}

static int conv_parts(size_t n_ws, int B, int C, int H, int W, int OC, int K, int S, int P) {
    conv_settle();
    size_t need = slice_floats(conv2d_ws_floats(1, C, H, W, OC, K, S, P), C, OC, K);
    int T = lay_threads < B ? lay_threads : B;
    while (T > 1 && n_ws / (size_t)T < need) T--;
    return T;
}

static void conv_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const conv_job *j = arg;
    int OH = conv2d_out(j->H, j->K, j->S, j->P), OW = conv2d_out(j->W, j->K, j->S, j->P);
    float *ws = j->ws + (size_t)t * j->per + j->nw;
    conv_fwd1(j->y + lo * j->OC * OH * OW, j->x + lo * j->C * j->H * j->W, j->w, ws,
              j->per - j->nw, (int)(hi - lo), j->C, j->H, j->W, j->OC, j->K, j->S, j->P);
}

static void conv_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const conv_job *j = arg;
    int OH = conv2d_out(j->H, j->K, j->S, j->P), OW = conv2d_out(j->W, j->K, j->S, j->P);
    float *slice = j->ws + (size_t)t * j->per, *dw = j->dw;
    if (dw && t > 0) {
        dw = slice;
        memset(dw, 0, sizeof(float) * (size_t)j->OC * j->C * j->K * j->K);
    }
    size_t xs = (size_t)j->C * j->H * j->W;
    conv_bwd1(j->dx ? j->dx + lo * xs : NULL, dw, j->dy + lo * j->OC * OH * OW, j->x + lo * xs,
              j->w, slice + j->nw, j->per - j->nw, (int)(hi - lo), j->C, j->H, j->W, j->OC, j->K,
              j->S, j->P);
}

void conv2d_forward(float *y, const float *x, const float *w, float *ws, size_t n_ws,
                    int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    int T = conv_parts(n_ws, B, C, H, W, OC, K, stride, pad);
    if (T <= 1) {
        conv_fwd1(y, x, w, ws, n_ws, B, C, H, W, OC, K, stride, pad);
        return;
    }
    conv_job j = {y, NULL, NULL, ws, x, w, NULL, n_ws / T / 16 * 16,
                  round16((size_t)OC * C * K * K), C, H, W, OC, K, stride, pad};
    lay_par(T, (size_t)B, 1, conv_fwd_part, &j);
}

void conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     float *ws, size_t n_ws, int B, int C, int H, int W, int OC, int K,
                     int stride, int pad) {
    int T = conv_parts(n_ws, B, C, H, W, OC, K, stride, pad);
    if (T <= 1) {
        conv_bwd1(dx, dw, dy, x, w, ws, n_ws, B, C, H, W, OC, K, stride, pad);
        return;
    }
    size_t nw = (size_t)OC * C * K * K;
    conv_job j = {NULL, dx, dw, ws, x, w, dy, n_ws / T / 16 * 16, round16(nw),
                  C, H, W, OC, K, stride, pad};
    lay_par(T, (size_t)B, 1, conv_bwd_part, &j);
    if (dw)
        for (int t = 1; t < T; t++) {
            const float *p = ws + (size_t)t * j.per;
            for (size_t i = 0; i < nw; i++) dw[i] += p[i];
        }
}

/* ---- batch norm ------------------------------------------------------------------------ */

/* Per-plane sums in LANES float partial sums, combined in double: a fixed order (so
 * bit-reproducible) that the compiler can vectorize, unlike one double accumulator. */
#define LANES 16

/* Two 8-float vectors hold the LANES partial sums (lane j sums elements i+j): written
 * with GCC/Clang vector types because the plain 16-lane loop got vectorized across i
 * with shuffles and spills (perf). Same summation order as the scalar lanes, whatever
 * the instruction set: without AVX each 8-float vector is two SSE registers, with AVX2
 * (the HOT clones below) one. */
typedef float v8f __attribute__((vector_size(32)));
#define LD8(v, p) memcpy(&(v), (p), sizeof(v8f))

/* Lanes to double in a fixed order. */
static inline double lanes_sum(const v8f *v) {
    float f[LANES];
    memcpy(f, v, sizeof f);
    double d = 0.0;
    for (int j = 0; j < LANES; j++) d += f[j];
    return d;
}

/* sum of (x - m) and of (x - m)^2 */
HOT static void plane_sums(const float *restrict x, int n, float m, double *s1,
                              double *s2) {
    v8f a[2] = {{0}}, q[2] = {{0}}, mm = {m, m, m, m, m, m, m, m};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < 2; k++) {
            v8f v;
            LD8(v, x + i + 8 * k);
            v -= mm;
            a[k] += v;
            q[k] += v * v;
        }
    double da = lanes_sum(a), dq = lanes_sum(q);
    for (; i < n; i++) {
        double v = (double)x[i] - m;
        da += v;
        dq += v * v;
    }
    *s1 += da;
    *s2 += dq;
}

/* sum of g and of g * (x - m) */
HOT static void plane_dsums(const float *restrict g, const float *restrict x, int n,
                               float m, double *sg, double *sgx) {
    v8f a[2] = {{0}}, q[2] = {{0}}, mm = {m, m, m, m, m, m, m, m};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < 2; k++) {
            v8f gv, xv;
            LD8(gv, g + i + 8 * k);
            LD8(xv, x + i + 8 * k);
            a[k] += gv;
            q[k] += gv * (xv - mm);
        }
    double da = lanes_sum(a), dq = lanes_sum(q);
    for (; i < n; i++) {
        da += g[i];
        dq += (double)g[i] * ((double)x[i] - m);
    }
    *sg += da;
    *sgx += dq;
}

/* Channels are independent: the threaded BN splits them, with the same bits. */
typedef struct {
    float *y, *aux, *rmean, *rvar, *dx, *dgamma, *dbeta;
    const float *x, *gamma, *beta, *dy;
    int mode, B, C, HW, set;
    float momentum, eps;
} bn_job;

HOT static void bn_fwd_part(void *arg, int t, size_t c0, size_t c1) {
    const bn_job *j = arg;
    float *y = j->y, *aux = j->aux, *rmean = j->rmean, *rvar = j->rvar;
    const float *x = j->x, *gamma = j->gamma, *beta = j->beta;
    int mode = j->mode, B = j->B, C = j->C, HW = j->HW;
    float momentum = j->momentum, eps = j->eps;
    size_t N = (size_t)B * HW;
    (void)t;
    for (int c = (int)c0; c < (int)c1; c++) {
        if (mode == BN_OFF) {
            for (int b = 0; b < B; b++)
                memcpy(y + ((size_t)b * C + c) * HW, x + ((size_t)b * C + c) * HW,
                       sizeof(float) * HW);
            aux[c] = 0.0f;
            aux[C + c] = 1.0f;
            continue;
        }
        double mean, var;
        if (mode == BN_EVAL) {
            mean = rmean[c];
            var = rvar[c];
        } else {
            /* one pass over x shifted by one of its values (a typical sample of the
             * channel), so var = E[(x-k)^2] - E[x-k]^2 does not cancel badly */
            float k = x[(size_t)c * HW];
            double d = 0.0, v = 0.0;
            for (int b = 0; b < B; b++) plane_sums(x + ((size_t)b * C + c) * HW, HW, k, &d, &v);
            d /= (double)N;
            var = v / (double)N - d * d;
            mean = (double)k + d;
            if (mode == BN_TRAIN) {
                double unb = N > 1 ? var * (double)N / (double)(N - 1) : var;
                rmean[c] = (float)((1.0 - momentum) * rmean[c] + momentum * mean);
                rvar[c] = (float)((1.0 - momentum) * rvar[c] + momentum * unb);
            }
        }
        if (var < 0.0) var = 0.0;
        float m = (float)mean, inv = (float)(1.0 / sqrt(var + eps));
        aux[c] = m;
        aux[C + c] = inv;
        float sc = gamma ? gamma[c] * inv : inv, sh = beta ? beta[c] : 0.0f;
        for (int b = 0; b < B; b++) {
            const float *xp = x + ((size_t)b * C + c) * HW;
            float *yp = y + ((size_t)b * C + c) * HW;
            for (int i = 0; i < HW; i++) yp[i] = (xp[i] - m) * sc + sh;
        }
    }
}

void batchnorm_forward(float *y, float *aux, const float *x, const float *gamma,
                       const float *beta, float *rmean, float *rvar, int mode,
                       float momentum, float eps, int B, int C, int HW) {
    // x and y are (B,C,HW); gamma, beta, rmean, rvar are (C); aux is (2,C): mean, inv-std
    bn_job j = {.y = y, .aux = aux, .rmean = rmean, .rvar = rvar, .x = x, .gamma = gamma,
                .beta = beta, .mode = mode, .B = B, .C = C, .HW = HW, .momentum = momentum,
                .eps = eps};
    lay_par(lay_threads, (size_t)C, 1, bn_fwd_part, &j);
}

/* dx += (set 0) or = (set 1) the input gradient; see batchnorm_backward(_set). Setting
 * saves reading dx back from memory, the stall of this loop when dx was zeroed long
 * before (measured with perf). */
HOT static void bn_bwd_part(void *arg, int t, size_t c0, size_t c1) {
    const bn_job *j = arg;
    float *dx = j->dx, *dgamma = j->dgamma, *dbeta = j->dbeta;
    const float *dy = j->dy, *x = j->x, *gamma = j->gamma, *aux = j->aux;
    int mode = j->mode, B = j->B, C = j->C, HW = j->HW, set = j->set;
    size_t N = (size_t)B * HW;
    (void)t;
    for (int c = (int)c0; c < (int)c1; c++) {
        if (mode == BN_OFF) {
            if (dx)
                for (int b = 0; b < B; b++) {
                    float *d = dx + ((size_t)b * C + c) * HW;
                    const float *g = dy + ((size_t)b * C + c) * HW;
                    if (set) memcpy(d, g, sizeof(float) * HW);
                    else
                        for (int i = 0; i < HW; i++) d[i] += g[i];
                }
            continue;
        }
        float m = aux[c], inv = aux[C + c];
        double sdy = 0.0, sdyx = 0.0; /* sum dy, sum dy * xhat */
        for (int b = 0; b < B; b++)
            plane_dsums(dy + ((size_t)b * C + c) * HW, x + ((size_t)b * C + c) * HW, HW, m,
                        &sdy, &sdyx);
        sdyx *= inv;
        if (dgamma) dgamma[c] += (float)sdyx;
        if (dbeta) dbeta[c] += (float)sdy;
        if (!dx) continue;
        float k = gamma ? gamma[c] * inv : inv;
        if (mode == BN_EVAL) {
            /* running statistics are constants: dx = gamma * inv * dy */
            for (int b = 0; b < B; b++) {
                float *d = dx + ((size_t)b * C + c) * HW;
                const float *g = dy + ((size_t)b * C + c) * HW;
                if (set)
                    for (int i = 0; i < HW; i++) d[i] = k * g[i];
                else
                    for (int i = 0; i < HW; i++) d[i] += k * g[i];
            }
            continue;
        }
        /* dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)) */
        float mdy = (float)(sdy / (double)N), mdyx = (float)(sdyx / (double)N);
        for (int b = 0; b < B; b++) {
            float *d = dx + ((size_t)b * C + c) * HW;
            const float *xp = x + ((size_t)b * C + c) * HW;
            const float *g = dy + ((size_t)b * C + c) * HW;
            if (set)
                for (int i = 0; i < HW; i++) d[i] = k * (g[i] - mdy - (xp[i] - m) * inv * mdyx);
            else
                for (int i = 0; i < HW; i++) d[i] += k * (g[i] - mdy - (xp[i] - m) * inv * mdyx);
        }
    }
}

static void bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *x, const float *gamma, const float *aux, int mode,
                        int B, int C, int HW, int set) {
    // dy, x and dx are (B,C,HW); dgamma, dbeta (C); aux (2,C) from the forward pass
    bn_job j = {.aux = (float *)aux, .dx = dx, .dgamma = dgamma, .dbeta = dbeta, .x = x,
                .gamma = gamma, .dy = dy, .mode = mode, .B = B, .C = C, .HW = HW, .set = set};
    lay_par(lay_threads, (size_t)C, 1, bn_bwd_part, &j);
}

void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *x, const float *gamma, const float *aux, int mode,
                        int B, int C, int HW) {
    bn_backward(dx, dgamma, dbeta, dy, x, gamma, aux, mode, B, C, HW, 0);
}

void batchnorm_backward_set(float *dx, float *dgamma, float *dbeta, const float *dy,
                            const float *x, const float *gamma, const float *aux, int mode,
                            int B, int C, int HW) {
    bn_backward(dx, dgamma, dbeta, dy, x, gamma, aux, mode, B, C, HW, 1);
}

/* ---- elementwise and pooling ----------------------------------------------------------- */

/* Branch-free loops (a mispredicted branch per element costs more than the memory). */
typedef struct {
    float *d;
    const float *a, *b;
} ew_job;

/* Elementwise parts: multiples of 64 floats, so two threads never share a cache line. */
#define EW_ALIGN 64

HOT static void relu_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const ew_job *j = arg;
    float *restrict y = j->d;
    const float *restrict x = j->a;
    (void)t;
    for (size_t i = lo; i < hi; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

HOT static void relu_bwd_part(void *arg, int t, size_t lo, size_t hi) {
    const ew_job *j = arg;
    float *restrict dx = j->d;
    const float *restrict dy = j->a, *restrict x = j->b;
    (void)t;
    for (size_t i = lo; i < hi; i++) {
        float g = dy[i]; /* loaded unconditionally so the loop vectorizes */
        dx[i] += x[i] > 0.0f ? g : 0.0f;
    }
}

void relu_forward(float *y, const float *x, size_t n) {
    ew_job j = {y, x, NULL};
    lay_par(lay_threads, n, EW_ALIGN, relu_fwd_part, &j);
}

void relu_backward(float *dx, const float *dy, const float *x, size_t n) {
    ew_job j = {dx, dy, x};
    lay_par(lay_threads, n, EW_ALIGN, relu_bwd_part, &j);
}

HOT static void add_fwd_part(void *arg, int t, size_t lo, size_t hi) {
    const ew_job *j = arg;
    float *restrict y = j->d;
    const float *a = j->a, *b = j->b;
    (void)t;
    for (size_t k = lo; k < hi; k++) y[k] = a[k] + b[k];
}

HOT static void add_into_part(void *arg, int t, size_t lo, size_t hi) {
    const ew_job *j = arg;
    float *restrict y = j->d;
    const float *restrict a = j->a;
    (void)t;
    for (size_t k = lo; k < hi; k++) y[k] += a[k];
}

static void zero_part(void *arg, int t, size_t lo, size_t hi) {
    const ew_job *j = arg;
    (void)t;
    memset(j->d + lo, 0, sizeof(float) * (hi - lo));
}

void add_forward(float *y, const float *a, const float *b, size_t n) {
    ew_job j = {y, a, b};
    lay_par(lay_threads, n, EW_ALIGN, add_fwd_part, &j);
}

void add_into(float *y, const float *a, size_t n) {
    ew_job j = {y, a, NULL};
    lay_par(lay_threads, n, EW_ALIGN, add_into_part, &j);
}

void zero_floats(float *p, size_t n) {
    ew_job j = {p, NULL, NULL};
    lay_par(lay_threads, n, EW_ALIGN, zero_part, &j);
}

/* 1 / (number of in-bounds cells of the 3-window at position i of n). */
static inline float inv_count3(int i, int n) {
    return 1.0f / (float)((i > 0) + 1 + (i < n - 1));
}

/* Horizontal 3-sums h[w] = v[w] + v[w-1] + v[w+1] (out-of-range terms left out), times
 * sc * icw[w]: the interior loop has no branches, so it vectorizes (the per-element
 * conditionals and divisions of a plain loop made pooling ~10% of a scoring run). */
static inline void hsum3_scaled(float *restrict o, const float *restrict v, const float *restrict icw,
                         float sc, int W) {
    if (W == 1) {
        o[0] = v[0] * (sc * icw[0]);
        return;
    }
    o[0] = (v[0] + v[1]) * (sc * icw[0]);
    for (int w = 1; w < W - 1; w++) o[w] = (v[w] + v[w - 1] + v[w + 1]) * (sc * icw[w]);
    o[W - 1] = (v[W - 1] + v[W - 2]) * (sc * icw[W - 1]);
}

/* Planes up to this many cells are pooled as flat arrays (below); larger ones row by row. */
#define POOL_FLAT 4096

/* sc[h*W+w] = 1/count of the window at (h,w), as the row path forms it (row factor times
 * column factor, in float). */
static void pool_scale(float *sc, int H, int W) {
    for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) sc[h * W + w] = inv_count3(h, H) * inv_count3(w, W);
}

/* v (H,W) = vertical 3-sums of x: (x[i] + x[i-W]) + x[i+W], missing rows left out. */
static inline void vsum3_flat(float *restrict v, const float *restrict x, int H, int W) {
    int n = H * W;
    if (H == 1) {
        for (int i = 0; i < n; i++) v[i] = x[i];
        return;
    }
    for (int i = 0; i < W; i++) v[i] = x[i] + x[i + W];
    for (int i = W; i < n - W; i++) v[i] = (x[i] + x[i - W]) + x[i + W];
    for (int i = n - W; i < n; i++) v[i] = x[i] + x[i - W];
}

/* o (H,W) = horizontal 3-sums of v, (v[i] + v[i-1]) + v[i+1], missing columns left out:
 * one flat loop, then the first and last column of each row redone. */
static inline void hsum3_flat(float *restrict o, const float *restrict v, int H, int W) {
    int n = H * W;
    if (W == 1) {
        for (int i = 0; i < n; i++) o[i] = v[i];
        return;
    }
    for (int i = 1; i < n - 1; i++) o[i] = (v[i] + v[i - 1]) + v[i + 1];
    for (int h = 0; h < H; h++) {
        int a = h * W, b = a + W - 1;
        o[a] = v[a] + v[a + 1];
        o[b] = v[b] + v[b - 1];
    }
}

/* The 3x3 window sum is separable: vertical 3-sums of rows, then horizontal 3-sums. Small
 * planes (the NB201 ones) go through flat loops over the whole plane, which vectorize
 * across rows; same operations in the same order as the row path, so the same bits. */
HOT static void avgpool3_forward1(float *y, const float *x, int BC, int H, int W) {
    // x and y are (BC,H,W); each output averages the in-bounds cells of its 3x3 window
    if (H * W <= POOL_FLAT) {
        float v[POOL_FLAT], hs[POOL_FLAT], sc[POOL_FLAT];
        int n = H * W;
        pool_scale(sc, H, W);
        for (int p = 0; p < BC; p++) {
            float *yp = y + (size_t)p * n;
            vsum3_flat(v, x + (size_t)p * n, H, W);
            hsum3_flat(hs, v, H, W);
            for (int i = 0; i < n; i++) yp[i] = hs[i] * sc[i];
        }
        return;
    }
    float vs[W], icw[W];
    for (int w = 0; w < W; w++) icw[w] = inv_count3(w, W);
    for (int p = 0; p < BC; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * H * W;
        for (int h = 0; h < H; h++) {
            const float *r = xp + (size_t)h * W;
            for (int w = 0; w < W; w++) vs[w] = r[w];
            if (h > 0) vadd(vs, r - W, W);
            if (h < H - 1) vadd(vs, r + W, W);
            hsum3_scaled(yp + (size_t)h * W, vs, icw, inv_count3(h, H), W);
        }
    }
}

/* Adjoint: scale dy by 1/count, then the same (symmetric) 3x3 window sum into dx; each dx
 * row receives the rows above, at and below it in that order, as in the row path. */
HOT static void avgpool3_backward1(float *dx, const float *dy, int BC, int H, int W) {
    if (H * W <= POOL_FLAT) {
        float g[POOL_FLAT], hs[POOL_FLAT], sc[POOL_FLAT];
        int n = H * W;
        pool_scale(sc, H, W);
        for (int p = 0; p < BC; p++) {
            const float *gp = dy + (size_t)p * n;
            float *d = dx + (size_t)p * n;
            for (int i = 0; i < n; i++) g[i] = gp[i] * sc[i];
            hsum3_flat(hs, g, H, W);
            if (H == 1) {
                for (int i = 0; i < n; i++) d[i] += hs[i];
                continue;
            }
            for (int i = 0; i < W; i++) d[i] = (d[i] + hs[i]) + hs[i + W];
            for (int i = W; i < n - W; i++) d[i] = ((d[i] + hs[i - W]) + hs[i]) + hs[i + W];
            for (int i = n - W; i < n; i++) d[i] = (d[i] + hs[i - W]) + hs[i];
        }
        return;
    }
    float g[W], hs[W], icw[W], one[W];
    for (int w = 0; w < W; w++) icw[w] = inv_count3(w, W), one[w] = 1.0f;
    for (int p = 0; p < BC; p++) {
        float *dp = dx + (size_t)p * H * W;
        const float *gp = dy + (size_t)p * H * W;
        for (int h = 0; h < H; h++) {
            float ih = inv_count3(h, H);
            const float *r = gp + (size_t)h * W;
            for (int w = 0; w < W; w++) g[w] = r[w] * (ih * icw[w]);
            hsum3_scaled(hs, g, one, 1.0f, W);
            float *d = dp + (size_t)h * W;
            vadd(d, hs, W);
            if (h > 0) vadd(d - W, hs, W);
            if (h < H - 1) vadd(d + W, hs, W);
        }
    }
}

HOT static void avgpool2_forward1(float *y, const float *x, int BC, int H, int W) {
    // x is (BC,H,W), y is (BC,H/2,W/2)
    int OH = H / 2, OW = W / 2;
    for (int p = 0; p < BC; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * OH * OW;
        for (int h = 0; h < OH; h++)
            for (int w = 0; w < OW; w++) {
                const float *s = xp + (size_t)(2 * h) * W + 2 * w;
                yp[h * OW + w] = 0.25f * (s[0] + s[1] + s[W] + s[W + 1]);
            }
    }
}

HOT static void avgpool2_backward1(float *dx, const float *dy, int BC, int H, int W) {
    int OH = H / 2, OW = W / 2;
    for (int p = 0; p < BC; p++) {
        float *dp = dx + (size_t)p * H * W;
        const float *gp = dy + (size_t)p * OH * OW;
        for (int h = 0; h < OH; h++)
            for (int w = 0; w < OW; w++) {
                float g = 0.25f * gp[h * OW + w], *d = dp + (size_t)(2 * h) * W + 2 * w;
                d[0] += g;
                d[1] += g;
                d[W] += g;
                d[W + 1] += g;
            }
    }
}

/* Pooling splits the planes. */
typedef struct {
    float *d;
    const float *s;
    int H, W, in_hw, out_hw;
    void (*f)(float *, const float *, int, int, int);
} pool_job;

static void pool_part(void *arg, int t, size_t lo, size_t hi) {
    const pool_job *j = arg;
    (void)t;
    j->f(j->d + lo * j->out_hw, j->s + lo * j->in_hw, (int)(hi - lo), j->H, j->W);
}

static void pool_run(void (*f)(float *, const float *, int, int, int), float *d, const float *s,
                     int BC, int H, int W, int d_hw, int s_hw) {
    pool_job j = {d, s, H, W, s_hw, d_hw, f};
    lay_par(lay_threads, (size_t)BC, 1, pool_part, &j);
}

void avgpool3_forward(float *y, const float *x, int BC, int H, int W) {
    pool_run(avgpool3_forward1, y, x, BC, H, W, H * W, H * W);
}

void avgpool3_backward(float *dx, const float *dy, int BC, int H, int W) {
    pool_run(avgpool3_backward1, dx, dy, BC, H, W, H * W, H * W);
}

void avgpool2_forward(float *y, const float *x, int BC, int H, int W) {
    pool_run(avgpool2_forward1, y, x, BC, H, W, (H / 2) * (W / 2), H * W);
}

void avgpool2_backward(float *dx, const float *dy, int BC, int H, int W) {
    pool_run(avgpool2_backward1, dx, dy, BC, H, W, H * W, (H / 2) * (W / 2));
}

void gap_forward(float *y, const float *x, int BC, int HW) {
    // x is (BC,HW), y is (BC)
    for (int p = 0; p < BC; p++) {
        const float *xp = x + (size_t)p * HW;
        double s = 0.0;
        for (int i = 0; i < HW; i++) s += xp[i];
        y[p] = (float)(s / HW);
    }
}

void gap_backward(float *dx, const float *dy, int BC, int HW) {
    for (int p = 0; p < BC; p++) {
        float g = dy[p] / (float)HW, *d = dx + (size_t)p * HW;
        for (int i = 0; i < HW; i++) d[i] += g;
    }
}

/* ---- linear and loss ------------------------------------------------------------------- */

void linear_forward(float *y, const float *x, const float *w, const float *b, int B,
                    int IN, int OUT) {
    // x is (B,IN), w is (OUT,IN), b is (OUT), y is (B,OUT)
    for (int i = 0; i < B; i++)
        for (int o = 0; o < OUT; o++) y[(size_t)i * OUT + o] = b ? b[o] : 0.0f;
    /* y (B,OUT) += x (B,IN) * w^T (IN,OUT) */
    lay_gemm(0, 1, B, OUT, IN, x, IN, w, IN, 1.0f, y, OUT);
}

void linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                     const float *w, int B, int IN, int OUT) {
    /* dw (OUT,IN) += dy^T (OUT,B) * x (B,IN) */
    if (dw) lay_gemm(1, 0, OUT, IN, B, dy, OUT, x, IN, 1.0f, dw, IN);
    /* dx (B,IN) += dy (B,OUT) * w (OUT,IN) */
    if (dx) lay_gemm(0, 0, B, IN, OUT, dy, OUT, w, IN, 1.0f, dx, IN);
    if (db)
        for (int o = 0; o < OUT; o++) {
            double s = 0.0;
            for (int i = 0; i < B; i++) s += dy[(size_t)i * OUT + o];
            db[o] += (float)s;
        }
}

float xent_forward(float *probs, const float *logits, const int *labels, int B, int K) {
    // logits and probs are (B,K), labels (B)
    double loss = 0.0;
    for (int i = 0; i < B; i++) {
        const float *l = logits + (size_t)i * K;
        float *p = probs + (size_t)i * K;
        float mx = l[0];
        for (int k = 1; k < K; k++)
            if (l[k] > mx) mx = l[k];
        double s = 0.0;
        for (int k = 0; k < K; k++) s += exp((double)l[k] - mx);
        for (int k = 0; k < K; k++) p[k] = (float)(exp((double)l[k] - mx) / s);
        if (labels[i] < 0 || labels[i] >= K) return NAN;
        loss += log(s) - ((double)l[labels[i]] - mx);
    }
    return (float)(loss / B);
}

void xent_backward(float *dlogits, const float *probs, const int *labels, float dloss,
                   int B, int K) {
    float s = dloss / (float)B;
    for (int i = 0; i < B; i++) {
        const float *p = probs + (size_t)i * K;
        float *d = dlogits + (size_t)i * K;
        for (int k = 0; k < K; k++) d[k] += s * (p[k] - (k == labels[i] ? 1.0f : 0.0f));
    }
}
