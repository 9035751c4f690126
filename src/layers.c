/* layers.c — forward/backward of every layer (see include/layers.h). NCHW, flat arrays;
 * backward functions accumulate. Reductions are summed in double, in a fixed order, so
 * results are bit-reproducible and close to a float64 reference. */
#include "layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "net.h"

void lay_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
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
    if (conv_same(H, W, K, stride, pad)) /* im2col of x or dy; flipped kernel and its grad */
        return (size_t)nb * ohw * (C > OC ? C : OC) * K * K + 2 * (size_t)OC * C * K * K;
    return (size_t)nb * ohw * C * K * K;
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

static void vadd(float *restrict d, const float *restrict s, int n) {
    for (int i = 0; i < n; i++) d[i] += s[i];
}

/* dx (nb,C,H,W) += col2im(col), the adjoint of im2col. col is scratch (it may be
 * modified). */
static void col2im_add(float *dx, float *col, int nb, int C, int H, int W, int K, int S,
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

void conv2d_forward(float *y, const float *x, const float *w, float *ws, size_t n_ws,
                    int B, int C, int H, int W, int OC, int K, int stride, int pad) {
    // x is (B,C,H,W), w is (OC,C,K,K), y is (B,OC,OH,OW)
    int OH = conv2d_out(H, K, stride, pad), OW = conv2d_out(W, K, stride, pad);
    int ohw = OH * OW, ckk = C * K * K;
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

void conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
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

/* ---- batch norm ------------------------------------------------------------------------ */

/* Per-plane sums in LANES float partial sums, combined in double: a fixed order (so
 * bit-reproducible) that the compiler can vectorize, unlike one double accumulator. */
#define LANES 16

/* Four 4-float vectors hold the LANES partial sums (lane j sums elements i+j): written
 * with GCC/Clang vector types because the plain 16-lane loop got vectorized across i
 * with shuffles and spills (perf). Same summation order as the scalar lanes. */
typedef float v4f __attribute__((vector_size(16)));
static inline v4f ld4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Lanes to double in a fixed order. */
static double lanes_sum(const v4f *v) {
    float f[LANES];
    memcpy(f, v, sizeof f);
    double d = 0.0;
    for (int j = 0; j < LANES; j++) d += f[j];
    return d;
}

/* sum of (x - m) and of (x - m)^2 */
static void plane_sums(const float *restrict x, int n, float m, double *s1, double *s2) {
    v4f a[4] = {{0}}, q[4] = {{0}}, mm = {m, m, m, m};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < 4; k++) {
            v4f v = ld4(x + i + 4 * k) - mm;
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
static void plane_dsums(const float *restrict g, const float *restrict x, int n, float m,
                        double *sg, double *sgx) {
    v4f a[4] = {{0}}, q[4] = {{0}}, mm = {m, m, m, m};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < 4; k++) {
            v4f gv = ld4(g + i + 4 * k);
            a[k] += gv;
            q[k] += gv * (ld4(x + i + 4 * k) - mm);
        }
    double da = lanes_sum(a), dq = lanes_sum(q);
    for (; i < n; i++) {
        da += g[i];
        dq += (double)g[i] * ((double)x[i] - m);
    }
    *sg += da;
    *sgx += dq;
}

void batchnorm_forward(float *y, float *aux, const float *x, const float *gamma,
                       const float *beta, float *rmean, float *rvar, int mode,
                       float momentum, float eps, int B, int C, int HW) {
    // x and y are (B,C,HW); gamma, beta, rmean, rvar are (C); aux is (2,C): mean, inv-std
    size_t N = (size_t)B * HW;
    for (int c = 0; c < C; c++) {
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

/* dx += (set 0) or = (set 1) the input gradient; see batchnorm_backward(_set). Setting
 * saves reading dx back from memory, the stall of this loop when dx was zeroed long
 * before (measured with perf). */
static void bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *x, const float *gamma, const float *aux, int mode,
                        int B, int C, int HW, int set) {
    // dy, x and dx are (B,C,HW); dgamma, dbeta (C); aux (2,C) from the forward pass
    size_t N = (size_t)B * HW;
    for (int c = 0; c < C; c++) {
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
        if (gamma) {
            dgamma[c] += (float)sdyx;
            dbeta[c] += (float)sdy;
        }
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
void relu_forward(float *restrict y, const float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward(float *restrict dx, const float *restrict dy, const float *restrict x,
                   size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = dy[i]; /* loaded unconditionally so the loop vectorizes */
        dx[i] += x[i] > 0.0f ? g : 0.0f;
    }
}

/* 1 / (number of in-bounds cells of the 3-window at position i of n). */
static float inv_count3(int i, int n) {
    return 1.0f / (float)((i > 0) + 1 + (i < n - 1));
}

/* Horizontal 3-sums h[w] = v[w] + v[w-1] + v[w+1] (out-of-range terms left out), times
 * sc * icw[w]: the interior loop has no branches, so it vectorizes (the per-element
 * conditionals and divisions of a plain loop made pooling ~10% of a scoring run). */
static void hsum3_scaled(float *restrict o, const float *restrict v, const float *restrict icw,
                         float sc, int W) {
    if (W == 1) {
        o[0] = v[0] * (sc * icw[0]);
        return;
    }
    o[0] = (v[0] + v[1]) * (sc * icw[0]);
    for (int w = 1; w < W - 1; w++) o[w] = (v[w] + v[w - 1] + v[w + 1]) * (sc * icw[w]);
    o[W - 1] = (v[W - 1] + v[W - 2]) * (sc * icw[W - 1]);
}

/* The 3x3 window sum is separable: vertical 3-sums of rows, then horizontal 3-sums. */
void avgpool3_forward(float *y, const float *x, int BC, int H, int W) {
    // x and y are (BC,H,W); each output averages the in-bounds cells of its 3x3 window
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

/* Adjoint: scale dy by 1/count, then the same (symmetric) 3x3 window sum into dx. */
void avgpool3_backward(float *dx, const float *dy, int BC, int H, int W) {
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

void avgpool2_forward(float *y, const float *x, int BC, int H, int W) {
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

void avgpool2_backward(float *dx, const float *dy, int BC, int H, int W) {
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
