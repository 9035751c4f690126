/* data.c — image data sets: IDX (MNIST, Fashion-MNIST; gzip or raw) and CIFAR-10 binary,
 * loaded whole into memory as float NCHW in [0,1], then normalized per channel.
 *
 * Every file goes through zlib's gzopen/gzread, which reads gzip and plain files alike,
 * so one reader serves both. The fingerprint is the SHA-256 of the decompressed file
 * contents (images then labels; CIFAR batches in order), so a .gz and a raw copy of the
 * same data agree. */
#include "data/data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "base/util.h"

/* Hard cap on one decompressed file: catches a gzip bomb or a wrong file before we
 * try to allocate for it (CIFAR-10 train batch 30 MB, MNIST train images 47 MB). */
#define DATA_MAX_FILE ((size_t)1 << 31)

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Read a whole (possibly gzip-compressed) file into *buf (malloc'd, caller frees).
 * 0, or -1 (-2: out of memory) with a message naming the file. */
static int read_all(const char *path, unsigned char **buf, size_t *n, char *err, size_t n_err)
{
    *buf = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n_err, "%s: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    gzFile g = gzopen(path, "rb");
    if (!g) {
        snprintf(err, n_err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return -1;
    }
    gzbuffer(g, 1 << 17);
    size_t cap = 1 << 20, len = 0;
    int rc = -1;
    unsigned char *b = malloc(cap);
    if (!b) goto nomem;
    for (;;) {
        if (len == cap) {
            if (cap >= DATA_MAX_FILE) {
                snprintf(err, n_err, "%s: larger than %zu bytes, not a data file", path,
                         (size_t)DATA_MAX_FILE);
                goto fail;
            }
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) goto nomem;
            b = nb;
            cap *= 2;
        }
        size_t want = cap - len;
        if (want > (1u << 30)) want = 1u << 30;
        int r = gzread(g, b + len, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *m = gzerror(g, &zerr);
            snprintf(err, n_err, "%s: read error: %s", path,
                     zerr == Z_ERRNO ? strerror(errno) : m);
            goto fail;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    /* A truncated gzip stream reads as a short file with Z_BUF_ERROR at the end. */
    int zerr;
    const char *m = gzerror(g, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) {
        snprintf(err, n_err, "%s: truncated or corrupt gzip data (%s)", path, m);
        goto fail;
    }
    gzclose(g);
    *buf = b;
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

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void data_free(dataset_t *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

int data_load_idx(dataset_t *d, const char *images, const char *labels, char *err, size_t n_err)
{
    memset(d, 0, sizeof *d);
    unsigned char *ib = NULL, *lb = NULL;
    size_t ni = 0, nl = 0;
    int rc = read_all(images, &ib, &ni, err, n_err);
    if (rc < 0) return rc;
    if ((rc = read_all(labels, &lb, &nl, err, n_err)) < 0) goto fail;
    rc = -1;

    /* Images: magic 0x00000803 (unsigned bytes, 3 dims), n, rows, cols, pixels. */
    if (ni < 16) {
        snprintf(err, n_err, "%s: truncated IDX header (%zu bytes)", images, ni);
        goto fail;
    }
    if (be32(ib) != 0x00000803) {
        snprintf(err, n_err, "%s: wrong magic 0x%08x, expected 0x00000803 (IDX ubyte images)",
                 images, (unsigned)be32(ib));
        goto fail;
    }
    uint32_t n = be32(ib + 4), h = be32(ib + 8), w = be32(ib + 12);
    if (n == 0 || h == 0 || w == 0 || h > 4096 || w > 4096 || n > (1u << 28)) {
        snprintf(err, n_err, "%s: implausible dimensions %ux%ux%u", images, (unsigned)n,
                 (unsigned)h, (unsigned)w);
        goto fail;
    }
    size_t px = (size_t)h * w, want = 16 + (size_t)n * px;
    if (ni != want) {
        snprintf(err, n_err, "%s: %s: %zu bytes, header says %u images of %ux%u (%zu bytes)",
                 images, ni < want ? "truncated" : "trailing bytes", ni, (unsigned)n,
                 (unsigned)h, (unsigned)w, want);
        goto fail;
    }
    /* Labels: magic 0x00000801 (unsigned bytes, 1 dim), n, labels. */
    if (nl < 8) {
        snprintf(err, n_err, "%s: truncated IDX header (%zu bytes)", labels, nl);
        goto fail;
    }
    if (be32(lb) != 0x00000801) {
        snprintf(err, n_err, "%s: wrong magic 0x%08x, expected 0x00000801 (IDX ubyte labels)",
                 labels, (unsigned)be32(lb));
        goto fail;
    }
    uint32_t nlab = be32(lb + 4);
    if (nlab != n) {
        snprintf(err, n_err, "%s has %u labels but %s has %u images", labels, (unsigned)nlab,
                 images, (unsigned)n);
        goto fail;
    }
    if (nl != 8 + (size_t)n) {
        snprintf(err, n_err, "%s: %s: %zu bytes, header says %u labels (%zu bytes)", labels,
                 nl < 8 + (size_t)n ? "truncated" : "trailing bytes", nl, (unsigned)n,
                 8 + (size_t)n);
        goto fail;
    }

    d->n = (int)n;
    d->c = 1;
    d->h = (int)h;
    d->w = (int)w;
    d->x = malloc((size_t)n * px * sizeof(float));
    d->y = malloc((size_t)n * sizeof(int));
    if (!d->x || !d->y) {
        snprintf(err, n_err, "%s: out of memory for %u images", images, (unsigned)n);
        rc = -2;
        goto fail;
    }
    for (size_t i = 0; i < (size_t)n * px; i++) d->x[i] = ib[16 + i] / 255.0f;
    int maxy = 0;
    for (size_t i = 0; i < n; i++) {
        d->y[i] = lb[8 + i];
        if (d->y[i] > maxy) maxy = d->y[i];
    }
    /* IDX does not store the class count; the largest label present decides. */
    d->classes = maxy + 1;

    sha256_t s;
    uint8_t dg[32];
    sha256_init(&s);
    sha256_update(&s, ib, ni);
    sha256_update(&s, lb, nl);
    sha256_final(&s, dg);
    sha256_hex(dg, d->fingerprint);
    free(ib);
    free(lb);
    return 0;
fail:
    free(ib);
    free(lb);
    data_free(d);
    return rc;
}

/* CIFAR-10 binary: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32),
 * already channel-major. files[0..n_files) are concatenated in order. */
#define CIFAR_REC 3073
static int load_cifar(dataset_t *d, char files[][4096], int n_files, char *err, size_t n_err)
{
    memset(d, 0, sizeof *d);
    unsigned char *bufs[8] = {0};
    size_t lens[8] = {0}, total = 0;
    int rc = -1;
    for (int f = 0; f < n_files; f++) {
        if ((rc = read_all(files[f], &bufs[f], &lens[f], err, n_err)) < 0) goto out;
        rc = -1;
        if (lens[f] == 0 || lens[f] % CIFAR_REC != 0) {
            snprintf(err, n_err,
                     "%s: %zu bytes is not a whole number of CIFAR-10 records (%d bytes each)%s",
                     files[f], lens[f], CIFAR_REC, lens[f] ? "; truncated?" : "");
            goto out;
        }
        total += lens[f] / CIFAR_REC;
    }
    d->n = (int)total;
    d->c = 3;
    d->h = 32;
    d->w = 32;
    d->classes = 10;
    d->x = malloc(total * 3072 * sizeof(float));
    d->y = malloc(total * sizeof(int));
    if (!d->x || !d->y) {
        snprintf(err, n_err, "%s: out of memory for %zu images", files[0], total);
        rc = -2;
        goto out;
    }
    sha256_t s;
    sha256_init(&s);
    size_t k = 0;
    for (int f = 0; f < n_files; f++) {
        sha256_update(&s, bufs[f], lens[f]);
        for (size_t r = 0; r < lens[f] / CIFAR_REC; r++, k++) {
            const unsigned char *p = bufs[f] + r * CIFAR_REC;
            if (p[0] > 9) {
                snprintf(err, n_err, "%s: record %zu has label %d, expected 0..9 (not CIFAR-10?)",
                         files[f], r + 1, p[0]);
                goto out;
            }
            d->y[k] = p[0];
            for (int i = 0; i < 3072; i++) d->x[k * 3072 + i] = p[1 + i] / 255.0f;
        }
    }
    uint8_t dg[32];
    sha256_final(&s, dg);
    sha256_hex(dg, d->fingerprint);
    rc = 0;
out:
    for (int f = 0; f < n_files; f++) free(bufs[f]);
    if (rc < 0) data_free(d);
    return rc;
}

/* First existing file among dir/<stem><suffix> for the usual IDX spellings. */
static int find_idx(char *out, size_t n, const char *dir, const char *stem, const char *kind)
{
    static const char *const fmt[] = {"%s/%s-%s-idx%c-ubyte.gz", "%s/%s-%s-idx%c-ubyte",
                                      "%s/%s-%s.idx%c-ubyte.gz", "%s/%s-%s.idx%c-ubyte"};
    char dims = strcmp(kind, "images") == 0 ? '3' : '1';
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        snprintf(out, n, fmt[i], dir, stem, kind, dims);
        if (file_exists(out)) return 0;
    }
    snprintf(out, n, fmt[0], dir, stem, kind, dims);
    return -1;
}

int data_load(dataset_t *d, const char *dir, int train, char *err, size_t n_err)
{
    memset(d, 0, sizeof *d);
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, n_err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, n_err, "%s: not a directory", dir);
        return -1;
    }
    const char *stem = train ? "train" : "t10k";
    char img[4096], lab[4096];
    int hi = find_idx(img, sizeof img, dir, stem, "images");
    int hl = find_idx(lab, sizeof lab, dir, stem, "labels");
    if (hi == 0 || hl == 0) {
        if (hi < 0) {
            snprintf(err, n_err, "%s: missing (found %s)", img, lab);
            return -1;
        }
        if (hl < 0) {
            snprintf(err, n_err, "%s: missing (found %s)", lab, img);
            return -1;
        }
        return data_load_idx(d, img, lab, err, n_err);
    }
    /* CIFAR-10 binary, in dir or in the archive's own subdirectory. */
    static const char *const sub[] = {"", "/cifar-10-batches-bin"};
    for (int s = 0; s < 2; s++) {
        char files[5][4096];
        int n_files = train ? 5 : 1, found = 0;
        for (int f = 0; f < n_files; f++) {
            if (train)
                snprintf(files[f], sizeof files[f], "%s%s/data_batch_%d.bin", dir, sub[s], f + 1);
            else
                snprintf(files[f], sizeof files[f], "%s%s/test_batch.bin", dir, sub[s]);
            found += file_exists(files[f]);
        }
        if (found == 0) continue;
        if (found < n_files) {
            for (int f = 0; f < n_files; f++)
                if (!file_exists(files[f])) {
                    snprintf(err, n_err, "%s: missing (other CIFAR-10 batches are present)",
                             files[f]);
                    return -1;
                }
        }
        return load_cifar(d, files, n_files, err, n_err);
    }
    snprintf(err, n_err,
             "%s: no data set found (expected %s-images-idx3-ubyte[.gz] and "
             "%s-labels-idx1-ubyte[.gz], or CIFAR-10 %s)",
             dir, stem, stem, train ? "data_batch_1..5.bin" : "test_batch.bin");
    return -1;
}

void data_channel_stats(const dataset_t *d, float *mean, float *std)
{
    size_t hw = (size_t)d->h * d->w;
    for (int c = 0; c < d->c; c++) {
        /* Two passes in double: 47M pixels would lose digits in a float sum. */
        double s = 0, ss = 0, cnt = (double)d->n * hw;
        for (int i = 0; i < d->n; i++) {
            const float *p = d->x + ((size_t)i * d->c + c) * hw;
            for (size_t j = 0; j < hw; j++) s += p[j];
        }
        double m = cnt > 0 ? s / cnt : 0;
        for (int i = 0; i < d->n; i++) {
            const float *p = d->x + ((size_t)i * d->c + c) * hw;
            for (size_t j = 0; j < hw; j++) ss += (p[j] - m) * (p[j] - m);
        }
        mean[c] = (float)m;
        std[c] = cnt > 0 ? (float)sqrt(ss / cnt) : 0.0f;
    }
}

void data_normalize(dataset_t *d, const float *mean, const float *std)
{
    size_t hw = (size_t)d->h * d->w;
    for (int c = 0; c < d->c; c++) {
        /* A constant channel (std 0) is only centred. */
        float inv = std[c] > 0 ? 1.0f / std[c] : 1.0f;
        for (int i = 0; i < d->n; i++) {
            float *p = d->x + ((size_t)i * d->c + c) * hw;
            for (size_t j = 0; j < hw; j++) p[j] = (p[j] - mean[c]) * inv;
        }
    }
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int data_subset(dataset_t *out, const dataset_t *in, double fraction, uint64_t seed)
{
    memset(out, 0, sizeof *out);
    if (!(fraction > 0 && fraction <= 1) || in->n <= 0) return -1;
    long k = lround(fraction * in->n);
    if (k < 1) k = 1;
    if (k > in->n) k = in->n;
    int *idx = malloc((size_t)in->n * sizeof(int));
    if (!idx) return -1;
    for (int i = 0; i < in->n; i++) idx[i] = i;
    /* Partial Fisher-Yates: the first k slots are a uniform sample without replacement;
     * sorting them keeps the original order, so fraction 1 is the identity. */
    rng_t r;
    rng_seed(&r, seed);
    for (long i = 0; i < k; i++) {
        long j = i + (long)rng_below(&r, (uint64_t)(in->n - i));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    qsort(idx, (size_t)k, sizeof(int), cmp_int);
    *out = *in;
    out->n = (int)k;
    out->x = malloc((size_t)k * in->c * in->h * in->w * sizeof(float));
    out->y = malloc((size_t)k * sizeof(int));
    if (!out->x || !out->y) {
        free(idx);
        data_free(out);
        return -1;
    }
    data_batch(in, idx, (int)k, out->x, out->y);
    free(idx);
    return 0;
}

void data_batch(const dataset_t *d, const int *idx, int b, float *x, int *y)
{
    size_t sz = (size_t)d->c * d->h * d->w;
    for (int i = 0; i < b; i++) {
        memcpy(x + (size_t)i * sz, d->x + (size_t)idx[i] * sz, sz * sizeof(float));
        y[i] = d->y[idx[i]];
    }
}
