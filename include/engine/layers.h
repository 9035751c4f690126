/* layers.h — forward/backward of every layer as free functions over flat float arrays.
 *
 * Layout is NCHW throughout. Arguments: outputs first, then inputs, then sizes as plain
 * ints. Forward functions overwrite their outputs; backward functions ACCUMULATE into
 * their input gradients and parameter gradients (zero them once per step). A NULL input
 * gradient pointer skips that part of the backward pass. No function allocates: scratch
 * memory comes from the caller's workspace. */
#ifndef SIGEO_LAYERS_H
#define SIGEO_LAYERS_H

#include <stddef.h>

/* The one GEMM of the code base (row-major, over cblas_sgemm):
 * C (M,N) = beta * C + op(A) * op(B), op(A) (M,K), op(B) (K,N); ta/tb transpose A/B as
 * stored; lda/ldb/ldc are the row strides as stored (blocks of wider matrices allowed).
 * beta is 1 to accumulate (backward) or 0 to overwrite (forward). */
void lay_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc);

/* Threads of the engine's own loops (1 by default). Each layer splits its work into
 * lay_threads contiguous parts (images, channels or elements), fixed by the thread count
 * alone, so a run is bit-reproducible for a given count. Only the weight gradient of a
 * conv depends on it (each part sums its images into its own buffer; the buffers are
 * added in part order); everything else gives the same bits with any count.
 * lay_set_threads also pins OpenBLAS to one thread: the engine's GEMMs are per image and
 * run inside its own parallel loops, and lay_gemm splits a large GEMM called outside
 * them. Set it before net_finalize, which sizes the per-thread workspaces. */
#define LAY_MAX_THREADS 64
extern int lay_threads;
void lay_set_threads(int threads);

/* OpenBLAS (0.3.21) maps a ~128 MB buffer for each thread that runs a large GEMM and, when
 * the mapping fails, retries forever: under a tight address-space limit (ulimit -v) that is
 * a hang, not an error. Tools call this once their data is loaded, before the work: 0 when
 * no limit is set or lay_threads such buffers (plus a margin) fit now; otherwise -1 with
 * the reason in err. */
int lay_blas_room(char *err, size_t n_err);

/* Run f(arg, t, lo, hi) for t in [0, T), T = min(T, lay_threads, units), on part t of
 * [0, n) cut in multiples of align (the last part takes the remainder); in parallel when
 * built with OpenMP, in order otherwise (same results). */
typedef void (*lay_part_fn)(void *arg, int t, size_t lo, size_t hi);
void lay_par(int T, size_t n, size_t align, lay_part_fn f, void *arg);

/* For the memory-bound elementwise loops (BN, ReLU, pooling, sums): two builds chosen at
 * run time, AVX2 where the CPU has it and the baseline otherwise. Same operations per
 * element (no FMA contraction in ISO C mode) and the same lane order in the reductions,
 * so the same bits either way. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(SIGEO_NO_CLONES)
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

/* Output size of a convolution along one axis. */
static inline int conv2d_out(int h, int k, int stride, int pad) {
    return (h + 2 * pad - k) / stride + 1;
}
/* Workspace floats a conv needs for an im2col chunk of nb images (0 for 1x1 stride-1
 * convs, which need none). A smaller workspace makes the conv use smaller chunks; the
 * minimum is conv2d_ws_floats(1, ...). */
size_t conv2d_ws_floats(int nb, int C, int H, int W, int OC, int K, int stride, int pad);

/* 3x3 stride-1 pad-1 convs with OC (and, when dx is wanted, C) a multiple of 8 run
 * directly on AVX-512 without im2col (conv_direct.c) when lay_direct is 1; -1 (the
 * default) turns it on where the CPU has AVX-512F unless SIGEO_DIRECT=0 is set in the
 * environment. Results differ from the im2col path in the last bits. */
extern int lay_direct;
int convd_use(int C, int W, int OC, int need_dx);
size_t convd_ws_floats(int C, int H, int W, int OC);
void convd_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC);
void convd_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC);

/* 3x3 stride-1 pad-1 convs with C and OC multiples of 8 run as a fused Winograd
 * F(4x4,3x3) (conv_cl.c: 4x fewer multiplies) when lay_winograd is 1; -1 (the default)
 * turns it on where the CPU has AVX-512F and VL unless SIGEO_WINOGRAD=0 is set in the
 * environment. It takes precedence over the direct path. Results differ from the other
 * paths by Winograd's rounding, ~1e-5 relative. */
extern int lay_winograd;
int convw_use(int C, int OC);
size_t convw_ws_floats(int C, int H, int W, int OC);
void convw_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC);
void convw_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC);

