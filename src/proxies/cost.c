/* cost.c — the cost baselines: parameters and FLOPs of the subnet. */
#include "proxy_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int p_params(proxy_ctx_t *c, proxy_out_t *o) {
    proxy_set_out(o, "params", (double)net_param_count(c->net));
    return 0;
}

static int p_flops(proxy_ctx_t *c, proxy_out_t *o) {
    proxy_set_out(o, "flops", net_flops(c->net));
    return 0;
}

const proxy_t proxy_params = {
    "params", PROXY_DEFAULT,
    "trainable parameters the subnet uses; higher is better",
    p_params,
};

const proxy_t proxy_flops = {
    "flops", PROXY_DEFAULT,
    "multiply-accumulates of one forward pass of one example; higher is better",
    p_flops,
};
