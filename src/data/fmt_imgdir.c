/* fmt_imgdir.c — image folders as most training code lays them out: DIR/<class>/<file>
 * with <file> a .png, .jpg or .jpeg (classes and files sorted by name), or DIR/train/<class>/...
 * with DIR/test/<class>/... as the test split. Decoded with stb_image (libstb), grey when
 * every image is grey (a JPEG counts as RGB: encoders store grey as YCbCr), else RGB,
 * unless --input says; resized with stb_image_resize to
 * --input's size, and without --input every image must have one size. The fingerprint
 * is the sha256 of every file's class, name and bytes in order. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "base/util.h"
#include "data/data.h"

#define IMGDIR_MAX_CLASSES 4096
/* Pixels of one image (8192 x 8192): its header's size is checked before decoding, so a
 * small file declaring a huge image is refused instead of inflated. */
#define IMGDIR_MAX_PIXELS (1L << 26)

/* 0 if the size an image's header declares is within IMGDIR_MAX_PIXELS, else -1 with err. */
static int size_ok(const char *path, int x, int y, char *err, size_t n_err) {
    if ((long)x * y <= IMGDIR_MAX_PIXELS) return 0;
    snprintf(err, n_err, "%s: header declares %dx%d pixels, more than the %ld an image may have",
             path, x, y, IMGDIR_MAX_PIXELS);
    return -1;
}

typedef struct {
    char **path; /* every file, class by class */
    int *y, n, cap;
    char **cls;  /* class names, sorted */
    int n_cls;
} listing_t;

static void listing_free(listing_t *l) {
    for (int i = 0; i < l->n; i++) free(l->path[i]);
    for (int i = 0; i < l->n_cls; i++) free(l->cls[i]);
    free(l->path), free(l->y), free(l->cls);
    memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* Sorted names of dir's entries that are directories (dirs=1) or image files (dirs=0).
 * *names is malloc'd (free each and it). -1 when dir cannot be read. */
static int list_dir(const char *dir, int dirs, char ***names, int *n) {
    *names = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    int cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (dirs ? !data_is_dir(p) : !(data_is_file(p) && is_image(e->d_name))) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(*names, (size_t)cap * sizeof *nn);
            if (!nn) break;
            *names = nn;
        }
        if (!((*names)[*n] = strdup(e->d_name))) break;
        ++*n;
    }
    closedir(d);
    if (*n) qsort(*names, (size_t)*n, sizeof **names, cmp_str); /* names is NULL when empty */
    return 0;
}

/* Every image of root/<class>/ into l; classes: the given list (the training split's) or
 * root's own. 0, or -1 with err. */
static int list_split(const char *root, char **classes, int n_classes, listing_t *l, char *err,
                      size_t n_err) {
    memset(l, 0, sizeof *l);
    if (classes) {
        l->cls = calloc((size_t)n_classes, sizeof *l->cls);
        for (int k = 0; l->cls && k < n_classes; k++) l->cls[l->n_cls++] = strdup(classes[k]);
    } else if (list_dir(root, 1, &l->cls, &l->n_cls) < 0) {
        snprintf(err, n_err, "%s: cannot read the directory", root);
        return -1;
    }
    if (l->n_cls == 0 || l->n_cls > IMGDIR_MAX_CLASSES) {
        snprintf(err, n_err, "%s: %d class folders, want 1 to %d", root, l->n_cls, IMGDIR_MAX_CLASSES);
        return -1;
    }
    for (int k = 0; k < l->n_cls; k++) {
        char cd[8192], **files;
        int nf;
        snprintf(cd, sizeof cd, "%s/%s", root, l->cls[k]);
        if (list_dir(cd, 0, &files, &nf) < 0) {
            if (classes) continue; /* a test split may lack a class */
            snprintf(err, n_err, "%s: cannot read the directory", cd);
            return -1;
        }
        if (nf == 0 && !classes) {
            snprintf(err, n_err, "%s: empty class folder (no .png, .jpg or .jpeg)", cd);
            free(files);
            return -1;
        }
        for (int i = 0; i < nf; i++) {
            if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 1024;
                char **np = realloc(l->path, (size_t)l->cap * sizeof *np);
                int *ny = realloc(l->y, (size_t)l->cap * sizeof *ny);
                if (np) l->path = np;
                if (ny) l->y = ny;
                if (!np || !ny) return -2;
            }
            size_t len = strlen(cd) + strlen(files[i]) + 2;
            if (!(l->path[l->n] = malloc(len))) return -2;
            snprintf(l->path[l->n], len, "%s/%s", cd, files[i]);
            l->y[l->n++] = k;
            free(files[i]);
        }
        free(files);
    }
    if (l->n == 0) {
        snprintf(err, n_err, "%s: no images", root);
        return -1;
    }
    return 0;
}

