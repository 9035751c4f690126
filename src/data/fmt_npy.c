/* fmt_npy.c — NumPy arrays: --data X.npy --labels y.npy, or --data D.npz holding x and y
 * (and x_test, y_test for a test split of its own). Images are uint8 (kept 8-bit) or
 * float32, shaped (N,H,W), (N,H,W,C) or (N,C,H,W): --layout nhwc|nchw, or when not given
 * the 4-d layout whose channel axis is 1 or 3 and smaller than the other two. Labels are
 * any integer dtype with values 0..K-1. Parsed here from the documented .npy header
 * (version 1-3); a .npz is a zip read through zip.c. Fortran order, object arrays and
 * big-endian multi-byte data are refused. The fingerprint is the sha256 of the image
 * array file then the label array file (as stored in the zip: uncompressed bytes). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data/zip.h"

/* One parsed array: its dtype kind ('u', 'i', 'f'), item size, shape and data. */
typedef struct {
    char kind;
    int size, n_dim;
    long shape[4];
    const unsigned char *data;
    size_t n_data;
} npy_t;

/* Header dict value of key (a pointer into h just after "'key':"), or NULL. */
static const char *dict_value(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

/* The longest header read: magic, version, length and a dict of at most 65536 bytes. */
#define NPY_HEAD (12 + 65536)

/* Parse the header at the start of buf (n bytes, at least the header) into a, with a->data
 * the offset of the data from buf; *total: the file size the header declares (at most
 * DATA_MAX_FILE). 0, or -1 with err naming name. */
static int npy_header(const char *name, const unsigned char *buf, size_t n, npy_t *a,
                      size_t *total, char *err, size_t n_err) {
    memset(a, 0, sizeof *a);
    if (n < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        snprintf(err, n_err, "%s: not a .npy file (wrong magic)", name);
        return -1;
    }
    int major = buf[6];
    size_t hl, off;
    if (major == 1) hl = buf[8] | (size_t)buf[9] << 8, off = 10;
    else if ((major == 2 || major == 3) && n >= 12)
        hl = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24, off = 12;
    else {
        snprintf(err, n_err, "%s: unsupported .npy version %d", name, major);
        return -1;
    }
    if (hl > 65536 || off + hl > n) {
        snprintf(err, n_err, "%s: truncated .npy header", name);
        return -1;
    }
    char h[65537];
    memcpy(h, buf + off, hl);
    h[hl] = 0;
    const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"),
               *sh = dict_value(h, "shape");
    if (!d || !fo || !sh || *d != '\'' || *sh != '(') {
        snprintf(err, n_err, "%s: malformed .npy header '%.80s'", name, h);
        return -1;
    }
    if (strncmp(fo, "False", 5) != 0) {
        snprintf(err, n_err, "%s: Fortran-order array; save it C-ordered (np.ascontiguousarray)", name);
        return -1;
    }
    char order = d[1], kind = d[2];
    int size = atoi(d + 3);
    if (kind == 'O' || !strchr("<>|=", order) || !strchr("uif", kind) ||
        !(size == 1 || size == 2 || size == 4 || size == 8) || (kind == 'f' && size != 4)) {
        const char *q = strchr(d + 1, '\'');
        snprintf(err, n_err, "%s: unsupported dtype '%.*s' (want uint8 or float32 data, integer labels)",
                 name, q ? (int)(q - d - 1) : 8, d + 1);
        return -1;
    }
    if (order == '>' && size > 1) {
        snprintf(err, n_err, "%s: big-endian dtype '>%c%d'; save it little-endian (astype('<%c%d'))",
                 name, kind, size, kind, size);
        return -1;
    }
    const char *p = sh + 1;
    size_t bytes = (size_t)size, limit = DATA_MAX_FILE - off - hl;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (!isdigit((unsigned char)*p) || a->n_dim == 4) {
            snprintf(err, n_err, "%s: shape %.40s: want 1 to 4 dimensions", name, sh);
            return -1;
        }
        long v = strtol(p, (char **)&p, 10);
        const char *q = strchr(sh, ')');
        int ns = q && q - sh < 80 ? (int)(q - sh + 1) : 80;
        if (v <= 0 || v > (1L << 31)) {
            snprintf(err, n_err, "%s: shape %.*s: empty or implausible", name, ns, sh);
            return -1;
        }
        a->shape[a->n_dim++] = v;
        /* the product stays <= the limit, so it cannot overflow */
        if ((size_t)v > limit / bytes) {
            snprintf(err, n_err, "%s: shape %.*s of %d-byte values declares more than the %zu "
                     "bytes a data file may hold", name, ns, sh, size, (size_t)DATA_MAX_FILE);
            return -1;
        }
        bytes *= (size_t)v;
    }
    if (a->n_dim == 0) {
        snprintf(err, n_err, "%s: a scalar, not an array", name);
        return -1;
    }
    a->kind = kind, a->size = size;
    a->data = buf + off + hl;
    *total = off + hl + bytes;
    return 0;
}

