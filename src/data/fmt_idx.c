/* fmt_idx.c — IDX files (MNIST, Fashion-MNIST): a directory holding
 * train-images-idx3-ubyte and train-labels-idx1-ubyte (and t10k-* for the test split),
 * each gzip or plain, spelled with '-' or '.' before idx. Pixels stay 8-bit. The
 * fingerprint is the sha256 of the images file then the labels file (decompressed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

/* The headers say how many bytes each file holds: both are checked before any body is
 * read, and neither file is inflated past its declared size (a gzip bomb stops there). */
int data_load_idx(dataset_t *d, const char *images, const char *labels, char *err, size_t n_err) {
    memset(d, 0, sizeof *d);
    unsigned char *ib = NULL, *lb = NULL, hi[16], hl[8];
    size_t ni = 0, nl = 0;
    int rc = -1;
    if (data_read_head(images, hi, sizeof hi, &ni, err, n_err) < 0) return -1;
    /* Images: magic 0x00000803 (unsigned bytes, 3 dims), n, rows, cols, pixels. */
    if (ni < 16) {
        snprintf(err, n_err, "%s: truncated IDX header (%zu bytes)", images, ni);
        return -1;
    }
    if (data_be32(hi) != 0x00000803) {
        snprintf(err, n_err, "%s: wrong magic 0x%08x, expected 0x00000803 (IDX ubyte images)",
                 images, (unsigned)data_be32(hi));
        return -1;
    }
    uint32_t n = data_be32(hi + 4), h = data_be32(hi + 8), w = data_be32(hi + 12);
    if (n == 0 || h == 0 || w == 0 || h > 4096 || w > 4096) {
        snprintf(err, n_err, "%s: implausible dimensions %ux%ux%u", images, (unsigned)n,
                 (unsigned)h, (unsigned)w);
        return -1;
    }
    size_t px = (size_t)h * w, want = 16 + (size_t)n * px; /* < 2^57: no overflow */
    if (want > DATA_MAX_FILE) {
        snprintf(err, n_err, "%s: header declares %u images of %ux%u (%zu bytes), more than the "
                 "%zu bytes a data file may hold", images, (unsigned)n, (unsigned)h,
                 (unsigned)w, want, (size_t)DATA_MAX_FILE);
        return -1;
    }
    /* Labels: magic 0x00000801 (unsigned bytes, 1 dim), n, labels. */
    if (data_read_head(labels, hl, sizeof hl, &nl, err, n_err) < 0) return -1;
    if (nl < 8) {
        snprintf(err, n_err, "%s: truncated IDX header (%zu bytes)", labels, nl);
        return -1;
    }
    if (data_be32(hl) != 0x00000801) {
        snprintf(err, n_err, "%s: wrong magic 0x%08x, expected 0x00000801 (IDX ubyte labels)",
                 labels, (unsigned)data_be32(hl));
        return -1;
    }
    uint32_t nlab = data_be32(hl + 4);
    if (nlab != n) {
        snprintf(err, n_err, "%s has %u labels but %s has %u images", labels, (unsigned)nlab,
                 images, (unsigned)n);
        return -1;
    }
    const char *why = "its header declares (trailing bytes)";
    if ((rc = data_read_limited(images, want, why, &ib, &ni, err, n_err)) < 0 ||
        (rc = data_read_limited(labels, 8 + (size_t)n, why, &lb, &nl, err, n_err)) < 0)
        goto fail;
    rc = -1;
    if (ni != want) {
        snprintf(err, n_err, "%s: truncated: %zu bytes, header says %u images of %ux%u (%zu bytes)",
                 images, ni, (unsigned)n, (unsigned)h, (unsigned)w, want);
        goto fail;
    }
    if (nl != 8 + (size_t)n) {
        snprintf(err, n_err, "%s: truncated: %zu bytes, header says %u labels (%zu bytes)", labels,
                 nl, (unsigned)n, 8 + (size_t)n);
        goto fail;
    }
    d->y = malloc((size_t)n * sizeof(int));
    if (!d->y) {
        snprintf(err, n_err, "%s: out of memory for %u images", images, (unsigned)n);
        rc = -2;
        goto fail;
    }
    data_sha2(ib, ni, lb, nl, d->fingerprint);
    int maxy = 0;
    for (size_t i = 0; i < n; i++) {
        d->y[i] = lb[8 + i];
        if (d->y[i] > maxy) maxy = d->y[i];
    }
    /* The file's buffer becomes the store: no second copy of the pixels. */
    memmove(ib, ib + 16, (size_t)n * px);
    unsigned char *fit = realloc(ib, (size_t)n * px);
    d->u8 = fit ? fit : ib;
    d->n = (int)n;
    d->c = 1;
    d->h = (int)h;
    d->w = (int)w;
    /* IDX does not store the class count; the largest label present decides. */
    d->classes = maxy + 1;
    free(lb);
    return 0;
fail:
    free(ib);
    free(lb);
    data_free(d);
    return rc;
}

/* First existing file among dir/<stem>-<kind>-idxD-ubyte[.gz] spellings; -1 (out set to
 * the first spelling) when none exists. */
static int find_idx(char *out, size_t n, const char *dir, const char *stem, const char *kind) {
    static const char *const fmt[] = {"%s/%s-%s-idx%c-ubyte.gz", "%s/%s-%s-idx%c-ubyte",
                                      "%s/%s-%s.idx%c-ubyte.gz", "%s/%s-%s.idx%c-ubyte"};
    char dims = strcmp(kind, "images") == 0 ? '3' : '1';
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        snprintf(out, n, fmt[i], dir, stem, kind, dims);
        if (data_is_file(out)) return 0;
    }
    snprintf(out, n, fmt[0], dir, stem, kind, dims);
    return -1;
}

static int probe(const data_spec_t *s) {
    char p[4096];
    return data_is_dir(s->path) && (find_idx(p, sizeof p, s->path, "train", "images") == 0 ||
                                     find_idx(p, sizeof p, s->path, "train", "labels") == 0);
}

/* The pair of stem (train or t10k): 1 if neither file exists, else data_load_idx. */
static int load_pair(const char *dir, const char *stem, dataset_t *d, char *err, size_t n_err) {
    char img[4096], lab[4096];
    int hi = find_idx(img, sizeof img, dir, stem, "images");
    int hl = find_idx(lab, sizeof lab, dir, stem, "labels");
    if (hi < 0 && hl < 0) return 1;
    if (hi < 0 || hl < 0) {
        snprintf(err, n_err, "%s: missing (found %s)", hi < 0 ? img : lab, hi < 0 ? lab : img);
        return -1;
    }
    return data_load_idx(d, img, lab, err, n_err);
}

static int load(const data_spec_t *s, dataset_t *tr, dataset_t *te, int *has_test, char *err,
                size_t n_err) {
    char p[4096];
    *has_test = find_idx(p, sizeof p, s->path, "t10k", "images") == 0 ||
                find_idx(p, sizeof p, s->path, "t10k", "labels") == 0;
    int rc = load_pair(s->path, "train", tr, err, n_err);
    if (rc) return rc < 0 ? rc : -1;
    if (*has_test && s->want_test && (rc = load_pair(s->path, "t10k", te, err, n_err)) < 0) {
        data_free(tr);
        return rc;
    }
    return 0;
}

const data_format_t data_fmt_idx = {"idx", DATA_IMAGES, 0, probe, load};
