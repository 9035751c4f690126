/* gradcheck.h — the finite-difference harness of the layer tests (test_layers.c,
 * test_layers_rec.c, test_threads.c): ok/NOT OK lines counted in `fails`, seeded random and
 * zero tensors, a relative difference, and a central-difference check of a layer's analytic
 * gradients.
 *
 * Included by one test file each (everything is static). The test seeds `rng`, points
 * `fwd` at a function that recomputes Y (ny floats) from the layer's current inputs, and
 * fills R: the scalar loss is L = sum R * Y (summed in double), so the upstream gradient
 * is dY = R. Tensors from randn/zeros are malloc'd and owned by the caller. */
#ifndef SIGEO_TESTS_GRADCHECK_H
#define SIGEO_TESTS_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"

static int fails;
static void check(int ok, const char *what, double v) {
    printf("%s %s (%.3g)\n", ok ? "ok" : "NOT OK", what, v);
    fails += !ok;
}

static rng_t rng;
static inline float *randn(size_t n, float scale) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = (float)(scale * rng_normal(&rng));
    return p;
}
static inline float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* Max |a-b| / max(max|b|, 1e-6). */
static inline double rel_diff(const float *a, const float *b, size_t n) {
    double m = 1e-6, d = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(b[i]) > m) m = fabs(b[i]);
        if (fabs((double)a[i] - b[i]) > d) d = fabs((double)a[i] - b[i]);
    }
    return d / m;
}

static void (*fwd)(void);
static float *Y, *R;
static size_t ny;

static inline double loss(void) {
    fwd();
    double s = 0.0;
    for (size_t i = 0; i < ny; i++) s += (double)R[i] * Y[i];
    return s;
}

/* Central differences for every entry of p (n) against the analytic gradient g; returns
 * the max error relative to the largest gradient entry of the tensor. The difference is
 * divided by the step float arithmetic really took, (s + h) - (s - h), not 2h. Leaves
 * Y computed at the unperturbed p. */
static inline double fd(float *p, const float *g, size_t n, float h) {
    double gmax = 1e-6, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(g[i]) > gmax) gmax = fabs(g[i]);
    for (size_t i = 0; i < n; i++) {
        float s = p[i];
        p[i] = s + h;
        double step = (double)p[i];
        double lp = loss();
        p[i] = s - h;
        step -= (double)p[i];
        double lm = loss();
        p[i] = s;
        double num = (lp - lm) / step, e = fabs(num - g[i]) / gmax;
        if (e > worst) worst = e;
    }
    loss();
    return worst;
}

#endif