/* Parse buf (n bytes) as .npy into a. 0, or -1 with err naming name. */
static int npy_parse(const char *name, const unsigned char *buf, size_t n, npy_t *a, char *err,
                     size_t n_err) {
    size_t total;
    if (npy_header(name, buf, n, a, &total, err, n_err)) return -1;
    a->n_data = n - (size_t)(a->data - buf);
    if (n != total) {
        snprintf(err, n_err, "%s: %s: %zu data bytes, shape and dtype say %zu", name,
                 n < total ? "truncated" : "trailing bytes", a->n_data, total - (size_t)(a->data - buf));
        return -1;
    }
    return 0;
}

/* A .npy file (z NULL) or the member file of zip z, its header checked before the body
 * is read (DATA_MAX_FILE, and never more than the header declares); name for messages.
 * 0; 1 when z has no such member; -1 or -2 with err. */
static int npy_read(zip_t *z, const char *file, const char *name, unsigned char **buf, size_t *n,
                    char *err, size_t n_err) {
    unsigned char *head = malloc(NPY_HEAD);
    size_t got, total;
    npy_t a;
    int rc = !head ? -2
             : z   ? zip_read_head(z, file, head, NPY_HEAD, &got, err, n_err)
                   : data_read_head(file, head, NPY_HEAD, &got, err, n_err);
    if (!head) snprintf(err, n_err, "%s: out of memory", name);
    if (rc == 0 && npy_header(name, head, got, &a, &total, err, n_err)) rc = -1;
    free(head);
    if (rc) return rc;
    const char *why = "its .npy header declares (trailing bytes)";
    return z ? zip_read(z, file, total, why, buf, n, err, n_err)
             : data_read_limited(file, total, why, buf, n, err, n_err);
}

/* Integer label i of a 1-d array. */
static long long label_at(const npy_t *a, size_t i) {
    const unsigned char *p = a->data + i * (size_t)a->size;
    unsigned long long u = 0;
    for (int b = a->size - 1; b >= 0; b--) u = u << 8 | p[b];
    if (a->kind == 'i' && a->size < 8 && (u >> (8 * a->size - 1)) & 1) u |= ~0ull << (8 * a->size);
    return (long long)u;
}

/* Images x (whose bytes live in xbuf, which d takes over) and labels y into d.
 * layout: NULL/"" guess, "nhwc" or "nchw". The file's buffer becomes the store: the data
 * is moved to its front and NHWC images are transposed one at a time in place, so the
 * array is in memory once. */