/* 3x3 stride-2 pad-1 convs with C and OC multiples of 8 (the NB201 reduction) run
 * directly on channel-last copies (conv_cl.c) wherever the Winograd path is on. */
int convs_use(int C, int OC);
size_t convs_ws_floats(int C, int H, int W, int OC);
void convs_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC);
void convs_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC);

/* The workspace for lay_threads parts of a conv that needs ws floats with one thread:
 * each part's slice holds its own weight gradient and scratch (ws when threads is 1). */
size_t conv2d_ws_threads(size_t ws, int C, int OC, int K);

/* y (B,OC,OH,OW) = conv(x (B,C,H,W), w (OC,C,K,K)), no bias. ws has n_ws floats. */
void conv2d_forward(float *y, const float *x, const float *w, float *ws, size_t n_ws,
                    int B, int C, int H, int W, int OC, int K, int stride, int pad);
/* dx (B,C,H,W) += d/dx, dw (OC,C,K,K) += d/dw, from dy (B,OC,OH,OW). */
void conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     float *ws, size_t n_ws, int B, int C, int H, int W, int OC, int K,
                     int stride, int pad);

/* Batch norm over x (B,C,HW) per channel. mode is net.h's BN_TRAIN/BN_BATCH/BN_EVAL/
 * BN_OFF. gamma/beta (C) may be NULL (no affine: scale 1, shift 0). rmean/rvar (C) are
 * the running statistics: read in BN_EVAL, updated only in BN_TRAIN
 * (r = (1-momentum) r + momentum * batch, unbiased batch variance, as PyTorch).
 * aux (2C) receives the mean and 1/sqrt(var+eps) used, for the backward pass. BN_OFF is
 * the identity (no affine either). */
void batchnorm_forward(float *y, float *aux, const float *x, const float *gamma,
                       const float *beta, float *rmean, float *rvar, int mode,
                       float momentum, float eps, int B, int C, int HW);
/* dx += d/dx (through the batch statistics in BN_TRAIN/BN_BATCH), dgamma/dbeta (C) +=
 * (both skipped when gamma is NULL or mode is BN_OFF). */
void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *x, const float *gamma, const float *aux, int mode,
                        int B, int C, int HW);
/* The same with dx overwritten instead of accumulated (for an input whose only
 * consumer is this BN: no zeroing needed, no read of dx). */
void batchnorm_backward_set(float *dx, float *dgamma, float *dbeta, const float *dy,
                            const float *x, const float *gamma, const float *aux, int mode,
                            int B, int C, int HW);

/* y (n) = max(x, 0); dx += dy where x > 0. */
void relu_forward(float *y, const float *x, size_t n);
void relu_backward(float *dx, const float *dy, const float *x, size_t n);

/* y (n) = a + b; y += a; p (n) = 0. */
void add_forward(float *y, const float *a, const float *b, size_t n);
void add_into(float *y, const float *a, size_t n);
void zero_floats(float *p, size_t n);

/* 3x3 average pool, stride 1, padding 1, padded cells not counted (PyTorch
 * count_include_pad=False): y (BC,H,W) from x (BC,H,W), BC = B*C planes. */
void avgpool3_forward(float *y, const float *x, int BC, int H, int W);
void avgpool3_backward(float *dx, const float *dy, int BC, int H, int W);

/* 2x2 average pool stride 2: y (BC,H/2,W/2) from x (BC,H,W) (floor, as PyTorch). */
void avgpool2_forward(float *y, const float *x, int BC, int H, int W);
void avgpool2_backward(float *dx, const float *dy, int BC, int H, int W);

/* Global average pool: y (BC) = mean over HW of x (BC,HW). */
void gap_forward(float *y, const float *x, int BC, int HW);
void gap_backward(float *dx, const float *dy, int BC, int HW);

/* y (B,OUT) = x (B,IN) w^T + b, w (OUT,IN), b (OUT) or NULL. */
void linear_forward(float *y, const float *x, const float *w, const float *b, int B,
                    int IN, int OUT);
/* dx (B,IN) +=, dw (OUT,IN) +=, db (OUT) += (db may be NULL). */
void linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                     const float *w, int B, int IN, int OUT);

/* Mean softmax cross-entropy of logits (B,K) against labels (B) in [0,K); probs (B,K)
 * receives the softmax for the backward pass. Returns NaN for a label out of range. */
float xent_forward(float *probs, const float *logits, const int *labels, int B, int K);
/* dlogits (B,K) += dloss * (probs - onehot(labels)) / B. */
void xent_backward(float *dlogits, const float *probs, const int *labels, float dloss,
                   int B, int K);

#endif
