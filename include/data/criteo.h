/* criteo.h — the Criteo Kaggle display-advertising line format (which fmt_csv.c reads as
 * its default layout) and the click metrics (log loss, AUC). See docs/nasrec.md.
 *
 * A line is: label \t I1..I13 \t C1..C26 (40 tab-separated fields, any may be empty except
 * the label). Examples become rows of CRITEO_N_COLS floats in a dataset_t (c = 39, h = w = 1,
 * classes = 2): the 13 integer features as log(1 + max(x, 0)) (empty = 0), then the 26
 * categorical ids as floats: bucket 0 for an empty field, otherwise
 * 1 + FNV-1a-64(feature index, string) mod (rows - 1), rows per feature (CRITEO_ROWS_DEFAULT).
 *
 * Which split a line goes to depends only on its 1-based line number (data_held_out), so
 * the held-out set is the same for every tool and every --fraction. */
#ifndef SIGEO_CRITEO_H
#define SIGEO_CRITEO_H

#include <stddef.h>
#include <stdint.h>

#include "data/data.h"

#define CRITEO_N_DENSE 13
#define CRITEO_N_SPARSE 26
#define CRITEO_N_COLS (CRITEO_N_DENSE + CRITEO_N_SPARSE)
#define CRITEO_ROWS_DEFAULT 1000
#define CRITEO_DEFAULT_FILE "data/criteo-synth.tsv"

/* The bucket of categorical feature k (0-based) with value s[0..len): 0 when empty, else
 * 1 + splitmix64(FNV-1a-64 seeded with k) mod (rows - 1). */
uint32_t criteo_bucket(int k, const char *s, size_t len, int rows);

/* Parse one line (without its newline) into row (CRITEO_N_COLS floats) and *label.
 * 0, or -1 with what is wrong in err. */
int criteo_parse_line(const char *line, int rows, float *row, int *label, char *err,
                      size_t n_err);

/* Mean log loss of logits z (n) against labels y in {0,1}. */
double criteo_logloss(const float *z, const int *y, long n);
/* ROC AUC of scores s (n) against labels y (ties count one half); NaN if a class is
 * absent. Allocates a temporary index array (n); NaN if that fails. */
double criteo_auc(const float *s, const int *y, long n);

#endif