static int to_dataset(dataset_t *d, unsigned char *xbuf, const npy_t *x, const char *xn,
                      const npy_t *y, const char *yn, const char *layout, char *err, size_t n_err) {
    memset(d, 0, sizeof *d);
    if (x->kind == 'i' || (x->kind == 'u' && x->size != 1)) {
        snprintf(err, n_err, "%s: images are %s%d; want uint8 or float32", xn,
                 x->kind == 'u' ? "uint" : "int", 8 * x->size);
        return -1;
    }
    if (x->n_dim < 3) {
        snprintf(err, n_err, "%s: %d dimensions; want (N,H,W), (N,H,W,C) or (N,C,H,W)", xn, x->n_dim);
        return -1;
    }
    if (y->n_dim != 1 || y->kind == 'f') {
        snprintf(err, n_err, "%s: labels must be a 1-d integer array", yn);
        return -1;
    }
    if (y->shape[0] != x->shape[0]) {
        snprintf(err, n_err, "%s has %ld labels but %s has %ld images", yn, y->shape[0], xn, x->shape[0]);
        return -1;
    }
    long n = x->shape[0], c = 1, h = x->shape[1], w = x->shape[2];
    int nhwc = 0;
    if (x->n_dim == 4) {
        long a1 = x->shape[1], a3 = x->shape[3];
        if (layout && *layout) nhwc = strcmp(layout, "nhwc") == 0;
        else if ((a3 == 1 || a3 == 3) && a3 < a1 && a3 < x->shape[2]) nhwc = 1;
        else if (!((a1 == 1 || a1 == 3) && a1 < x->shape[2] && a1 < a3)) {
            snprintf(err, n_err, "%s: shape (%ld,%ld,%ld,%ld): cannot tell channels; give --layout nhwc or nchw",
                     xn, n, a1, x->shape[2], a3);
            return -1;
        }
        c = nhwc ? a3 : a1, h = nhwc ? a1 : x->shape[2], w = nhwc ? x->shape[2] : a3;
    }
    if (c > DATA_MAX_CH || n > (1L << 30)) {
        snprintf(err, n_err, "%s: %ld channels, %ld images: too many", xn, c, n);
        return -1;
    }
    d->y = malloc((size_t)n * sizeof(int));
    if (!d->y) {
        snprintf(err, n_err, "%s: out of memory for %ld labels", yn, n);
        return -2;
    }
    long long maxy = 0;
    for (long i = 0; i < n; i++) {
        long long v = label_at(y, (size_t)i);
        if (v < 0 || v > 1000000) {
            snprintf(err, n_err, "%s: label %lld at index %ld; want 0..K-1", yn, v, i);
            data_free(d);
            return -1;
        }
        d->y[i] = (int)v;
        if (v > maxy) maxy = v;
    }
    size_t sz = (size_t)c * h * w, hw = (size_t)h * w, es = (size_t)x->size, img = sz * es;
    unsigned char *tmp = nhwc && c > 1 ? malloc(img) : NULL;
    if (nhwc && c > 1 && !tmp) {
        data_free(d);
        snprintf(err, n_err, "%s: out of memory", xn);
        return -2;
    }
    memmove(xbuf, x->data, (size_t)n * img);
    for (long i = 0; tmp && i < n; i++) { /* (H,W,C) -> (C,H,W) */
        unsigned char *p = xbuf + (size_t)i * img;
        memcpy(tmp, p, img);
        for (size_t q = 0; q < sz; q++) memcpy(p + q * es, tmp + ((q % hw) * c + q / hw) * es, es);
    }
    free(tmp);
    unsigned char *fit = realloc(xbuf, (size_t)n * img);
    if (!fit) fit = xbuf;
    if (x->kind == 'u') d->u8 = fit;
    else d->x = (float *)(void *)fit;
    d->n = (int)n, d->c = (int)c, d->h = (int)h, d->w = (int)w;
    d->classes = (int)maxy + 1;
    return 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int probe(const data_spec_t *s) {
    return data_is_file(s->path) && (ends_with(s->path, ".npy") || ends_with(s->path, ".npz"));
}

/* A pair of arrays from two files or two zip members into d; 1 when the npz lacks them. */
static int load_pair(const data_spec_t *s, zip_t *z, const char *xk, const char *yk, dataset_t *d,
                     char *err, size_t n_err) {
    unsigned char *xb = NULL, *yb = NULL;
    size_t nx = 0, ny = 0;
    char xn[4200], yn[4200];
    int rc;
    if (z) {
        snprintf(xn, sizeof xn, "%s: %s.npy", s->path, xk);
        snprintf(yn, sizeof yn, "%s: %s.npy", s->path, yk);
        char m[64];
        snprintf(m, sizeof m, "%s.npy", xk);
        if ((rc = npy_read(z, m, xn, &xb, &nx, err, n_err))) return rc;
        snprintf(m, sizeof m, "%s.npy", yk);
        if ((rc = npy_read(z, m, yn, &yb, &ny, err, n_err))) {
            free(xb);
            if (rc == 1) snprintf(err, n_err, "%s has %s.npy but no %s.npy", s->path, xk, yk);
            return rc == 1 ? -1 : rc;
        }
    } else {
        if (!s->labels || !*s->labels) {
            snprintf(err, n_err, "%s: a .npy of images needs --labels FILE.npy", s->path);
            return -1;
        }
        snprintf(xn, sizeof xn, "%s", s->path);
        snprintf(yn, sizeof yn, "%s", s->labels);
        if ((rc = npy_read(NULL, s->path, xn, &xb, &nx, err, n_err)) ||
            (rc = npy_read(NULL, s->labels, yn, &yb, &ny, err, n_err))) {
            free(xb);
            return rc;
        }
    }
    npy_t x, y;
    char fp[65];
    rc = -1;
    if (npy_parse(xn, xb, nx, &x, err, n_err) == 0 && npy_parse(yn, yb, ny, &y, err, n_err) == 0) {
        data_sha2(xb, nx, yb, ny, fp);
        rc = to_dataset(d, xb, &x, xn, &y, yn, s->layout, err, n_err);
    }
    if (rc == 0) memcpy(d->fingerprint, fp, sizeof fp);
    else free(xb);
    free(yb);
    return rc;
}

static int load(const data_spec_t *s, dataset_t *tr, dataset_t *te, int *has_test, char *err,
                size_t n_err) {
    *has_test = 0;
    if (ends_with(s->path, ".npy")) return load_pair(s, NULL, NULL, NULL, tr, err, n_err);
    zip_t *z = NULL;
    int rc = zip_open_file(&z, s->path, err, n_err);
    if (rc) return rc;
    rc = load_pair(s, z, "x", "y", tr, err, n_err);
    if (rc == 1) {
        snprintf(err, n_err, "%s: no x.npy in the archive (want arrays x, y and optionally "
                 "x_test, y_test: np.savez(path, x=..., y=...))", s->path);
        rc = -1;
    }
    if (rc == 0) {
        *has_test = zip_has(z, "x_test.npy");
        if (*has_test && s->want_test) {
            rc = load_pair(s, z, "x_test", "y_test", te, err, n_err);
            if (rc == 0 && (te->c != tr->c || te->h != tr->h || te->w != tr->w)) {
                snprintf(err, n_err, "%s: x_test is %dx%dx%d, x is %dx%dx%d", s->path, te->c,
                         te->h, te->w, tr->c, tr->h, tr->w);
                rc = -1;
            }
            if (rc) data_free(tr), data_free(te);
        }
    }
    zip_close(z);
    return rc;
}

const data_format_t data_fmt_npy = {"npy", DATA_IMAGES, 0, probe, load};
