/* table.c — the proxies, in the order they run (and their keys appear in a record).
 * Adding a proxy: its file defines a proxy_t (name, PROXY_* flags, doc, function), and
 * one extern line and one row here list it. */
#include "proxies/proxy.h"

extern const proxy_t proxy_sigeo;
extern const proxy_t proxy_zico;
extern const proxy_t proxy_grad_norm;
extern const proxy_t proxy_snip;
extern const proxy_t proxy_fisher;
extern const proxy_t proxy_naswot;
extern const proxy_t proxy_grasp;
extern const proxy_t proxy_jacov;
extern const proxy_t proxy_synflow;
extern const proxy_t proxy_params;
extern const proxy_t proxy_flops;
extern const proxy_t proxy_oneshot;
extern const proxy_t proxy_aznas;
extern const proxy_t proxy_meco;
extern const proxy_t proxy_swap;
extern const proxy_t proxy_vkdnw;
extern const proxy_t proxy_latency;

const proxy_t *const proxy_table[] = {
    &proxy_sigeo,
    &proxy_zico,
    &proxy_grad_norm,
    &proxy_snip,
    &proxy_fisher,
    &proxy_naswot,
    &proxy_grasp,
    &proxy_jacov,
    &proxy_synflow,
    &proxy_params,
    &proxy_flops,
    &proxy_oneshot,
    &proxy_aznas,
    &proxy_meco,
    &proxy_swap,
    &proxy_vkdnw,
    &proxy_latency,
    NULL,
};
