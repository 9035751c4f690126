/* stats.c — rank correlations (see stats.h). Inputs must be free of NaN; callers drop
 * incomplete pairs first (rank does). */
#include "base/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Stable merge sort of an index array by (a[i], then b[i] if b) ascending, or by
 * a descending when desc. tmp has room for n indices. */
static int less(const double *a, const double *b, int desc, size_t i, size_t j) {
    if (a[i] != a[j]) return desc ? a[i] > a[j] : a[i] < a[j];
    return b ? b[i] < b[j] : 0;
}

static void sort_idx(size_t *idx, size_t *tmp, size_t n, const double *a, const double *b, int desc) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_idx(idx, tmp, h, a, b, desc);
    sort_idx(idx + h, tmp, n - h, a, b, desc);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = less(a, b, desc, idx[j], idx[i]) ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

/* Sorts v in place ascending and returns the number of inversions it had. */
static uint64_t count_inversions(double *v, double *tmp, size_t n) {
    if (n < 2) return 0;
    size_t h = n / 2;
    uint64_t inv = count_inversions(v, tmp, h) + count_inversions(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (v[j] < v[i]) {
            inv += h - i; /* v[j] is smaller than every remaining left element */
            tmp[k++] = v[j++];
        } else {
            tmp[k++] = v[i++];
        }
    }
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
    return inv;
}

/* Pairs tied within runs of equal values of a sorted sequence (by index order). */
static uint64_t tie_pairs(const double *v, const size_t *idx, size_t n, const double *w) {
    uint64_t t = 0, run = 1;
    for (size_t i = 1; i <= n; i++) {
        int same = 0;
        if (i < n) {
            size_t p = idx ? idx[i - 1] : i - 1, q = idx ? idx[i] : i;
            same = v[p] == v[q] && (!w || w[p] == w[q]);
        }
        if (same) {
            run++;
        } else {
            t += run * (run - 1) / 2;
            run = 1;
        }
    }
    return t;
}

/* Knight's algorithm: sort by (x, y), count ties, then count discordant pairs as the
 * inversions of y in that order. */
double stats_kendall_tau_b(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    size_t *idx = malloc(n * sizeof *idx), *tmp = malloc(n * sizeof *tmp);
    double *ys = malloc(n * sizeof *ys), *dt = malloc(n * sizeof *dt);
    double tau = NAN;
    if (idx && tmp && ys && dt) {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        sort_idx(idx, tmp, n, x, y, 0);
        uint64_t xtie = tie_pairs(x, idx, n, NULL), ntie = tie_pairs(x, idx, n, y);
        for (size_t i = 0; i < n; i++) ys[i] = y[idx[i]];
        uint64_t dis = count_inversions(ys, dt, n);
        uint64_t ytie = tie_pairs(ys, NULL, n, NULL);
        double tot = (double)n * (double)(n - 1) / 2;
        double num = tot - (double)xtie - (double)ytie + (double)ntie - 2.0 * (double)dis;
        double den = sqrt(tot - (double)xtie) * sqrt(tot - (double)ytie);
        if (den > 0) tau = num / den;
    }
    free(idx), free(tmp), free(ys), free(dt);
    return tau;
}

void stats_rank(const double *v, size_t n, double *r) {
    size_t *idx = malloc(n * sizeof *idx), *tmp = malloc(n * sizeof *tmp);
    if (!idx || !tmp) {
        for (size_t i = 0; i < n; i++) r[i] = NAN;
        free(idx), free(tmp);
        return;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_idx(idx, tmp, n, v, NULL, 0);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[idx[j]] == v[idx[i]]) j++;
        double avg = (double)(i + 1 + j) / 2; /* mean of ranks i+1 .. j */
        for (size_t k = i; k < j; k++) r[idx[k]] = avg;
        i = j;
    }
    free(idx), free(tmp);
}

double stats_spearman(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    double rho = NAN;
    if (rx && ry) {
        stats_rank(x, n, rx);
        stats_rank(y, n, ry);
        double mx = 0, my = 0;
        for (size_t i = 0; i < n; i++) mx += rx[i], my += ry[i];
        mx /= (double)n, my /= (double)n;
        double sxy = 0, sxx = 0, syy = 0;
        for (size_t i = 0; i < n; i++) {
            double a = rx[i] - mx, b = ry[i] - my;
            sxy += a * b, sxx += a * a, syy += b * b;
        }
        if (sxx > 0 && syy > 0) rho = sxy / sqrt(sxx * syy);
    }
    free(rx), free(ry);
    return rho;
}

