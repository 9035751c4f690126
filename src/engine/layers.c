/* layers.c — forward/backward of every layer (see include/layers.h). NCHW, flat arrays;
 * backward functions accumulate. Reductions are summed in double, in a fixed order, so
 * results are bit-reproducible and close to a float64 reference. */
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

