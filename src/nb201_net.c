/* nb201_net.c — temporary stub so the tools link; the engine engineer replaces it. */
#include "nb201.h"

int nb201_build(net_t *net, const space_cfg_t *c, const arch_t *a) {
    (void)net, (void)c, (void)a;
    return -1;
}

int nb201_declare_supernet(params_t *P, const space_cfg_t *c) {
    (void)P, (void)c;
    return -1;
}
