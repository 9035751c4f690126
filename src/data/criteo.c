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

void criteo_opts_default(criteo_opts_t *o) {
    o->rows = CRITEO_ROWS_DEFAULT;
    o->limit = 0;
    o->holdout = 0.1;
    o->fraction = 1.0;
    o->test_fraction = 1.0;
    o->want_test = 1;
}

#define splitmix util_mix64

static double unit(uint64_t h) { return (double)(h >> 11) * (1.0 / 9007199254740992.0); }

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

/* A growing set of examples. */
typedef struct {
    long n, cap;
    float *x;
    int *y;
} grow_t;

static int grow_push(grow_t *g, const float *row, int label) {
    if (g->n == g->cap) {
        long nc = g->cap ? g->cap * 2 : 4096;
        float *nx = realloc(g->x, sizeof(float) * CRITEO_N_COLS * (size_t)nc);
        if (!nx) return -1;
        g->x = nx;
        int *ny = realloc(g->y, sizeof(int) * (size_t)nc);
        if (!ny) return -1;
        g->y = ny;
        g->cap = nc;
    }
    memcpy(g->x + (size_t)g->n * CRITEO_N_COLS, row, sizeof(float) * CRITEO_N_COLS);
    g->y[g->n++] = label;
    return 0;
}

static void to_dataset(dataset_t *d, grow_t *g, const char *fp) {
    memset(d, 0, sizeof *d);
    d->n = (int)g->n;
    d->c = CRITEO_N_COLS;
    d->dense = CRITEO_N_DENSE;
    d->h = d->w = 1;
    d->classes = 2;
    d->x = g->x;
    d->y = g->y;
    memcpy(d->fingerprint, fp, 65);
}

int criteo_load(dataset_t *train, dataset_t *test, const char *path, const criteo_opts_t *o,
                char *err, size_t n_err) {
    if (o->rows < 2 || !(o->holdout >= 0 && o->holdout < 1) ||
        !(o->fraction > 0 && o->fraction <= 1) || !(o->test_fraction > 0 && o->test_fraction <= 1)) {
        snprintf(err, n_err, "%s: bad reader options", path);
        return -1;
    }
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, n_err, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return -1;
    }
    gzbuffer(f, 1 << 17);
    size_t cap = 4096, len = 0;
    char *line = malloc(cap);
    grow_t tr = {0}, te = {0};
    sha256_t sh;
    sha256_init(&sh);
    long lineno = 0;
    int rc = -1, eof = 0;
    if (!line) {
        snprintf(err, n_err, "out of memory");
        rc = -2;
        goto out;
    }
    while (!eof && (o->limit == 0 || lineno < o->limit)) {
        /* one line of any length */
        len = 0;
        for (;;) {
            if (!gzgets(f, line + len, (int)(cap - len))) {
                eof = 1;
                break;
            }
            len += strlen(line + len);
            if (len && line[len - 1] == '\n') break;
            if (len < cap - 1) break; /* the last line has no newline */
            char *nl = realloc(line, cap * 2);
            if (!nl) {
                snprintf(err, n_err, "out of memory");
                rc = -2;
                goto out;
            }
            line = nl, cap *= 2;
        }
        int gerr;
        const char *gmsg = gzerror(f, &gerr);
        if (gerr != Z_OK && gerr != Z_STREAM_END) {
            snprintf(err, n_err, "%s: line %ld: read error: %s", path, lineno + 1, gmsg);
            goto out;
        }
        if (len == 0) break;
        lineno++;
        sha256_update(&sh, line, len);
        if (line[len - 1] == '\n') line[--len] = 0;
        if (len && line[len - 1] == '\r') line[--len] = 0;
        uint64_t h = splitmix((uint64_t)lineno ^ 0x243f6a8885a308d3ull);
        int held = unit(h) < o->holdout;
        double keep = unit(splitmix(h));
        if (held ? (!o->want_test || keep >= o->test_fraction) : keep >= o->fraction) continue;
        float row[CRITEO_N_COLS];
        int label;
        char why[160];
        if (criteo_parse_line(line, o->rows, row, &label, why, sizeof why)) {
            snprintf(err, n_err, "%s: line %ld: %s", path, lineno, why);
            goto out;
        }
        if (grow_push(held ? &te : &tr, row, label)) {
            snprintf(err, n_err, "out of memory after %ld lines of %s", lineno, path);
            rc = -2;
            goto out;
        }
        if (tr.n > 0x7fffffffL - 1 || te.n > 0x7fffffffL - 1) {
            snprintf(err, n_err, "%s: more than 2^31 examples kept (use --limit)", path);
            goto out;
        }
    }
    if (tr.n == 0) {
        snprintf(err, n_err, "%s: no training examples (%ld lines read)", path, lineno);
        goto out;
    }
    uint8_t dg[32];
    char hex[65];
    sha256_final(&sh, dg);
    sha256_hex(dg, hex);
    to_dataset(train, &tr, hex);
    tr.x = NULL, tr.y = NULL;
    if (test) {
        to_dataset(test, &te, hex);
        te.x = NULL, te.y = NULL;
    }
    rc = 0;
out:
    free(tr.x), free(tr.y), free(te.x), free(te.y);
    free(line);
    gzclose(f);
    return rc;
}

/* ---- metrics ----------------------------------------------------------------------------- */

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
