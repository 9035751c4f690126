/* nasrec.h — the NASRec-Small search space over Criteo-format click data (docs/nasrec.md).
 *
 * A candidate is a stack of N blocks; block b has 5 genes (g[5b..5b+4]):
 *   dense op (NR_FC, NR_GATE, NR_DP), dense width index into nasrec_dense_widths,
 *   sparse width index into nasrec_sparse_widths (the sparse op is EFC),
 *   dense-input mask and sparse-input mask over the sources 0..b (bit j: source j; source 0
 *   is the raw input, source j >= 1 the output of block j-1); masks are non-empty.
 * Canonical string: "B0:fc64,efc32,d=0,s=0|B1:dp128,efc16,d=0+1,s=1|...". */
#ifndef SIGEO_NASREC_H
#define SIGEO_NASREC_H

#include "spaces/space.h"

enum { NR_FC = 0, NR_GATE, NR_DP, NR_N_OPS };
#define NR_GENES 5
#define NR_MAX_BLOCKS (ARCH_MAX_GENES / NR_GENES)
#define NR_N_DW 8
#define NR_N_SW 4

extern const char *const nasrec_op_names[NR_N_OPS];
extern const int nasrec_dense_widths[NR_N_DW];  /* 16 32 64 128 256 512 768 1024 */
extern const int nasrec_sparse_widths[NR_N_SW]; /* 16 32 48 64 */
extern const space_t space_nasrec;

#endif
