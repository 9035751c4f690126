/* criteo.c — streaming reader for Criteo-format click data and the click metrics.
 * See include/criteo.h for the format, the transforms and the split rule. */
#include "data/criteo.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/util.h"

#define splitmix util_mix64


uint32_t criteo_bucket(int k, const char *s, size_t len, int rows) {
    if (!len) return 0;
    uint64_t h = 14695981039346656037ull ^ (uint64_t)k;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return 1 + (uint32_t)(splitmix(h) % (uint64_t)(rows - 1));
}

int criteo_parse_line(const char *line, int rows, float *row, int *label, char *err,
                      size_t n_err) {
    const char *p = line;
    for (int f = 0; f < 1 + CRITEO_N_COLS; f++) {
        const char *end = strchr(p, '\t');
        if (!end) end = p + strlen(p);
        if (f < CRITEO_N_COLS && *end != '\t') {
            snprintf(err, n_err, "expected %d tab-separated fields, found %d", 1 + CRITEO_N_COLS,
                     f + 1);
            return -1;
        }
        size_t len = (size_t)(end - p);
        if (f == 0) {
            if (len != 1 || (p[0] != '0' && p[0] != '1')) {
                snprintf(err, n_err, "label must be 0 or 1, found '%.*s'", (int)(len > 20 ? 20 : len), p);
                return -1;
            }
            *label = p[0] - '0';
        } else if (f <= CRITEO_N_DENSE) {
            double v = 0;
            if (len) {
                char buf[32], *e;
                if (len >= sizeof buf) goto bad_int;
                memcpy(buf, p, len);
                buf[len] = 0;
                errno = 0;
                long long x = strtoll(buf, &e, 10);
                if (*e || errno) goto bad_int;
                v = log1p(x > 0 ? (double)x : 0.0); /* negatives (a few in Criteo) clamp to 0 */
            }
            row[f - 1] = (float)v;
        } else {
            int k = f - 1 - CRITEO_N_DENSE;
            row[CRITEO_N_DENSE + k] = (float)criteo_bucket(k, p, len, rows);
        }
        if (f < CRITEO_N_COLS) p = end + 1;
        else if (*end) {
            snprintf(err, n_err, "more than %d tab-separated fields", 1 + CRITEO_N_COLS);
            return -1;
        }
        continue;
    bad_int:
        snprintf(err, n_err, "field %d (integer feature I%d) is not an integer: '%.*s'", f + 1, f,
                 (int)(len > 20 ? 20 : len), p);
        return -1;
    }
    return 0;
}

double criteo_logloss(const float *z, const int *y, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) {
        double zb = z[i];
        s += (zb > 0 ? zb : 0) - zb * y[i] + log1p(exp(-fabs(zb)));
    }
    return n ? s / (double)n : NAN;
}

static const float *auc_s;
static int cmp_score(const void *a, const void *b) {
    float x = auc_s[*(const long *)a], y = auc_s[*(const long *)b];
    return (x > y) - (x < y);
}

double criteo_auc(const float *s, const int *y, long n) {
    long *idx = malloc(sizeof(long) * (size_t)(n ? n : 1));
    if (!idx) return NAN;
    for (long i = 0; i < n; i++) idx[i] = i;
    auc_s = s;
    qsort(idx, (size_t)n, sizeof *idx, cmp_score);
    /* Mann-Whitney: sum of the (tie-averaged) ranks of the positives */
    double rank_sum = 0;
    long pos = 0;
    for (long i = 0; i < n;) {
        long j = i;
        while (j < n && s[idx[j]] == s[idx[i]]) j++;
        double r = 0.5 * (double)(i + 1 + j); /* average of ranks i+1..j */
        for (long k = i; k < j; k++)
            if (y[idx[k]]) rank_sum += r, pos++;
        i = j;
    }
    free(idx);
    long neg = n - pos;
    if (pos == 0 || neg == 0) return NAN;
    return (rank_sum - 0.5 * (double)pos * (pos + 1)) / ((double)pos * neg);
}
