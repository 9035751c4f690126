/* conv.h — 2-D convolution: the im2col path and the dispatcher (conv.c), the direct
 * AVX-512 path (conv_direct.c) and the channel-last Winograd and stride-2 paths
 * (conv_cl.c). Same conventions as layers.h. */
#ifndef SIGEO_CONV_H
#define SIGEO_CONV_H

#include <stddef.h>
#include "engine/par.h"

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

#endif