/* The size and channels to decode to: --input's, else the data's own (one size; grey if
 * every image is grey). 0 or -1 with err. */
static int pick_shape(const data_spec_t *s, const listing_t *l, int *c, int *h, int *w, char *err,
                      size_t n_err) {
    int grey = 1, h0 = 0, w0 = 0, n0 = 0, h1 = 0, w1 = 0;
    const char *odd = NULL;
    for (int i = 0; i < l->n; i++) {
        int x, y, comp;
        if (!stbi_info(l->path[i], &x, &y, &comp)) {
            snprintf(err, n_err, "%s: cannot decode: %s", l->path[i], stbi_failure_reason());
            return -1;
        }
        if (size_ok(l->path[i], x, y, err, n_err)) return -1;
        grey &= comp <= 2;
        if (n0 == 0) h0 = y, w0 = x;
        if (y == h0 && x == w0) n0++;
        else if (!odd) odd = l->path[i], h1 = y, w1 = x;
    }
    if (s->in_c > 0) {
        *c = s->in_c, *h = s->in_h, *w = s->in_w;
        if (*c != 1 && *c != 3) {
            snprintf(err, n_err, "--input %dx%dx%d: images are read as 1 (grey) or 3 (RGB) channels",
                     *c, *h, *w);
            return -1;
        }
        return 0;
    }
    if (odd) {
        snprintf(err, n_err, "%s is %dx%d, %s is %dx%d: images of mixed sizes; give --input "
                 "%dx%dx%d (or another size) to resize them", odd, w1, h1, l->path[0], w0, h0,
                 grey ? 1 : 3, h0, w0);
        return -1;
    }
    *c = grey ? 1 : 3, *h = h0, *w = w0;
    return 0;
}

/* Decode every image of l into d (c,h,w); the fingerprint hashes each path past its
 * first skip bytes (the root: "class/name"), so it does not depend on how --data was
 * spelled. 0, -1 or -2 with err. */
