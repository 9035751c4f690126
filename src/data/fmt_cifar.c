/* fmt_cifar.c — CIFAR-10 binary: a directory (or its cifar-10-batches-bin subdirectory)
 * with data_batch_1..5.bin (training) and test_batch.bin, records of 1 label byte and
 * 3072 pixel bytes (R, G, B planes of 32x32, already channel-major). Pixels stay 8-bit;
 * the fingerprint is the sha256 of the batches in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "data/data.h"

#define CIFAR_REC 3073
#define CIFAR_PX 3072

static const char *const sub[] = {"", "/cifar-10-batches-bin"};

/* Paths of the split's batches under the first of sub[] holding any; the count found
 * (0: none). */
static int batch_paths(const char *dir, int train, char files[5][4096], int *n_files) {
    *n_files = train ? 5 : 1;
    for (int s = 0; s < 2; s++) {
        int found = 0;
        for (int f = 0; f < *n_files; f++) {
            if (train)
                snprintf(files[f], 4096, "%s%s/data_batch_%d.bin", dir, sub[s], f + 1);
            else
                snprintf(files[f], 4096, "%s%s/test_batch.bin", dir, sub[s]);
            found += data_is_file(files[f]);
        }
        if (found) return found;
    }
    return 0;
}

static int load_split(dataset_t *d, const char *dir, int train, char *err, size_t n_err) {
    memset(d, 0, sizeof *d);
    char files[5][4096];
    int n_files, found = batch_paths(dir, train, files, &n_files);
    if (found == 0) {
        snprintf(err, n_err, "%s: no CIFAR-10 %s", dir, train ? "data_batch_1..5.bin" : "test_batch.bin");
        return -1;
    }
    for (int f = 0; f < n_files; f++)
        if (!data_is_file(files[f])) {
            snprintf(err, n_err, "%s: missing (other CIFAR-10 batches are present)", files[f]);
            return -1;
        }
    d->c = 3;
    d->h = 32;
    d->w = 32;
    d->classes = 10;
    sha256_t s;
    sha256_init(&s);
    int rc = -1;
    unsigned char *b = NULL;
    /* batch by batch into a growing store: one batch in memory besides the store */
    for (int f = 0; f < n_files; f++) {
        size_t len;
        if ((rc = data_read_file(files[f], &b, &len, err, n_err)) < 0) goto out;
        rc = -1;
        if (len == 0 || len % CIFAR_REC != 0) {
            snprintf(err, n_err,
                     "%s: %zu bytes is not a whole number of CIFAR-10 records (%d bytes each)%s",
                     files[f], len, CIFAR_REC, len ? "; truncated?" : "");
            goto out;
        }
        size_t k = (size_t)d->n, m = len / CIFAR_REC;
        uint8_t *nu = realloc(d->u8, (k + m) * CIFAR_PX);
        if (nu) d->u8 = nu;
        int *ny = nu ? realloc(d->y, (k + m) * sizeof(int)) : NULL;
        if (ny) d->y = ny;
        if (!nu || !ny) {
            snprintf(err, n_err, "%s: out of memory for %zu images", files[f], k + m);
            rc = -2;
            goto out;
        }
        sha256_update(&s, b, len);
        for (size_t r = 0; r < m; r++) {
            const unsigned char *p = b + r * CIFAR_REC;
            if (p[0] > 9) {
                snprintf(err, n_err, "%s: record %zu has label %d, expected 0..9 (not CIFAR-10?)",
                         files[f], r + 1, p[0]);
                goto out;
            }
            d->y[k + r] = p[0];
            memcpy(d->u8 + (k + r) * CIFAR_PX, p + 1, CIFAR_PX);
        }
        d->n = (int)(k + m);
        free(b), b = NULL;
    }
    uint8_t dg[32];
    sha256_final(&s, dg);
    sha256_hex(dg, d->fingerprint);
    rc = 0;
out:
    free(b);
    if (rc < 0) data_free(d);
    return rc;
}

static int probe(const data_spec_t *s) {
    char files[5][4096];
    int n;
    return data_is_dir(s->path) &&
           (batch_paths(s->path, 1, files, &n) > 0 || batch_paths(s->path, 0, files, &n) > 0);
}

static int load(const data_spec_t *s, dataset_t *tr, dataset_t *te, int *has_test, char *err,
                size_t n_err) {
    char files[5][4096];
    int n;
    *has_test = batch_paths(s->path, 0, files, &n) > 0;
    int rc = load_split(tr, s->path, 1, err, n_err);
    if (rc) return rc;
    if (*has_test && s->want_test && (rc = load_split(te, s->path, 0, err, n_err))) {
        data_free(tr);
        return rc;
    }
    return 0;
}

const data_format_t data_fmt_cifar = {"cifar", DATA_IMAGES, 0, probe, load};
