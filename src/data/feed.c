/* feed.c — data sets to batches (feed.h): format lookup, hold-out split, --fraction
 * subsets, normalization statistics. */
#include "data/feed.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_resize.h>

#include "base/util.h"
#include "data/criteo.h"

const char *feed_default_path(int kind) {
    return kind == DATA_CLICKS ? CRITEO_DEFAULT_FILE : DATA_DEFAULT_DIR;
}

void feed_opts_default(feed_opts_t *o, int kind) {
    memset(o, 0, sizeof *o);
    o->data.kind = kind;
    o->data.path = feed_default_path(kind);
    o->data.holdout = 0.1;
    o->data.fraction = o->data.test_fraction = 1;
    o->data.rows = CRITEO_ROWS_DEFAULT;
    o->seed = 1;
    o->fraction = o->test_fraction = 1;
}

void feed_close(feed_t *f) {
    data_free(&f->store[0]);
    data_free(&f->store[1]);
    free(f->row[0]);
    free(f->row[1]);
    free(f->orig[0]);
    free(f->orig[1]);
    memset(f, 0, sizeof *f);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Keep round(fraction*n) of the split's rows (at least 1), drawn by seed without
 * replacement and kept in their original order, so fraction 1 keeps them all. */
static int subset(feed_t *f, int split, double fraction, uint64_t seed) {
    int n = f->n[split];
    if (fraction >= 1 || n == 0) return 0;
    long k = lround(fraction * n);
    if (k < 1) k = 1;
    int *pos = malloc((size_t)n * sizeof(int));
    if (!pos) return -2;
    for (int i = 0; i < n; i++) pos[i] = i;
    rng_t r;
    rng_seed(&r, seed);
    rng_pick(&r, pos, n, k);
    qsort(pos, (size_t)k, sizeof(int), cmp_int);
    if (!(f->orig[split] = malloc((size_t)k * sizeof(int)))) {
        free(pos);
        return -2;
    }
    memcpy(f->orig[split], pos, (size_t)k * sizeof(int));
    for (long i = 0; i < k; i++) pos[i] = f->row[split][pos[i]];
    free(f->row[split]);
    f->row[split] = pos;
    f->n[split] = (int)k;
    return 0;
}

/* Exact per-channel sums of 8-bit values: mean and population std, order-free. */
static void stats_int(const dataset_t *d, const int *rows, int n, float *mean, float *std) {
    size_t hw = (size_t)d->h * d->w, sz = (size_t)d->c * hw;
    for (int c = 0; c < d->c; c++) {
        uint64_t s = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            const uint8_t *p = d->u8 + (size_t)rows[i] * sz + c * hw;
            for (size_t q = 0; q < hw; q++) s += p[q], ss += (uint64_t)p[q] * p[q];
        }
        double cnt = (double)n * hw, m = cnt > 0 ? s / cnt / 255.0 : 0;
        double var = cnt > 0 ? ss / cnt / (255.0 * 255.0) - m * m : 0;
        mean[c] = (float)m;
        std[c] = var > 0 ? (float)sqrt(var) : 0.0f;
    }
}

/* The rows of each split: the data's own test split, or the held-out share of the
 * training store. */
static int split_rows(feed_t *f, const feed_opts_t *o) {
    const dataset_t *tr = &f->store[0];
    int splits_itself = (f->fmt->flags & DATA_FMT_SPLITS) || f->has_test;
    f->src[FEED_TRAIN] = tr;
    f->src[FEED_TEST] = splits_itself ? &f->store[1] : tr;
    f->row[0] = malloc(((size_t)tr->n + 1) * sizeof(int));
    f->row[1] = malloc(((size_t)(splits_itself ? f->store[1].n : tr->n) + 1) * sizeof(int));
    if (!f->row[0] || !f->row[1]) return -2;
    f->n[0] = f->n[1] = 0;
    if (splits_itself) {
        for (int i = 0; i < tr->n; i++) f->row[0][f->n[0]++] = i;
        for (int i = 0; i < f->store[1].n; i++) f->row[1][f->n[1]++] = i;
    } else {
        for (int i = 0; i < tr->n; i++) {
            int held = data_held_out((uint64_t)i + 1, o->data.holdout);
            f->row[held][f->n[held]++] = i;
        }
        if (!o->want_test) f->n[1] = 0;
    }
    return 0;
}

