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
/* Rank aggregation over m lists of n values each (larger is better, NaN worst): per list,
 * ranks 1..n from worst to best, ties sharing their mean rank; out[i] = the sum over lists
 * of rank/n, or with use_log of log(rank/n) (AZ-NAS). 0, or -1 out of memory. */
int stats_rank_aggregate(double *const *v, int m, size_t n, int use_log, double *out);
/* keep[i] = 1 if no other of the N points v[i*n .. i*n+n-1] dominates point i (at least as
 * large in every coordinate, larger in one); equal points all stay. 0, or -1 out of memory. */
int stats_pareto_front(const double *v, size_t N, int n, unsigned char *keep);

#endif
