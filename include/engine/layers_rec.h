/* layers_rec.h — recommender-system layers (click data, the nasrec space) and their graph
 * nodes. Same conventions as layers.h: outputs first, then inputs, then sizes; forward
 * overwrites, backward ACCUMULATES into input and parameter gradients; a NULL input
 * gradient skips that part; no function allocates (scratch comes from the caller).
 *
 * Click input layout (criteo.h): one float row per example, n_dense dense features
 * followed by n_sparse categorical ids stored as floats (exact below 2^24).
 *
 * Weight slicing: the "r" layers (rlinear, efc, layernorm) read the LEADING rows/columns
 * of a possibly larger parameter matrix with row stride ld. A subnet built over a
 * supernet's params_t binds a view by name and uses its leading block (NASRec-style width
 * sharing); a standalone network declares the exact shape (ld = IN). */
#ifndef SIGEO_LAYERS_REC_H
#define SIGEO_LAYERS_REC_H

#include <stddef.h>
#include "engine/net.h"

/* ---- flat layers ------------------------------------------------------------------------ */

/* Embedding lookup: y (B,F,E) = table[f*rows + id(b,f)] with id(b,f) = (int)x[b*ld + col0
 * + f]; table is (F*rows, E). An id outside [0,rows) gives a zero row (and no gradient). */
void embed_forward(float *y, const float *x, const float *table, int B, int ld, int col0,
                   int F, int rows, int E);
/* dtable += dy scattered into the looked-up rows only (sparse accumulation). */
void embed_backward(float *dtable, const float *dy, const float *x, int B, int ld, int col0,
                    int F, int rows, int E);

/* Sliced linear: y (B,OUT) = x (B,IN) W^T + b, W the leading (OUT,IN) block of a matrix with
 * row stride ld >= IN, b (OUT) or NULL. */
void rlinear_forward(float *y, const float *x, const float *w, const float *b, int B, int IN,
                     int OUT, int ld);
/* dx (B,IN) +=, dw (leading block, stride ld) +=, db (OUT) += (dx, dw, db may be NULL). */
void rlinear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                      const float *w, int B, int IN, int OUT, int ld);

/* EFC (linear over the embedding axis): y[b] (SO,E) = W (SO,SI) x[b] (SI,E), W the leading
 * block of a matrix with row stride ld. */
void efc_forward(float *y, const float *x, const float *w, int B, int SI, int SO, int E,
                 int ld);
void efc_backward(float *dx, float *dw, const float *dy, const float *x, const float *w, int B,
                  int SI, int SO, int E, int ld);

/* Dot-product interaction: y (B, n(n-1)/2) = <x[b,i], x[b,j]> for i < j in row-major
 * order of the upper triangle, x (B,n,E). */
void dot_forward(float *y, const float *x, int B, int n, int E);
void dot_backward(float *dx, const float *dy, const float *x, int B, int n, int E);

/* Layer norm over rows of G: y (R,G) = gamma * (x - mean) / sqrt(var + eps) + beta
 * (population variance), gamma/beta (G) or NULL (scale 1, shift 0). aux (2R) receives the
 * mean and 1/sqrt(var+eps) per row. */
void layernorm_forward(float *y, float *aux, const float *x, const float *gamma,
                       const float *beta, int R, int G, float eps);
void layernorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                        const float *x, const float *gamma, const float *aux, int R, int G);

/* y = 1 / (1 + exp(-x)), computed without overflow; dx += dy * y * (1 - y). */
void sigmoid_forward(float *y, const float *x, size_t n);
void sigmoid_backward(float *dx, const float *dy, const float *y, size_t n);

/* Mean binary cross-entropy of logits z (B) against labels (B) in {0,1}, from the logits
 * (log-sum-exp form, stable). Returns NaN for a label outside {0,1}. */
float bce_forward(const float *z, const int *labels, int B);
/* dz (B) += dloss * (sigmoid(z) - label) / B. */
void bce_backward(float *dz, const float *z, const int *labels, float dloss, int B);

/* ---- graph nodes (the recommender ops of net.h) ---------------------------------------------- */

/* Embedding lookup of F ids at columns [col0, col0+F) of the (B,F_in) input node x, into
 * one table "<name>.w" of shape (F*rows, E) (PK_EMB). Output (B,F,E) as C=F, H=E. */
int net_embed(net_t *net, int x, const char *name, int col0, int F, int rows, int E);
/* Columns [col0, col0+n) of a (B,F) node (no parameters). Output (B,n). */
int net_slice(net_t *net, int x, int col0, int n);
/* Sliced linear (B,IN) -> (B,OUT) over "<name>.w" (PK_LINEAR_W) and, with bias, "<name>.b".
 * If the view exists with a shape >= (OUT,IN), its leading block is used; otherwise the
 * exact shape is declared. */
int net_rlinear(net_t *net, int x, const char *name, int out, int bias);
/* EFC (B,SI,E) -> (B,SO,E) over "<name>.w" (SO,SI) (PK_LINEAR_W), sliced as net_rlinear. */
int net_efc(net_t *net, int x, const char *name, int so);
/* Pairwise dot products of a (B,n,E) node: (B, n(n-1)/2). n >= 2. */
int net_dot(net_t *net, int x);
/* Layer norm over the last axis (E for a (B,n,E) node, the features of a (B,F) node), with
 * "<name>.gamma"/"<name>.beta" (PK_BN_GAMMA/PK_BN_BETA), sliced as net_rlinear. */
int net_layernorm(net_t *net, int x, const char *name);
int net_sigmoid(net_t *net, int x);
/* Elementwise product of two nodes of one shape. */
int net_mul(net_t *net, int a, int b);
/* Per-example concatenation of n nodes; every input's per-example size must be a multiple
 * of row, and the output is (B, total/row, row) (row 1: a (B,F) vector). */
int net_concat(net_t *net, int n, const int *in, int row);
/* Binary cross-entropy loss node over (B,1) logits; sets net->logits and net->loss. */
int net_bce(net_t *net, int logits);

/* Their rows of the op table (net.h net_ops) are defined in layers_rec.c. */

#endif
