/* bench_conv.c — the 3x3 convs of the NB201 network (batch 64, one thread): forward,
 * backward with both gradients and backward with the weight gradient only, through
 * conv2d_forward/backward with each path switched on in turn, best of 15 runs each, in
 * the same run. Shapes: the three cell stages at C=8 (8@28x28, 16@14x14, 32@7x7), the stem
 * (1 -> 8 channels @28x28) and the two stride-2 reduction convs.
 *   make build/bench/bench_conv && OPENBLAS_NUM_THREADS=1 build/bench/bench_conv
 * Paths: im2col (SIGEO_WINOGRAD=0 SIGEO_DIRECT=0), direct (AVX-512, conv_direct.c: stride
 * 1, C and OC multiples of 8 for dx at W >= 20, OC only for forward and dw), channel-last
 * (conv_cl.c: Winograd F(4x4,3x3) for stride 1, direct for stride 2; C and OC multiples
 * of 8). A path that does not take a shape falls through to the next one, marked "-". */
#include <stdio.h>
#include <stdlib.h>

#include "engine/layers.h"
#include "base/util.h"

int main(void) {
    static const int shapes[][4] = {{8, 28, 8, 1}, {16, 14, 16, 1}, {32, 7, 32, 1},
                                    {1, 28, 8, 1}, {8, 28, 16, 2},  {16, 14, 32, 2}};
    static const char *const names[] = {"im2col", "direct", "chanlast"};
    lay_direct = -1, lay_winograd = -1;
    int have_d = convd_use(8, 32, 8, 0), have_w = convw_use(8, 8);
    printf("%-20s %-9s %9s %9s %9s\n", "shape (C@HxW->OC/S)", "path", "fwd ms", "bwd ms",
           "dw-only");
    for (int s = 0; s < 6; s++) {
        int C = shapes[s][0], H = shapes[s][1], OC = shapes[s][2], S = shapes[s][3], B = 64;
        int OH = conv2d_out(H, 3, S, 1);
        size_t nx = (size_t)B * C * H * H, ny = (size_t)B * OC * OH * OH, nw = (size_t)OC * C * 9;
        size_t nws = conv2d_ws_floats(4, C, H, H, OC, 3, S, 1);
        float *x = calloc(nx, 4), *y = calloc(ny, 4), *w = calloc(nw, 4), *dx = calloc(nx, 4);
        float *dw = calloc(nw, 4), *ws = calloc(nws, 4);
        if (!x || !y || !w || !dx || !dw || !ws) return 1;
        for (size_t i = 0; i < nx; i++) x[i] = (float)(i % 13) * 0.1f - 0.6f;
        for (size_t i = 0; i < nw; i++) w[i] = (float)(i % 7) * 0.1f - 0.3f;
        for (int p = 0; p < 3; p++) {
            if ((p == 1 && !have_d) || (p == 2 && !have_w)) continue;
            lay_direct = p == 1, lay_winograd = p == 2;
            int takes = p == 0 || (p == 1 ? S == 1 && convd_use(C, H, OC, 0)
                                          : (S == 1 ? convw_use(C, OC) : convs_use(C, OC)));
            double tf = 1e9, tb = 1e9, tw = 1e9;
            for (int r = 0; r < 15; r++) {
                double t0 = util_now();
                conv2d_forward(y, x, w, ws, nws, B, C, H, H, OC, 3, S, 1);
                double t1 = util_now();
                conv2d_backward(C == 1 ? NULL : dx, dw, y, x, w, ws, nws, B, C, H, H, OC, 3, S, 1);
                double t2 = util_now();
                conv2d_backward(NULL, dw, y, x, w, ws, nws, B, C, H, H, OC, 3, S, 1);
                double t3 = util_now();
                if (t1 - t0 < tf) tf = t1 - t0;
                if (t2 - t1 < tb) tb = t2 - t1;
                if (t3 - t2 < tw) tw = t3 - t2;
            }
            char nm[32];
            snprintf(nm, sizeof nm, "%d@%dx%d->%d/%d", C, H, H, OC, S);
            printf("%-20s %-9s %9.3f %9.3f %9.3f%s\n", nm, names[p], 1e3 * tf, 1e3 * tb,
                   1e3 * tw, takes ? "" : "  -");
        }
        free(x), free(y), free(w), free(dx), free(dw), free(ws);
    }
    return 0;
}
