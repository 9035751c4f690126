/* layers_darts.h — the layers of the DARTS cell space that layers.h lacks: depthwise
 * convolution with stride and dilation, 3x3 max and average pooling with stride 1 or 2,
 * factorized reduce, and channel concatenation. Same conventions as layers.h: NCHW,
 * outputs first, then inputs, then sizes; forward overwrites, backward ACCUMULATES into
 * input and parameter gradients; a NULL gradient pointer skips that part; no function
 * allocates (scratch comes from the caller).
 *
 * Every loop splits over lay_threads parts of whole planes or channels, so the results
 * are the same bits with any thread count. */
#ifndef SIGEO_LAYERS_DARTS_H
#define SIGEO_LAYERS_DARTS_H

#include <stddef.h>
#include "engine/net.h"

/* Output size of a dilated window along one axis (PyTorch's formula). */
static inline int dconv_out(int h, int k, int stride, int pad, int dil) {
    return (h + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

/* Depthwise convolution (PyTorch groups = C, no bias): y (B,C,OH,OW) from x (B,C,H,W) and
 * w (C,K,K); output cell (oh,ow) reads x at (oh*stride - pad + ky*dil, ow*stride - pad +
 * kx*dil), zero outside. */
void dwconv_forward(float *y, const float *x, const float *w, int B, int C, int H, int W,
                    int K, int stride, int pad, int dil);
/* dx (B,C,H,W) +=, dw (C,K,K) += (summed over images in image order, per channel). */
void dwconv_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int B, int C, int H, int W, int K, int stride, int pad, int dil);

/* 3x3 pooling with padding 1 and stride 1 or 2 over BC planes (H,W) -> (OH,OW),
 * OH = (H - 1) / stride + 1. Max: padding never wins (PyTorch MaxPool2d(3, s, 1)); the
 * gradient goes to the first maximum of the window in row-major order, recomputed from
 * x (a NaN counts as the maximum, as in PyTorch). Average: padded cells are not counted
 * (AvgPool2d(3, s, 1, count_include_pad=False)). */
void maxpool3_forward(float *y, const float *x, int BC, int H, int W, int stride);
void maxpool3_backward(float *dx, const float *dy, const float *x, int BC, int H, int W,
                       int stride);
void avgpool3s_forward(float *y, const float *x, int BC, int H, int W, int stride);
void avgpool3s_backward(float *dx, const float *dy, int BC, int H, int W, int stride);

/* Factorized reduce without its ReLU and BN (DARTS operations.py FactorizedReduce):
 * y (B,OC,H/2,W/2) = concat over channels of w1 (OC/2,C) * x[:, :, 0::2, 0::2] and
 * w2 (OC/2,C) * x[:, :, 1::2, 1::2] (two 1x1 stride-2 convs, the second shifted by one
 * pixel). H, W and OC even. ws holds facred_ws_floats(C, H, W) floats. */
size_t facred_ws_floats(int C, int H, int W);
void facred_forward(float *y, const float *x, const float *w1, const float *w2, float *ws,
                    int B, int C, int H, int W, int OC);
/* dx (B,C,H,W) +=, dw1/dw2 (OC/2,C) += (each may be NULL). */
void facred_backward(float *dx, float *dw1, float *dw2, const float *dy, const float *x,
                     const float *w1, const float *w2, float *ws, int B, int C, int H, int W,
                     int OC);

/* Channel concatenation: y (B, sum c[i], HW) = [x[0][b], ..., x[n-1][b]] per image, x[i]
 * (B, c[i], HW). Backward: dx[i] += the matching block of dy (a NULL dx[i] is skipped). */
void chcat_forward(float *y, const float *const *x, const int *c, int n, int B, int HW);
void chcat_backward(float *const *dx, const float *dy, const int *c, int n, int B, int HW);

/* ---- graph nodes (ops OP_DWCONV..OP_CHCAT of net.h; their rows in net_ops) ------------------ */

/* Depthwise conv of x over "<name>.w" (C,1,K,K) (PK_CONV, PyTorch's grouped layout). */
int net_dwconv(net_t *net, int x, const char *name, int k, int stride, int pad, int dil);
/* 3x3 max or average (padding not counted) pooling, padding 1, stride 1 or 2. */
int net_maxpool3s(net_t *net, int x, int stride);
int net_avgpool3s(net_t *net, int x, int stride);
/* Factorized reduce to oc channels (even) over "<name>.w1" and "<name>.w2" (oc/2,C,1,1);
 * x's H and W even. */
int net_facred(net_t *net, int x, const char *name, int oc);
/* Channel concatenation of n (<= NET_MAX_IN) nodes of one batch and H, W. */
int net_chcat(net_t *net, int n, const int *in);
/* Declare what net_dwconv / net_facred would, for supernets. 0 or -1. */
int net_declare_dwconv(params_t *P, const char *name, int C, int k);
int net_declare_facred(params_t *P, const char *name, int oc, int c);

#endif