static int decode(const listing_t *l, size_t skip, int c, int h, int w, dataset_t *d, char *err,
                  size_t n_err) {
    memset(d, 0, sizeof *d);
    size_t sz = (size_t)c * h * w;
    d->u8 = malloc((size_t)l->n * sz);
    d->y = malloc((size_t)l->n * sizeof(int));
    unsigned char *hwc = malloc(sz);
    if (!d->u8 || !d->y || !hwc) {
        free(hwc);
        snprintf(err, n_err, "out of memory for %d images of %dx%dx%d", l->n, c, h, w);
        return -2;
    }
    sha256_t s;
    sha256_init(&s);
    for (int i = 0; i < l->n; i++) {
        unsigned char *file;
        size_t nb;
        int rc = data_read_file(l->path[i], &file, &nb, err, n_err), x, y, comp;
        if (rc) {
            free(hwc);
            return rc;
        }
        sha256_update(&s, l->path[i] + skip, strlen(l->path[i] + skip) + 1);
        sha256_update(&s, file, nb);
        int len = nb > INT_MAX ? INT_MAX : (int)nb; /* a longer file fails to decode */
        if (stbi_info_from_memory(file, len, &x, &y, &comp) && size_ok(l->path[i], x, y, err, n_err)) {
            free(file);
            free(hwc);
            return -1;
        }
        unsigned char *px = stbi_load_from_memory(file, len, &x, &y, &comp, c);
        free(file);
        if (!px) {
            snprintf(err, n_err, "%s: cannot decode: %s", l->path[i], stbi_failure_reason());
            free(hwc);
            return -1;
        }
        if (x == w && y == h) memcpy(hwc, px, sz);
        else stbir_resize_uint8(px, x, y, 0, hwc, w, h, 0, c);
        stbi_image_free(px);
        /* (H,W,C) -> (C,H,W) */
        for (size_t q = 0; q < sz; q++) d->u8[(size_t)i * sz + (q % c) * h * w + q / c] = hwc[q];
        d->y[i] = l->y[i];
    }
    free(hwc);
    uint8_t dg[32];
    sha256_final(&s, dg);
    sha256_hex(dg, d->fingerprint);
    d->n = l->n, d->c = c, d->h = h, d->w = w, d->classes = l->n_cls;
    return 0;
}

/* The root holding the class folders of the training split: DIR/train if it exists. */
static void train_root(const char *dir, char *out, size_t n) {
    snprintf(out, n, "%s/train", dir);
    if (!data_is_dir(out)) snprintf(out, n, "%s", dir);
}

static int probe(const data_spec_t *s) {
    if (!data_is_dir(s->path)) return 0;
    char root[4096], **cls;
    int n_cls, found = 0;
    train_root(s->path, root, sizeof root);
    if (list_dir(root, 1, &cls, &n_cls) < 0) return 0;
    for (int k = 0; k < n_cls; k++) {
        char cd[8192], **files;
        int nf;
        snprintf(cd, sizeof cd, "%s/%s", root, cls[k]);
        if (!found && list_dir(cd, 0, &files, &nf) == 0) {
            found = nf > 0;
            for (int i = 0; i < nf; i++) free(files[i]);
            free(files);
        }
        free(cls[k]);
    }
    free(cls);
    return found;
}

static int load(const data_spec_t *s, dataset_t *tr, dataset_t *te, int *has_test, char *err,
                size_t n_err) {
    char root[4096], troot[4096];
    train_root(s->path, root, sizeof root);
    snprintf(troot, sizeof troot, "%s/test", s->path);
    *has_test = strcmp(root, s->path) != 0 && data_is_dir(troot);
    listing_t l, lt = {0};
    int c, h, w, rc = list_split(root, NULL, 0, &l, err, n_err);
    if (rc == 0) rc = pick_shape(s, &l, &c, &h, &w, err, n_err);
    if (rc == 0) rc = decode(&l, strlen(root) + 1, c, h, w, tr, err, n_err);
    if (rc == 0 && *has_test && s->want_test) {
        rc = list_split(troot, l.cls, l.n_cls, &lt, err, n_err);
        if (rc == 0) rc = decode(&lt, strlen(troot) + 1, c, h, w, te, err, n_err);
        if (rc == 0) te->classes = tr->classes;
    }
    if (rc == 0) {
        /* class names, back to back, for results that name them */
        size_t len = 0;
        for (int k = 0; k < l.n_cls; k++) len += strlen(l.cls[k]) + 1;
        if ((tr->names = malloc(len))) {
            char *p = tr->names;
            for (int k = 0; k < l.n_cls; k++) p = stpcpy(p, l.cls[k]) + 1;
        }
    }
    if (rc == -2 && !err[0]) snprintf(err, n_err, "%s: out of memory listing the images", root);
    if (rc) data_free(tr), data_free(te);
    listing_free(&l);
    listing_free(&lt);
    return rc;
}

const data_format_t data_fmt_imgdir = {"imgdir", DATA_IMAGES, 0, probe, load};
