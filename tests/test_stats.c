/* test_stats.c — Kendall tau-b, Spearman rho, average ranks and top-k hit rate against
 * values computed independently with scipy 1.10.1 (Debian 12), pasted as literals.
 * Reference command: /usr/bin/python3 with
 *   import scipy.stats as st; st.kendalltau(x, y).statistic; st.spearmanr(x, y).statistic;
 *   st.rankdata(x)
 * on the data below (the LCG data set is generated the same way in Python). */
#include "base/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static int n_fail;

static void close_to(double got, double want, double tol, const char *what) {
    int ok = fabs(got - want) <= tol;
    printf("%s %s: got %.17g want %.17g\n", ok ? "ok" : "NOT OK", what, got, want);
    if (!ok) n_fail++;
}

int main(void) {
    /* Small, with ties in both variables. */
    double x[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
    double y[] = {2, 7, 1, 8, 2, 8, 1, 8, 2, 8, 4, 5};
    size_t n = 12;
    close_to(stats_kendall_tau_b(x, y, n), 0.17109647770728875, 1e-12, "kendall tau-b with ties");
    close_to(stats_spearman(x, y, n), 0.1415796863640157, 1e-12, "spearman with ties");
    /* st.rankdata(x) */
    double want_r[] = {4.5, 1.5, 6.0, 1.5, 8.0, 12.0, 3.0, 10.0, 8.0, 4.5, 8.0, 11.0}, r[12];
    stats_rank(x, n, r);
    double maxd = 0;
    for (size_t i = 0; i < n; i++) maxd = fmax(maxd, fabs(r[i] - want_r[i]));
    close_to(maxd, 0, 0, "average ranks (max difference)");

    /* Top-k with ties broken by position; reference:
     *   top = lambda v, k: set(sorted(range(len(v)), key=lambda i: (-v[i], i))[:k])
     *   len(top(x, k) & top(y, k)) / k */
    close_to(stats_topk_hit(x, y, n, 1), 0.0, 0, "top-1 hit");
    close_to(stats_topk_hit(x, y, n, 3), 2.0 / 3, 1e-15, "top-3 hit");
    close_to(stats_topk_hit(x, y, n, 5), 0.4, 1e-15, "top-5 hit");
    close_to(stats_topk_hit(x, y, n, 50), 1.0, 0, "top-k with k > n is all");

    /* 1000 points from an LCG; y has many ties (20 levels) and depends on x. */
    static double xs[1000], ys[1000];
    uint64_t s = 12345;
    for (int i = 0; i < 1000; i++) {
        s = (s * 1103515245 + 12345) % 2147483648u;
        double a = s / 2147483648.0;
        s = (s * 1103515245 + 12345) % 2147483648u;
        double b = s / 2147483648.0;
        xs[i] = a;
        ys[i] = (double)(int)(20 * (0.6 * a + 0.4 * b));
    }
    close_to(stats_kendall_tau_b(xs, ys, 1000), 0.6368273297277944, 1e-12, "kendall tau-b, n=1000, tied y");
    close_to(stats_spearman(xs, ys, 1000), 0.8251796464930244, 1e-12, "spearman, n=1000, tied y");

    double u[] = {1, 2, 3, 4, 5}, v[] = {5, 4, 3, 2, 1}, c[] = {7, 7, 7, 7, 7};
    close_to(stats_kendall_tau_b(u, v, 5), -1, 1e-15, "kendall of reversed order");
    close_to(stats_spearman(u, v, 5), -1, 1e-15, "spearman of reversed order");
    close_to(stats_kendall_tau_b(u, u, 5), 1, 1e-15, "kendall of identical order");
    int nan_ok = isnan(stats_kendall_tau_b(u, c, 5)) && isnan(stats_spearman(u, c, 5)) &&
                 isnan(stats_kendall_tau_b(u, v, 1)) && isnan(stats_topk_hit(u, v, 5, 0));
    printf("%s undefined cases give NaN\n", nan_ok ? "ok" : "NOT OK");
    n_fail += !nan_ok;
    return n_fail ? 1 : 0;
}
