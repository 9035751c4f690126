/* fmt_csv.c — click tables: any delimited text file (tab or comma, gzip or plain), for the
 * click spaces. Columns are chosen by --label, --dense and --categorical (names from a
 * header line, or 1-based numbers and ranges such as 2-14); without a header the defaults
 * are Criteo's layout (label, 13 integer and 26 categorical columns, criteo.h), which this
 * reader turns into the rows of criteo_parse_line (criteo.h). A header is present when the label
 * column of the first line is not 0 or 1, or when a column is given by name.
 *
 * A row is the dense values as log(1 + max(x, 0)) (any number; empty is 0) then the
 * categorical ids as floats (criteo.h's hashing; empty is bucket 0). Fields may be quoted
 * ("a,b" and "" for a quote); CR before LF is dropped; the last line may lack a newline. A
 * line with another number of fields than the first is an error naming it, or skipped and
 * counted with --keep-going. Split and subsets by line number, as criteo.h describes. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/util.h"
#include "data/criteo.h"
#include "data/data.h"

#define CSV_MAX_COLS 4096

typedef struct {
    char *f[CSV_MAX_COLS]; /* fields of the line, NUL-terminated in place */
    int n;
} fields_t;

/* Split line (modified in place) at delim, honouring double quotes. -1 if too many. */
static int split(char *line, char delim, fields_t *fs) {
    fs->n = 0;
    char *p = line;
    for (;;) {
        if (fs->n == CSV_MAX_COLS) return -1;
        char *out = p, *start = p;
        if (*p == '"') { /* quoted: copy down, "" is a quote */
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"') p++;
                *out++ = *p++;
            }
            if (*p == '"') p++;
            while (*p && *p != delim) *out++ = *p++;
        } else {
            while (*p && *p != delim) p++;
            out = p;
        }
        int end = *p == 0;
        *out = 0;
        fs->f[fs->n++] = start;
        if (end) return 0;
        p++;
    }
}

/* Parse a column list ("label", "2-14", "a,b,5") against the header (NULL: numbers only)
 * into idx[]; *n entries. -1 with err. */
static int parse_cols(const char *spec, const fields_t *head, int n_cols, int *idx, int *n,
                      const char *what, char *err, size_t n_err) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", spec);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int a = 0, b = 0, k = -1;
        char tail;
        if (sscanf(t, "%d-%d%c", &a, &b, &tail) == 2 || (sscanf(t, "%d%c", &a, &tail) == 1 && (b = a))) {
            if (a < 1 || b < a || b > n_cols) {
                snprintf(err, n_err, "--%s %s: columns 1..%d", what, t, n_cols);
                return -1;
            }
            for (int c = a; c <= b && *n < CSV_MAX_COLS; c++) idx[(*n)++] = c - 1;
            continue;
        }
        for (int c = 0; head && c < head->n; c++)
            if (!strcmp(head->f[c], t)) k = c;
        if (k < 0) {
            snprintf(err, n_err, "--%s: no column '%s'%s", what, t, head ? " in the header" : " (no header line)");
            return -1;
        }
        idx[(*n)++] = k;
    }
    return 0;
}

typedef struct {
    char delim;
    int label, n_dense, n_cat, n_fields;
    int dense[CSV_MAX_COLS], cat[CSV_MAX_COLS];
} layout_t;

static int has_name(const char *s) {
    for (; s && *s; s++)
        if (isalpha((unsigned char)*s)) return 1;
    return 0;
}

