/* darts.h — the DARTS cell space (Liu et al., ICLR 2019; NAS-Bench-301's space): genotype
 * encoding (darts.c) and network (darts_net.c). See docs/darts.md.
 *
 * arch_t: 32 genes, the normal cell then the reduction cell; per cell 8 (op, input) pairs
 * in the genotype string's order, g[16*cell + 2*k] the op id and g[16*cell + 2*k + 1] the
 * input of pair k, which feeds intermediate node k/2 (inputs 0 and 1 are the cell's two
 * inputs, 2 + m is intermediate node m). */
#ifndef SIGEO_DARTS_H
#define SIGEO_DARTS_H

#include "spaces/space.h"

/* Op ids in the order of DARTS' PRIMITIVES. */
enum {
    DA_NONE = 0, DA_MAX3, DA_AVG3, DA_SKIP, DA_SEP3, DA_SEP5, DA_DIL3, DA_DIL5, DA_N_OPS
};
#define DA_STEPS 4                    /* intermediate nodes per cell */
#define DA_PAIRS (2 * DA_STEPS)       /* (op, input) pairs per cell */
#define DA_N_GENES (2 * 2 * DA_PAIRS) /* two cells */
#define DA_STEM_MULT 3                /* stem channels = 3 C, as DARTS' NetworkCIFAR */

extern const char *const darts_op_names[DA_N_OPS];
extern const space_t space_darts;

/* Non-zero if cell i of n cells is a reduction cell (DARTS: i in {n/3, 2n/3}). */
static inline int darts_is_reduction(int i, int n) { return i == n / 3 || i == 2 * n / 3; }

/* Builders (darts_net.c). */
int darts_build(net_t *net, const space_cfg_t *c, const arch_t *a);
int darts_declare_supernet(params_t *P, const space_cfg_t *c);

#endif
