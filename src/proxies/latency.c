/* latency.c — the candidate's measured inference time on this machine: the engine's
 * forward pass (BN on its running statistics, no gradients) at batch 1 and at a chosen
 * batch, each the median of several timed runs after one untimed warm-up run, with the
 * engine's thread count. A cost to budget against, not a prediction of accuracy; it is
 * not deterministic, so it is flagged PROXY_TIMED and `--proxies all` leaves it out. */
#include "proxy_impl.h"
#include "engine/par.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds of one forward pass of the candidate built in net (reset first) over
 * c->P, x (net->batch examples) its input: one warm-up run (first touch of new arena
 * memory, cold caches), then `repeats` timed ones. -1 when the network cannot be built
 * (out of memory). */
static double time_forward(proxy_ctx_t *c, net_t *net, const float *x, const int *y, int repeats) {
    net_reset(net);
    double *t = malloc((size_t)repeats * sizeof *t), med = -1;
    if (t && c->space->build(net, c->cfg, c->arch) == 0 && net_finalize(net, NULL) == 0) {
        net->bn_mode = BN_EVAL;
        net_forward(net, x, y);
        for (int r = 0; r < repeats; r++) {
            double t0 = util_now();
            net_forward(net, x, y);
            t[r] = util_now() - t0;
        }
        qsort(t, (size_t)repeats, sizeof *t, cmp_double);
        /* the middle one, or the mean of the two middle ones */
        med = 0.5 * (t[(repeats - 1) / 2] + t[repeats / 2]);
    }
    free(t);
    return med;
}

/* The context's two networks for batches 1 and B (made on first use, or again when B
 * changes). NULL out of memory. */
static net_t *lat_nets(proxy_ctx_t *c, int B) {
    if (c->lat_net && c->lat_nb == B) return c->lat_net;
    if (c->lat_net) net_free(&c->lat_net[0]), net_free(&c->lat_net[1]);
    else if (!(c->lat_net = malloc(2 * sizeof *c->lat_net))) return NULL;
    net_init(&c->lat_net[0], c->P, 1);
    net_init(&c->lat_net[1], c->P, B);
    c->lat_nb = B;
    return c->lat_net;
}

static int p_latency(proxy_ctx_t *c, proxy_out_t *o) {
    /* without the candidate's space and arch there is nothing to rebuild: not scored */
    if (!c->space || !c->cfg || !c->arch) return 0;
    int B = c->lat_batch > 0 ? c->lat_batch : PROXY_LAT_BATCH;
    int repeats = c->lat_repeats > 0 ? c->lat_repeats : PROXY_LAT_REPEATS;
    int have = c->n_batches * c->net->batch;
    size_t img = proxy_img_size(c);
    float *x = malloc((size_t)B * img * sizeof *x);
    int *y = calloc((size_t)B, sizeof *y); /* class 0: the labels only feed the loss head */
    if (!x || !y) {
        free(x), free(y);
        return -1;
    }
    /* the scoring examples, repeated when the batch is larger than they are */
    for (int i = 0; i < B; i++) memcpy(x + i * img, c->x + (size_t)(i % have) * img, img * sizeof *x);
    /* the inherited weights (values matter little to the time, but denormals would) */
    proxy_restore(c);
    net_t *nets = lat_nets(c, B);
    double t1 = nets ? time_forward(c, &nets[0], x, y, repeats) : -1;
    /* --latency-batch 1 asks for batch 1 alone: timing it twice would only cost */
    double tb = t1 < 0 || B == 1 ? t1 : time_forward(c, &nets[1], x, y, repeats);
    free(x), free(y);
    if (tb < 0) return -1;
    proxy_set_out(o, "latency_ms", 1e3 * t1);
    proxy_set_out(o, "latency_batch_ms", 1e3 * tb / B);
    proxy_set_out(o, "latency_batch", B);
    proxy_set_out(o, "latency_threads", lay_threads);
    return 0;
}

const proxy_t proxy_latency = {
    "latency", PROXY_TIMED,
    "milliseconds of one forward pass per example at batch 1 (latency_ms) and at "
    "--latency-batch (latency_batch_ms), measured; a cost, lower is faster",
    p_latency,
};