/* Ties at the k-th place are broken by position (earlier items first), so the result is
 * deterministic for a given input order. */
double stats_topk_hit(const double *x, const double *y, size_t n, size_t k) {
    if (k > n) k = n;
    if (k == 0) return NAN;
    size_t *ix = malloc(n * sizeof *ix), *iy = malloc(n * sizeof *iy), *tmp = malloc(n * sizeof *tmp);
    char *top = calloc(n, 1);
    double hit = NAN;
    if (ix && iy && tmp && top) {
        for (size_t i = 0; i < n; i++) ix[i] = iy[i] = i;
        sort_idx(ix, tmp, n, x, NULL, 1);
        sort_idx(iy, tmp, n, y, NULL, 1);
        for (size_t i = 0; i < k; i++) top[iy[i]] = 1;
        size_t h = 0;
        for (size_t i = 0; i < k; i++) h += top[ix[i]];
        hit = (double)h / (double)k;
    }
    free(ix), free(iy), free(tmp), free(top);
    return hit;
}

static const double *g_sort_v; /* qsort has no context argument */
static int cmp_nan_first(const void *a, const void *b) {
    double x = g_sort_v[*(const size_t *)a], y = g_sort_v[*(const size_t *)b];
    if (isnan(x) || isnan(y)) return isnan(x) && isnan(y) ? 0 : isnan(x) ? -1 : 1;
    return x < y ? -1 : x > y;
}

int stats_rank_aggregate(double *const *v, int m, size_t n, int use_log, double *out) {
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!ord) return -1;
    for (size_t i = 0; i < n; i++) out[i] = 0;
    for (int k = 0; k < m; k++) {
        for (size_t i = 0; i < n; i++) ord[i] = i;
        g_sort_v = v[k];
        qsort(ord, n, sizeof *ord, cmp_nan_first); /* NaN first: the worst */
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            double vi = v[k][ord[i]];
            while (j < n && (isnan(vi) ? isnan(v[k][ord[j]]) : v[k][ord[j]] == vi)) j++;
            double r = (double)(i + 1 + j) / 2 / (double)n; /* mean of ranks i+1 .. j, over n */
            for (size_t q = i; q < j; q++) out[ord[q]] += use_log ? log(r) : r;
            i = j;
        }
    }
    free(ord);
    return 0;
}

static int dominates(const double *a, const double *b, int n) {
    int better = 0;
    for (int i = 0; i < n; i++) {
        if (a[i] < b[i]) return 0;
        better |= a[i] > b[i];
    }
    return better;
}

static int pv_n;
static int lex_desc(const void *x, const void *y) {
    const double *a = g_sort_v + *(const size_t *)x * (size_t)pv_n;
    const double *b = g_sort_v + *(const size_t *)y * (size_t)pv_n;
    for (int i = 0; i < pv_n; i++)
        if (a[i] != b[i]) return a[i] > b[i] ? -1 : 1;
    return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* Sorted lexicographically best first, a point can only be dominated by one before it, and
 * a dominated one is dominated by a member of the front, so each point is compared with
 * the front found so far. */
int stats_pareto_front(const double *v, size_t N, int n, unsigned char *keep) {
    size_t n_front = 0;
    size_t *ord = malloc((N ? N : 1) * sizeof *ord), *front = malloc((N ? N : 1) * sizeof *front);
    if (!ord || !front) {
        free(ord), free(front);
        return -1;
    }
    for (size_t i = 0; i < N; i++) ord[i] = i, keep[i] = 0;
    g_sort_v = v, pv_n = n;
    qsort(ord, N, sizeof *ord, lex_desc);
    for (size_t i = 0; i < N; i++) {
        const double *a = v + ord[i] * (size_t)n;
        size_t j = 0;
        while (j < n_front && !dominates(v + front[j] * (size_t)n, a, n)) j++;
        if (j < n_front) continue;
        front[n_front++] = ord[i];
        keep[ord[i]] = 1;
    }
    free(ord), free(front);
    return 0;
}
