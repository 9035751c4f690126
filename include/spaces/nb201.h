/* nb201.h — NAS-Bench-201 cell encoding and network (docs/records.md, docs/engine.md).
 * Edge order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2, the order of the canonical string
 * |op~0|+|op~0|op~1|+|op~0|op~1|op~2|. Op ids follow NB201's list. */
#ifndef SIGEO_NB201_H
#define SIGEO_NB201_H

#include "spaces/space.h"

enum { NB_NONE = 0, NB_SKIP, NB_CONV1, NB_CONV3, NB_AVG3, NB_N_OPS };
#define NB_N_EDGES 6
#define NB_N_ARCH 15625

extern const char *const nb201_op_names[NB_N_OPS];
extern const space_t space_nb201;

/* index = sum_j op[j] * 5^j over edges j = 0..5 (edge 0 least significant). */
int64_t nb201_index(const int ops[NB_N_EDGES]);
void nb201_ops(int64_t index, int ops[NB_N_EDGES]);

/* Builders (nb201_net.c). */
int nb201_build(net_t *net, const space_cfg_t *c, const arch_t *a);
int nb201_declare_supernet(params_t *P, const space_cfg_t *c);

#endif
