/* bench_conv.c — one 3x3 "same" conv of the NB201 network (batch 64, one thread): forward,
 * backward with both gradients and backward with the weight gradient only, through the
 * im2col path and the direct AVX-512 path (conv_direct.c), best of 15 runs each, in the
 * same run. Shapes: the three cell stages at C=8 (8@28x28, 16@14x14, 32@7x7) and the stem
 * (1 -> 8 channels @28x28).
 *   build/bench/bench_conv          (make build/bench/bench_conv; OPENBLAS_NUM_THREADS=1) */
#include <stdio.h>
#include <stdlib.h>

#include "layers.h"
#include "util.h"

int main(void) {
    static const int shapes[][3] = {{8, 28, 8}, {16, 14, 16}, {32, 7, 32}, {1, 28, 8}};
    lay_direct = -1;
    if (!convd_use(8, 8, 8, 0)) {
        printf("bench_conv: no direct path here (no AVX-512F, or SIGEO_DIRECT=0)\n");
        return 0;
    }
    printf("%-18s %-7s %9s %9s %9s\n", "shape (C@HxW->OC)", "path", "fwd ms", "bwd ms",
           "dw-only");
    for (int s = 0; s < 4; s++) {
        int C = shapes[s][0], H = shapes[s][1], OC = shapes[s][2], B = 64;
        size_t nx = (size_t)B * C * H * H, ny = (size_t)B * OC * H * H, nw = (size_t)OC * C * 9;
        size_t nws = conv2d_ws_floats(4, C, H, H, OC, 3, 1, 1);
        float *x = calloc(nx, 4), *y = calloc(ny, 4), *w = calloc(nw, 4), *dx = calloc(nx, 4);
        float *dw = calloc(nw, 4), *ws = calloc(nws, 4);
        if (!x || !y || !w || !dx || !dw || !ws) return 1;
        for (size_t i = 0; i < nx; i++) x[i] = (float)(i % 13) * 0.1f - 0.6f;
        for (size_t i = 0; i < nw; i++) w[i] = (float)(i % 7) * 0.1f - 0.3f;
        for (int d = 0; d < 2; d++) {
            double tf = 1e9, tb = 1e9, tw = 1e9;
            for (int r = 0; r < 15; r++) {
                /* the dispatcher as the net calls it; a backward with dx stays on im2col
                 * unless called directly */
                lay_direct = d;
                double t0 = util_now();
                conv2d_forward(y, x, w, ws, nws, B, C, H, H, OC, 3, 1, 1);
                double t1 = util_now();
                if (d && C % 8 == 0) convd_backward(dx, dw, y, x, w, ws, B, C, H, H, OC);
                else conv2d_backward(C % 8 ? NULL : dx, dw, y, x, w, ws, nws, B, C, H, H, OC, 3, 1, 1);
                double t2 = util_now();
                conv2d_backward(NULL, dw, y, x, w, ws, nws, B, C, H, H, OC, 3, 1, 1);
                double t3 = util_now();
                if (t1 - t0 < tf) tf = t1 - t0;
                if (t2 - t1 < tb) tb = t2 - t1;
                if (t3 - t2 < tw) tw = t3 - t2;
            }
            char nm[32];
            snprintf(nm, sizeof nm, "%d@%dx%d->%d", C, H, H, OC);
            printf("%-18s %-7s %9.3f %9.3f %9.3f%s\n", nm, d ? "direct" : "im2col", 1e3 * tf,
                   1e3 * tb, 1e3 * tw, C % 8 ? "  (no dx: C % 8 != 0)" : "");
        }
        free(x), free(y), free(w), free(dx), free(dw), free(ws);
    }
    return 0;
}
