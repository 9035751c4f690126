/* proxy_impl.h — what the proxy files share and nothing outside src/proxies/ reads: the
 * batch passes over the working parameters, the batch-0 cache and the output setters.
 * Kept beside the sources (not in include/) because it is private to this layer. */
#ifndef SIGEO_PROXY_IMPL_H
#define SIGEO_PROXY_IMPL_H

#include "proxies/proxy.h"

/* Trainable view i is a conv or linear weight the candidate uses. */
int proxy_used_weight(const proxy_ctx_t *c, int i);
/* Floats per example of the scoring batches. */
size_t proxy_img_size(const proxy_ctx_t *c);
/* Forward and backward of one batch (BN on batch statistics) with fresh gradients, *loss
 * the mean loss. With want_j, jacov's score is also taken (into the cache) from the
 * forward pass, before the loss backward. 0, or -1 out of memory. */
int proxy_batch_pass(proxy_ctx_t *c, const float *x, const int *y, int want_j, double *loss);
/* proxy_batch_pass without the Jacobian; returns the loss. */
double proxy_run_batch(proxy_ctx_t *c, const float *x, const int *y);
/* The shared batch 0 (PROXY_BATCH0): restores the inherited weights and runs the first
 * scoring batch once per candidate; returns its loss. */
double proxy_batch0(proxy_ctx_t *c);
/* proxy_batch_grads; with want_j, jacov's score is also taken (into the cache) from batch
 * 0's forward pass. */
int proxy_batch_grads_j(proxy_ctx_t *c, float lr, float *G, double *loss, int want_j);
/* Copy the used weights' gradients (or weights) into dst in view order. */
void proxy_gather(const proxy_ctx_t *c, const float *buf, float *dst);

void proxy_set_out(proxy_out_t *o, const char *key, double v);
/* The first reason given wins. */
void proxy_set_err(proxy_out_t *o, const char *why);
/* The gradient baselines' output: the score, or NaN with an error naming the proxy when
 * the loss or the score is not finite. */
void proxy_set_grad_score(proxy_out_t *o, const char *key, double loss, double v);

/* jacov.c: eigenvalues of the symmetric n x n matrix a (destroyed), unordered (cyclic
 * Jacobi; also aznas.c and meco.c). */
void proxy_sym_eigvals(double *a, int n, double *ev);

/* jacov.c: the Jacobian pass after a forward pass whose loss was L; fills the cache
 * (jacov_s, jacov_flat, jacov_loss). 0, or -1 out of memory. */
int proxy_jacov_after_forward(proxy_ctx_t *c, double L);

#endif
