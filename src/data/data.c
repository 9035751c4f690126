/* data.c — what every format shares: the format table and lookup, whole-file reading
 * (gzip or plain through zlib), batch gathering, channel statistics and the hold-out hash.
 *
 * Every file goes through zlib's gzopen/gzread, which reads gzip and plain files alike,
 * so one reader serves both; fingerprints are over the decompressed bytes, so a .gz and a
 * raw copy of the same data agree. */
#include "data/data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "base/util.h"

extern const data_format_t data_fmt_idx, data_fmt_cifar, data_fmt_npy, data_fmt_imgdir,
    data_fmt_csv;

/* Probing order: the first format that accepts a path reads it. */
const data_format_t *const data_formats[] = {
    &data_fmt_idx, &data_fmt_cifar, &data_fmt_npy, &data_fmt_imgdir, &data_fmt_csv, NULL,
};

const data_format_t *data_find_format(const data_spec_t *s, char *err, size_t n_err) {
    struct stat st;
    if (stat(s->path, &st) != 0) {
        snprintf(err, n_err, "%s: %s", s->path, strerror(errno));
        return NULL;
    }
    for (const data_format_t *const *f = data_formats; *f; f++)
        if ((*f)->kind == s->kind && (*f)->probe(s)) return *f;
    if (s->kind == DATA_IMAGES && !S_ISDIR(st.st_mode))
        snprintf(err, n_err, "%s: not a directory, .npy or .npz", s->path);
    else if (s->kind == DATA_IMAGES)
        snprintf(err, n_err,
                 "%s: no data set found (expected train-images-idx3-ubyte[.gz] and "
                 "train-labels-idx1-ubyte[.gz], CIFAR-10 data_batch_1..5.bin, a .npy or .npz, "
                 "or class folders of images)", s->path);
    else
        snprintf(err, n_err, "%s: not a click data file", s->path);
    return NULL;
}

int data_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int data_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

uint32_t data_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void data_sha2(const void *a, size_t na, const void *b, size_t nb, char out[65]) {
    sha256_t s;
    uint8_t dg[32];
    sha256_init(&s);
    sha256_update(&s, a, na);
    if (b) sha256_update(&s, b, nb);
    sha256_final(&s, dg);
    sha256_hex(dg, out);
}

/* gzopen path for reading, after checking with fopen that it can be opened (zlib's
 * errors do not say why). NULL with err. */