/* The layout from the first line (modified). *header: it is a header. 0 or -1. */
static int plan(const data_spec_t *s, char *first, layout_t *L, int *header, char *err, size_t n_err) {
    static fields_t fs;
    L->delim = strchr(first, '\t') ? '\t' : ',';
    if (split(first, L->delim, &fs)) {
        snprintf(err, n_err, "%s: line 1: more than %d fields", s->path, CSV_MAX_COLS);
        return -1;
    }
    L->n_fields = fs.n;
    const char *lab = s->label_col ? s->label_col : "1";
    int li[CSV_MAX_COLS], nl;
    const char *lv = NULL;
    if (!has_name(lab) && parse_cols(lab, NULL, fs.n, li, &nl, "label", err, n_err) == 0 && nl == 1)
        lv = fs.f[li[0]];
    *header = has_name(lab) || has_name(s->dense_cols) || has_name(s->cat_cols) ||
              !lv || !(strcmp(lv, "0") == 0 || strcmp(lv, "1") == 0);
    const fields_t *head = *header ? &fs : NULL;
    if (!*header && !s->dense_cols && !s->cat_cols && fs.n != 1 + CRITEO_N_COLS) {
        snprintf(err, n_err, "%s: line 1: expected 40 fields (the Criteo layout: no header, "
                 "no --dense/--categorical), found %d", s->path, fs.n);
        return -1;
    }
    if (*header && !s->dense_cols && !s->cat_cols) {
        snprintf(err, n_err, "%s: a header line: say which columns to use with --dense and "
                 "--categorical (names or numbers); the columns are %.200s...", s->path, first);
        return -1;
    }
    if (parse_cols(lab, head, fs.n, li, &nl, "label", err, n_err)) return -1;
    if (nl != 1) {
        snprintf(err, n_err, "--label: one column");
        return -1;
    }
    L->label = li[0];
    if (parse_cols(s->dense_cols ? s->dense_cols : (s->cat_cols ? "" : "2-14"), head, fs.n, L->dense,
                   &L->n_dense, "dense", err, n_err) ||
        parse_cols(s->cat_cols ? s->cat_cols : (s->dense_cols ? "" : "15-40"), head, fs.n, L->cat,
                   &L->n_cat, "categorical", err, n_err))
        return -1;
    if (L->n_dense < 1 || L->n_cat < 1) {
        snprintf(err, n_err, "%s: %d dense and %d categorical columns; the click spaces need at "
                 "least one of each", s->path, L->n_dense, L->n_cat);
        return -1;
    }
    return 0;
}

/* One data line into row and *label. 0, or -1 with why. */
static int parse_row(const layout_t *L, char *line, int rows, float *row, int *label, char *why,
                     size_t n_why) {
    static fields_t fs;
    if (split(line, L->delim, &fs) || fs.n != L->n_fields) {
        snprintf(why, n_why, "%d fields, the first line has %d", fs.n, L->n_fields);
        return -1;
    }
    const char *lv = fs.f[L->label];
    if (strcmp(lv, "0") && strcmp(lv, "1")) {
        snprintf(why, n_why, "label must be 0 or 1, found '%.20s'", lv);
        return -1;
    }
    *label = lv[0] - '0';
    for (int i = 0; i < L->n_dense; i++) {
        const char *v = fs.f[L->dense[i]];
        double x = 0;
        if (*v) {
            char *e;
            errno = 0;
            x = strtod(v, &e);
            if (*e || errno || !isfinite(x)) {
                snprintf(why, n_why, "column %d is not a number: '%.20s'", L->dense[i] + 1, v);
                return -1;
            }
        }
        row[i] = (float)log1p(x > 0 ? x : 0.0);
    }
    for (int k = 0; k < L->n_cat; k++) {
        const char *v = fs.f[L->cat[k]];
        row[L->n_dense + k] = (float)criteo_bucket(k, v, strlen(v), rows);
    }
    return 0;
}

/* A growing split. */
typedef struct {
    long n, cap;
    float *x;
    int *y;
} grow_t;

static int push(grow_t *g, const float *row, int label, int w) {
    if (g->n == g->cap) {
        long nc = g->cap ? g->cap * 2 : 4096;
        float *nx = realloc(g->x, sizeof(float) * (size_t)w * (size_t)nc);
        if (!nx) return -1;
        g->x = nx;
        int *ny = realloc(g->y, sizeof(int) * (size_t)nc);
        if (!ny) return -1;
        g->y = ny, g->cap = nc;
    }
    memcpy(g->x + (size_t)g->n * w, row, sizeof(float) * (size_t)w);
    g->y[g->n++] = label;
    return 0;
}

static void to_dataset(dataset_t *d, grow_t *g, const layout_t *L, const char *fp) {
    memset(d, 0, sizeof *d);
    d->n = (int)g->n, d->c = L->n_dense + L->n_cat, d->h = d->w = 1, d->classes = 2;
    d->dense = L->n_dense;
    d->x = g->x, d->y = g->y;
    g->x = NULL, g->y = NULL;
    memcpy(d->fingerprint, fp, 65);
}

