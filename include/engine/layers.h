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
/* the threads and GEMM (par.h) and the convolutions (conv.h) are part of the layers */
#include "engine/par.h"
#include "engine/conv.h"

/* How BN behaves in a forward pass. */
enum {
    BN_TRAIN = 0, /* batch statistics, running statistics updated */
    BN_BATCH,     /* batch statistics, running statistics left alone */
    BN_EVAL,      /* running statistics */
    BN_OFF        /* identity (used by synflow) */
};

/* Batch norm over x (B,C,HW) per channel. mode is BN_TRAIN/BN_BATCH/BN_EVAL/BN_OFF
 * (above). gamma/beta (C) may be NULL (no affine: scale 1, shift 0). rmean/rvar (C) are
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
