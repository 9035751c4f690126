/* synth.h — synthetic click data in the Criteo Kaggle format (label, 13 integer and 26
 * categorical features, tab-separated) from a hidden teacher model with feature
 * interactions, so that recommender architectures really differ in quality
 * (gen-criteo, docs/nasrec.md). The same seed gives the same lines.
 *
 * Teacher (all of it drawn from the seed):
 *   dense:  I_j = floor(exp(N(mu_j, s_j))) - 1 (a few slightly negative, as in Criteo),
 *           empty with probability m_j; d_j = log1p(max(I_j, 0)) standardized.
 *   sparse: feature k has V_k values (3 .. 20000); value v = floor(V_k * u^3) (skewed
 *           popularity), empty with probability 0.03; written as 8 hex digits of a hash.
 *   logit = b + sum_k w_k[v_k]                        first-order categorical terms
 *             + a . tanh(A d)                         an MLP on the dense features
 *             + sum_{(k,l) in pairs} <e_k[v_k], e_l[v_l]>  pairwise categorical interactions
 *             + sum_{k in dsk} <P_k d, e_k[v_k]>      dense x categorical interactions
 *   rescaled to standard deviation 2 (on a calibration sample) and shifted for a click rate
 *   near 25%; label ~ Bernoulli(sigmoid(logit)). */
#ifndef SIGEO_DATA_SYNTH_H
#define SIGEO_DATA_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/* A line is at most this long, with its newline. */
#define SYNTH_LINE_MAX 1024

typedef struct synth synth_t;

/* The teacher of seed, calibrated, and its example stream. NULL out of memory;
 * synth_free frees it. */
synth_t *synth_new(uint64_t seed);
void synth_free(synth_t *t);
/* The next example as a line ending in '\n' into line (SYNTH_LINE_MAX bytes); its length. */
int synth_line(synth_t *t, char *line);

#endif