static gzFile open_gz(const char *path, char *err, size_t n_err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n_err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    fclose(f);
    gzFile g = gzopen(path, "rb");
    if (!g)
        snprintf(err, n_err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    else
        gzbuffer(g, 1 << 17);
    return g;
}

/* gzread of up to want bytes (any size_t); the count read, or -1 with err. */
static long long gz_read(gzFile g, const char *path, unsigned char *b, size_t want, char *err,
                         size_t n_err) {
    size_t got = 0;
    while (got < want) {
        size_t k = want - got > (1u << 30) ? 1u << 30 : want - got;
        int r = gzread(g, b + got, (unsigned)k);
        if (r < 0) {
            int zerr;
            const char *m = gzerror(g, &zerr);
            snprintf(err, n_err, "%s: read error: %s", path, zerr == Z_ERRNO ? strerror(errno) : m);
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    /* A truncated gzip stream reads as a short file with Z_BUF_ERROR at the end. */
    int zerr;
    const char *m = gzerror(g, &zerr);
    if (got < want && zerr != Z_OK && zerr != Z_STREAM_END) {
        snprintf(err, n_err, "%s: truncated or corrupt gzip data (%s)", path, m);
        return -1;
    }
    return (long long)got;
}

int data_read_head(const char *path, unsigned char *buf, size_t n, size_t *got, char *err,
                   size_t n_err) {
    *got = 0;
    gzFile g = open_gz(path, err, n_err);
    if (!g) return -1;
    long long k = gz_read(g, path, buf, n, err, n_err);
    gzclose(g);
    if (k < 0) return -1;
    *got = (size_t)k;
    return 0;
}

int data_read_limited(const char *path, size_t max, const char *why, unsigned char **buf,
                      size_t *n, char *err, size_t n_err) {
    *buf = NULL;
    *n = 0;
    gzFile g = open_gz(path, err, n_err);
    if (!g) return -1;
    /* grow by doubling up to max: memory follows the bytes that really come, so a file
     * shorter than its header says costs what it holds, not what it declares */
    size_t cap = max < (1u << 20) ? max : 1u << 20, len = 0;
    int rc = -1;
    unsigned char *b = malloc(cap ? cap : 1), extra;
    if (!b) goto nomem;
    for (;;) {
        long long k = gz_read(g, path, b + len, cap - len, err, n_err);
        if (k < 0) goto fail;
        len += (size_t)k;
        if (len < cap) break;
        if (cap == max) { /* full: anything more is over the limit */
            if ((k = gz_read(g, path, &extra, 1, err, n_err)) < 0) goto fail;
            if (k == 0) break;
            if (why)
                snprintf(err, n_err, "%s: longer than the %zu bytes %s", path, max, why);
            else
                snprintf(err, n_err, "%s: larger than %zu bytes, not a data file", path, max);
            goto fail;
        }
        size_t nc = cap > max / 2 ? max : cap * 2;
        unsigned char *nb = realloc(b, nc);
        if (!nb) goto nomem;
        b = nb;
        cap = nc;
    }
    gzclose(g);
    /* give back the doubling slack: the buffer may be the data set's one copy */
    unsigned char *fit = realloc(b, len ? len : 1);
    *buf = fit ? fit : b;
    *n = len;
    return 0;
nomem:
    snprintf(err, n_err, "%s: out of memory", path);
    rc = -2;
fail:
    free(b);
    gzclose(g);
    return rc;
}

int data_read_file(const char *path, unsigned char **buf, size_t *n, char *err, size_t n_err) {
    return data_read_limited(path, DATA_MAX_FILE, NULL, buf, n, err, n_err);
}

void data_free(dataset_t *d) {
    free(d->u8);
    free(d->x);
    free(d->y);
    free(d->names);
    memset(d, 0, sizeof *d);
}

void data_batch(const dataset_t *d, const int *rows, int b, float *x, int *y) {
    size_t sz = (size_t)d->c * d->h * d->w;
    for (int i = 0; i < b; i++) {
        size_t r = (size_t)rows[i];
        if (d->u8) {
            const uint8_t *p = d->u8 + r * sz;
            for (size_t j = 0; j < sz; j++) x[(size_t)i * sz + j] = p[j] / 255.0f;
        } else {
            memcpy(x + (size_t)i * sz, d->x + r * sz, sz * sizeof(float));
        }
        y[i] = d->y[r];
    }
}

/* Value j of example row r as the float the batches carry. */
static inline float value(const dataset_t *d, size_t r, size_t j, size_t sz) {
    return d->u8 ? d->u8[r * sz + j] / 255.0f : d->x[r * sz + j];
}

void data_channel_stats(const dataset_t *d, const int *rows, int n, float *mean, float *std) {
    size_t hw = (size_t)d->h * d->w, sz = (size_t)d->c * hw;
    for (int c = 0; c < d->c; c++) {
        /* Two passes in double: 47M pixels would lose digits in a float sum. */
        double s = 0, ss = 0, cnt = (double)n * hw;
        for (int i = 0; i < n; i++)
            for (size_t j = 0; j < hw; j++) s += value(d, (size_t)rows[i], c * hw + j, sz);
        double m = cnt > 0 ? s / cnt : 0;
        for (int i = 0; i < n; i++)
            for (size_t j = 0; j < hw; j++) {
                double v = value(d, (size_t)rows[i], c * hw + j, sz);
                ss += (v - m) * (v - m);
            }
        mean[c] = (float)m;
        std[c] = cnt > 0 ? (float)sqrt(ss / cnt) : 0.0f;
    }
}

static double unit(uint64_t h) { return (double)(h >> 11) * (1.0 / 9007199254740992.0); }

int data_held_out(uint64_t i, double holdout) {
    return unit(util_mix64(i ^ 0x243f6a8885a308d3ull)) < holdout;
}
