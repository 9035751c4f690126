/* naswot.c — NASWOT: log|det K| of the ReLU activation-pattern kernel. */
#include "proxy_impl.h"
#include <stdint.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* log|det A| of the n x n matrix a (overwritten) by LU with partial pivoting;
 * -inf if singular. */
static double logabsdet(double *a, int n) {
    double s = 0;
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(a[(size_t)i * n + k]) > fabs(a[(size_t)p * n + k])) p = i;
        if (a[(size_t)p * n + k] == 0) return -INFINITY;
        if (p != k)
            for (int j = 0; j < n; j++) {
                double t = a[(size_t)k * n + j];
                a[(size_t)k * n + j] = a[(size_t)p * n + j];
                a[(size_t)p * n + j] = t;
            }
        double piv = a[(size_t)k * n + k];
        s += log(fabs(piv));
        for (int i = k + 1; i < n; i++) {
            double f = a[(size_t)i * n + k] / piv;
            if (f == 0) continue;
            for (int j = k + 1; j < n; j++) a[(size_t)i * n + j] -= f * a[(size_t)k * n + j];
        }
    }
    return s;
}

/* NASWOT: K[i][j] = N_A - Hamming(c_i, c_j) over the binary codes (ReLU output > 0) of
 * every ReLU unit; score log|det K|. */
static int p_naswot(proxy_ctx_t *c, proxy_out_t *o) {
    double L = proxy_batch0(c);
    const net_t *net = c->net;
    int B = net->batch;
    size_t n_words = 0, n_units = 0;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_RELU) continue;
        size_t u = (size_t)nd->C * nd->H * nd->W;
        n_units += u;
        n_words += (u + 63) / 64;
    }
    uint64_t *code = calloc((n_words ? n_words : 1) * B, sizeof(uint64_t));
    double *K = malloc((size_t)B * B * sizeof(double));
    if (!code || !K) {
        free(code);
        free(K);
        return -1;
    }
    size_t w0 = 0;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_RELU) continue;
        size_t u = (size_t)nd->C * nd->H * nd->W;
        for (int b = 0; b < B; b++) {
            uint64_t *row = code + (size_t)b * n_words + w0;
            const float *y = nd->y + (size_t)b * u;
            for (size_t j = 0; j < u; j++)
                if (y[j] > 0) row[j / 64] |= (uint64_t)1 << (j % 64);
        }
        w0 += (u + 63) / 64;
    }
    for (int i = 0; i < B; i++)
        for (int j = i; j < B; j++) {
            size_t ham = 0;
            const uint64_t *a = code + (size_t)i * n_words, *b = code + (size_t)j * n_words;
            for (size_t q = 0; q < n_words; q++) ham += (size_t)__builtin_popcountll(a[q] ^ b[q]);
            K[(size_t)i * B + j] = K[(size_t)j * B + i] = (double)(n_units - ham);
        }
    double s = logabsdet(K, B);
    free(code);
    free(K);
    if (!isfinite(L)) proxy_set_err(o, "naswot: loss not finite");
    else if (!isfinite(s)) proxy_set_err(o, "naswot: activation-pattern kernel is singular");
    proxy_set_out(o, "naswot", isfinite(s) && isfinite(L) ? s : NAN);
    return 0;
}

const proxy_t proxy_naswot = {
    "naswot", PROXY_DEFAULT | PROXY_BATCH0,
    "log|det K|, K = ReLU binary-code agreement kernel; higher is better",
    p_naswot,
};