/* Read one line of any length into *line (grown). Its length, 0 at the end, -1 on error. */
static long get_line(gzFile f, char **line, size_t *cap) {
    size_t len = 0;
    for (;;) {
        if (!gzgets(f, *line + len, (int)(*cap - len))) break;
        len += strlen(*line + len);
        if (len && (*line)[len - 1] == '\n') break;
        if (len < *cap - 1) break; /* the last line has no newline */
        char *nl = realloc(*line, *cap * 2);
        if (!nl) return -2;
        *line = nl, *cap *= 2;
    }
    int gerr;
    gzerror(f, &gerr);
    return gerr != Z_OK && gerr != Z_STREAM_END ? -1 : (long)len;
}

static int load(const data_spec_t *s, dataset_t *tr, dataset_t *te, int *has_test, char *err,
                size_t n_err) {
    gzFile f = gzopen(s->path, "rb");
    if (!f) {
        snprintf(err, n_err, "%s: %s", s->path, errno ? strerror(errno) : "cannot open");
        return -1;
    }
    gzbuffer(f, 1 << 17);
    *has_test = 1;
    size_t cap = 4096;
    char *line = malloc(cap), *first = NULL;
    static layout_t L;
    grow_t g[2] = {{0}, {0}};
    sha256_t sh;
    sha256_init(&sh);
    long lineno = 0, skipped = 0, len;
    int rc = -1, header = 0;
    float *row = malloc(sizeof(float) * CSV_MAX_COLS * 2);
    if (!line || !row) goto nomem;
    while ((len = get_line(f, &line, &cap)) > 0) {
        lineno++;
        sha256_update(&sh, line, (size_t)len);
        if (line[len - 1] == '\n') line[--len] = 0;
        if (len && line[len - 1] == '\r') line[--len] = 0;
        if (lineno == 1) {
            if (!(first = strdup(line))) goto nomem;
            if (plan(s, first, &L, &header, err, n_err)) goto out;
            if (header) continue;
        }
        uint64_t h = util_mix64((uint64_t)lineno ^ 0x243f6a8885a308d3ull);
        int held = data_held_out((uint64_t)lineno, s->holdout);
        double keep = (double)(util_mix64(h) >> 11) * (1.0 / 9007199254740992.0);
        if (held ? (!s->want_test || keep >= s->test_fraction) : keep >= s->fraction) continue;
        int label;
        char why[160];
        if (parse_row(&L, line, s->rows, row, &label, why, sizeof why)) {
            if (s->keep_going) {
                skipped++;
                continue;
            }
            snprintf(err, n_err, "%s: line %ld: %s", s->path, lineno, why);
            goto out;
        }
        if (push(&g[held], row, label, L.n_dense + L.n_cat)) goto nomem;
        if (g[held].n > 0x7fffffffL - 1) {
            snprintf(err, n_err, "%s: more than 2^31 examples kept", s->path);
            goto out;
        }
    }
    if (len < 0) {
        if (len == -2) goto nomem;
        snprintf(err, n_err, "%s: line %ld: read error (truncated or corrupt gzip data?)", s->path, lineno + 1);
        goto out;
    }
    if (g[0].n == 0) {
        snprintf(err, n_err, "%s: no training examples (%ld lines read)", s->path, lineno);
        goto out;
    }
    if (skipped) util_msg("%s: skipped %ld bad lines (--keep-going)", s->path, skipped);
    uint8_t dg[32];
    char hex[65];
    sha256_final(&sh, dg);
    sha256_hex(dg, hex);
    to_dataset(tr, &g[0], &L, hex);
    to_dataset(te, &g[1], &L, hex);
    rc = 0;
    goto out;
nomem:
    snprintf(err, n_err, "%s: out of memory after %ld lines", s->path, lineno);
    rc = -2;
out:
    free(g[0].x), free(g[0].y), free(g[1].x), free(g[1].y);
    free(line), free(first), free(row);
    gzclose(f);
    return rc;
}

static int probe(const data_spec_t *s) { return data_is_file(s->path); }

const data_format_t data_fmt_csv = {"csv", DATA_CLICKS, DATA_FMT_SPLITS, probe, load};