/* --input on data of another size: the store's images resized to in_h x in_w, plane by
 * plane, with the resampler image folders use while decoding (so an IDX set and the same
 * images as PNG give the same pixels). A store of other channels is left for the caller
 * to refuse. 0, or -2 out of memory (err set). */
static int resize_store(dataset_t *d, const data_spec_t *s, char *err, size_t n_err) {
    if (s->in_h <= 0 || s->in_w <= 0 || d->n == 0 || (s->in_c > 0 && s->in_c != d->c) ||
        (d->h == s->in_h && d->w == s->in_w))
        return 0;
    size_t plane = (size_t)s->in_h * (size_t)s->in_w, planes = (size_t)d->n * (size_t)d->c;
    void *out = planes * plane > DATA_MAX_FILE ? NULL : malloc(planes * plane * (d->u8 ? 1 : sizeof(float)));
    if (!out) {
        snprintf(err, n_err, "%s: %d images of %dx%dx%d resized to %dx%d do not fit in memory", s->path,
                 d->n, d->c, d->h, d->w, s->in_h, s->in_w);
        return -2;
    }
    size_t from = (size_t)d->h * (size_t)d->w;
    for (size_t i = 0; i < planes; i++) {
        if (d->u8)
            stbir_resize_uint8(d->u8 + i * from, d->w, d->h, 0, (uint8_t *)out + i * plane, s->in_w, s->in_h, 0, 1);
        else
            stbir_resize_float(d->x + i * from, d->w, d->h, 0, (float *)out + i * plane, s->in_w, s->in_h, 0, 1);
    }
    if (d->u8) free(d->u8), d->u8 = out;
    else free(d->x), d->x = out;
    d->h = s->in_h, d->w = s->in_w;
    return 0;
}

int feed_open(feed_t *f, const feed_opts_t *o, char *err, size_t n_err) {
    memset(f, 0, sizeof *f);
    if (strlen(o->data.path) >= sizeof f->path) {
        snprintf(err, n_err, "data path longer than %zu bytes", sizeof f->path - 1);
        return -1;
    }
    strcpy(f->path, o->data.path);
    if (!(o->fraction > 0 && o->fraction <= 1) || !(o->test_fraction > 0 && o->test_fraction <= 1) ||
        !(o->data.holdout >= 0 && o->data.holdout < 1)) {
        snprintf(err, n_err, "%s: fraction %g, test fraction %g and hold-out %g: want (0,1], "
                 "(0,1] and [0,1)", f->path, o->fraction, o->test_fraction, o->data.holdout);
        return -1;
    }
    if (!(f->fmt = data_find_format(&o->data, err, n_err))) return -1;
    data_spec_t s = o->data;
    s.want_test = o->want_test;
    s.fraction = o->fraction;
    s.test_fraction = o->test_fraction;
    int rc = f->fmt->load(&s, &f->store[0], &f->store[1], &f->has_test, err, n_err);
    if (rc) return rc;
    f->h0 = f->store[0].h, f->w0 = f->store[0].w;
    if (f->fmt->kind == DATA_IMAGES && ((rc = resize_store(&f->store[0], &s, err, n_err)) ||
                                        (rc = resize_store(&f->store[1], &s, err, n_err))))
        return rc;
    const dataset_t *tr = &f->store[0], *te = &f->store[1];
    if (o->want_test && f->has_test && !(f->fmt->flags & DATA_FMT_SPLITS) &&
        (te->c != tr->c || te->h != tr->h || te->w != tr->w || te->classes > tr->classes)) {
        snprintf(err, n_err, "%s: test split is %dx%dx%d with %d classes, training split "
                 "%dx%dx%d with %d", f->path, te->c, te->h, te->w, te->classes, tr->c, tr->h,
                 tr->w, tr->classes);
        return -1;
    }
    if (tr->c > DATA_MAX_CH) {
        snprintf(err, n_err, "%s: %d channels, at most %d supported", f->path, tr->c, DATA_MAX_CH);
        return -1;
    }
    f->kind = f->fmt->kind;
    f->c = tr->c, f->h = tr->h, f->w = tr->w, f->classes = tr->classes, f->dense = tr->dense;
    memcpy(f->fingerprint, tr->fingerprint, sizeof f->fingerprint);
    if ((rc = split_rows(f, o))) return rc;
    f->n_train = f->n[FEED_TRAIN];
    f->normalize = f->kind == DATA_IMAGES;
    if (f->normalize && o->n_norm) {
        if (o->n_norm != f->c) {
            snprintf(err, n_err, "%s: %d channels, the normalization given has %d", f->path, f->c,
                     o->n_norm);
            return -1;
        }
        memcpy(f->mean, o->mean, sizeof(float) * (size_t)f->c);
        memcpy(f->std, o->std, sizeof(float) * (size_t)f->c);
    } else if (f->normalize) {
        if (tr->u8)
            stats_int(tr, f->row[0], f->n[0], f->mean, f->std);
        else
            data_channel_stats(tr, f->row[0], f->n[0], f->mean, f->std);
    }
    if (f->normalize) {
        /* A constant channel (std 0) is only centred. */
        for (int c = 0; c < f->c; c++) f->inv[c] = f->std[c] > 0 ? 1.0f / f->std[c] : 1.0f;
    }
    if (!(f->fmt->flags & DATA_FMT_SPLITS) &&
        ((rc = subset(f, FEED_TRAIN, o->fraction, o->seed ^ SEED_SALT_SUBSET)) ||
         (rc = subset(f, FEED_TEST, o->test_fraction, o->seed ^ SEED_SALT_TEST))))
        snprintf(err, n_err, "out of memory taking data subsets");
    return rc;
}

