/* stats.h — rank correlations for comparing proxies with ground truth. */
#ifndef SIGEO_STATS_H
#define SIGEO_STATS_H

#include <stddef.h>

/* Kendall tau-b (ties in either variable handled), O(n log n). NaN if undefined. */
double stats_kendall_tau_b(const double *x, const double *y, size_t n);
/* Spearman rho: Pearson correlation of average ranks. NaN if undefined. */
double stats_spearman(const double *x, const double *y, size_t n);
/* Share of the k items with the highest truth y that are among the k highest x. */
double stats_topk_hit(const double *x, const double *y, size_t n, size_t k);
/* Average ranks (1-based, ties get the mean rank) of v into r. */
void stats_rank(const double *v, size_t n, double *r);

#endif
