/* swap.c — SWAP (Peng et al., ICLR 2024): the number of distinct sample-wise activation
 * patterns. Every ReLU unit (one channel at one position) has a pattern: which of the
 * batch's examples make it positive, a B-bit string. The score is how many different
 * strings the network's units show (docs/proxies.md). */
#include "proxy_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t g_words; /* qsort has no context argument; set before each sort */

static int cmp_pattern(const void *a, const void *b) {
    return memcmp(a, b, g_words * sizeof(uint64_t));
}

static int p_swap(proxy_ctx_t *c, proxy_out_t *o) {
    double L = proxy_batch0(c);
    const net_t *net = c->net;
    int B = net->batch;
    size_t words = ((size_t)B + 63) / 64, n_units = 0;
    for (int k = 0; k < net->n; k++)
        if (net->nodes[k].op == OP_RELU)
            n_units += (size_t)net->nodes[k].C * net->nodes[k].H * net->nodes[k].W;
    uint64_t *pat = calloc((n_units ? n_units : 1) * words, sizeof(uint64_t));
    if (!pat) return -1;
    size_t u0 = 0;
    for (int k = 0; k < net->n; k++) {
        const node_t *nd = &net->nodes[k];
        if (nd->op != OP_RELU) continue;
        size_t u = (size_t)nd->C * nd->H * nd->W;
        for (int b = 0; b < B; b++) {
            const float *y = nd->y + (size_t)b * u;
            for (size_t j = 0; j < u; j++)
                if (y[j] > 0) pat[(u0 + j) * words + b / 64] |= (uint64_t)1 << (b % 64);
        }
        u0 += u;
    }
    g_words = words;
    qsort(pat, n_units, words * sizeof(uint64_t), cmp_pattern);
    size_t distinct = n_units > 0;
    for (size_t i = 1; i < n_units; i++)
        distinct += memcmp(pat + i * words, pat + (i - 1) * words, words * sizeof(uint64_t)) != 0;
    free(pat);
    if (!isfinite(L)) proxy_set_err(o, "swap: loss not finite");
    proxy_set_out(o, "swap", isfinite(L) ? (double)distinct : NAN);
    return 0;
}

const proxy_t proxy_swap = {
    "swap", PROXY_BATCH0,
    "distinct sample-wise ReLU activation patterns over the batch; higher is better",
    p_swap,
};