int feed_split_index(const feed_t *f, int split, int pos) {
    return f->orig[split] ? f->orig[split][pos] : pos;
}

const char *feed_class_names(const feed_t *f) {
    return f->store[0].names;
}

void feed_batch(const feed_t *f, int split, const int *pos, int b, float *x, int *y) {
    const dataset_t *d = f->src[split];
    const int *row = f->row[split];
    size_t hw = (size_t)f->h * f->w, sz = (size_t)f->c * hw;
    for (int i = 0; i < b; i++) {
        int r = row[pos[i]];
        data_batch(d, &r, 1, x + (size_t)i * sz, y + i);
        if (!f->normalize) continue;
        for (int c = 0; c < f->c; c++) {
            float *p = x + (size_t)i * sz + c * hw, m = f->mean[c], inv = f->inv[c];
            for (size_t j = 0; j < hw; j++) p[j] = (p[j] - m) * inv;
        }
    }
}

int feed_option(data_spec_t *s, int ch, const char *arg, char *err, size_t n_err) {
    switch (ch - FEED_OPT) {
    case 0: s->labels = arg; return 0;
    case 1:
        if (strcmp(arg, "nhwc") && strcmp(arg, "nchw")) break;
        s->layout = arg;
        return 0;
    case 2:
        if (util_parse_double(arg, &s->holdout) || !(s->holdout >= 0 && s->holdout < 1)) break;
        return 0;
    case 3: s->label_col = arg; return 0;
    case 4: s->dense_cols = arg; return 0;
    case 5: s->cat_cols = arg; return 0;
    default: return 1;
    }
    static const char *const name[] = {"labels", "layout", "holdout"};
    snprintf(err, n_err, "invalid value for --%s: '%s'", name[ch - FEED_OPT], arg);
    return -1;
}

int feed_open_cli(feed_t *f, const feed_opts_t *o) {
    char err[1024];
    int rc = feed_open(f, o, err, sizeof err);
    if (rc == 0) return EXIT_OK;
    util_err("%s", err);
    feed_close(f);
    return util_load_exit(rc);
}

int feed_option_cli(data_spec_t *s, int ch, const char *arg) {
    char err[256];
    int f = feed_option(s, ch, arg, err, sizeof err);
    if (f < 0) util_err("%s", err);
    return f;
}

/* Append " --name value" to buf (length *l of n), the value quoted as a POSIX shell would
 * read it when it holds anything but [A-Za-z0-9_./,:=+-]: '...', a ' as '\''. */
static void append_option(char *buf, size_t n, size_t *l, const char *name, const char *v) {
    int plain = *v != 0;
    for (const char *p = v; *p && plain; p++)
        plain = isalnum((unsigned char)*p) || strchr("_./,:=+-", *p);
    size_t k = *l;
    if (k < n) k += (size_t)snprintf(buf + k, n - k, "%s--%s %s", k ? " " : "", name, plain ? v : "'");
    for (const char *p = v; !plain && *p && k < n; p++)
        k += (size_t)snprintf(buf + k, n - k, *p == '\'' ? "'\\''" : "%c", *p);
    if (!plain && k < n) k += (size_t)snprintf(buf + k, n - k, "'");
    *l = k;
}

int feed_options_string(const data_spec_t *s, char *buf, size_t n) {
    const char *v[FEED_N_OPTIONS] = {s->labels, s->layout, NULL, s->label_col, s->dense_cols,
                                     s->cat_cols};
    static const char *const name[FEED_N_OPTIONS] = {"labels", "layout", "holdout", "label",
                                                     "dense", "categorical"};
    char h[32], lab[4096];
    if (s->holdout != 0.1) snprintf(h, sizeof h, "%.17g", s->holdout), v[2] = h;
    /* a file: absolute, so the text means the same from any directory */
    if (v[0] && util_abs_path(v[0], lab, sizeof lab) == 0) v[0] = lab;
    size_t l = 0;
    buf[0] = 0;
    for (int i = 0; i < FEED_N_OPTIONS; i++)
        if (v[i]) append_option(buf, n, &l, name[i], v[i]);
    return l < n ? 0 : -1;
}

/* The next shell word of *p (plain characters, '...' quotes, backslash escapes), written
 * over itself; NULL at the end or on an unclosed quote (*bad set). */
static char *next_word(char **p, int *bad) {
    char *r = *p, *w;
    while (*r == ' ') r++;
    if (!*r) return NULL;
    char *word = w = r;
    while (*r && *r != ' ') {
        if (*r == '\'') {
            char *q = strchr(r + 1, '\'');
            if (!q) {
                *bad = 1;
                return NULL;
            }
            memmove(w, r + 1, (size_t)(q - r - 1));
            w += q - r - 1;
            r = q + 1;
        } else if (*r == '\\' && r[1]) {
            *w++ = r[1], r += 2;
        } else {
            *w++ = *r++;
        }
    }
    if (*r) r++;
    *w = 0;
    *p = r;
    return word;
}

int feed_options_parse(data_spec_t *s, const char *text, char *store, size_t n_store, char *err,
                       size_t n_err) {
    static const struct option_row { const char *name; } rows[FEED_N_OPTIONS] = {
        {"labels"}, {"layout"}, {"holdout"}, {"label"}, {"dense"}, {"categorical"}};
    if (strlen(text) >= n_store) {
        snprintf(err, n_err, "data options too long: '%.40s...'", text);
        return -1;
    }
    strcpy(store, text);
    char *p = store, *t;
    int bad = 0;
    while ((t = next_word(&p, &bad))) {
        char *v = next_word(&p, &bad);
        if (bad) break;
        int i = 0;
        while (i < FEED_N_OPTIONS && !(t[0] == '-' && t[1] == '-' && !strcmp(t + 2, rows[i].name))) i++;
        if (i == FEED_N_OPTIONS || !v) {
            snprintf(err, n_err, "data options '%s': '%s' is not a data option with a value", text, t);
            return -1;
        }
        if (feed_option(s, FEED_OPT + i, v, err, n_err)) return -1;
    }
    if (bad) {
        snprintf(err, n_err, "data options '%s': a quote is not closed", text);
        return -1;
    }
    return 0;
}
