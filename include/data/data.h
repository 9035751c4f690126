/* data.h — data sets in memory and the table of data formats.
 *
 * A format is one file (src/data/fmt_*.c) and one row in data_formats[]: it says whether
 * it reads a path (probe) and decodes it into one or two stores (load). A store keeps one
 * decoded copy of the data, 8-bit where the source is 8-bit; feed.h turns stores into the
 * normalized batches a tool needs. */
#ifndef SIGEO_DATA_H
#define SIGEO_DATA_H

#include <stddef.h>
#include <stdint.h>

#define DATA_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define DATA_MAX_CH 64 /* channels of an image store (and of the statistics kept) */
/* Hard cap on one decompressed file (CIFAR-10 train batch 30 MB, MNIST train images 47 MB).
 * Formats whose headers declare sizes check them against it before reading the body and
 * read no further than declared (data_read_limited), so a gzip bomb is refused at once. */
#define DATA_MAX_FILE ((size_t)1 << 31)

/* What a space's networks read (space.h keeps the same values). */
enum { DATA_IMAGES = 0, DATA_CLICKS };

/* One split in memory: n examples of c*h*w values with integer labels. */
typedef struct {
    int n, c, h, w, classes;
    int dense;     /* click rows: the first `dense` values are dense features, the rest ids */
    uint8_t *u8;   /* (n,c,h,w) 8-bit values when the source is 8-bit, else NULL */
    float *x;      /* (n,c,h,w) values when u8 is NULL */
    int *y;        /* (n) labels 0..classes-1 */
    char *names;   /* class names, each NUL-terminated, back to back; NULL if the data has none */
    char fingerprint[65]; /* sha256 hex of the bytes the data came from */
} dataset_t;

/* Where the data is and how to read it; shared by every format. */
typedef struct {
    const char *path;  /* --data: a directory or a file */
    int kind;          /* DATA_IMAGES or DATA_CLICKS: what the caller can use */
    int want_test;     /* 0: a format may skip decoding its test split */
    /* Formats that split and subset while streaming (DATA_FMT_SPLITS) apply these: */
    double holdout, fraction, test_fraction;
    int rows;          /* clicks: hash buckets per categorical feature */
    const char *labels; /* --labels: a .npy of labels beside a .npy of images */
    const char *layout; /* --layout: nhwc or nchw for 4-d arrays (NULL: guess) */
    int in_c, in_h, in_w; /* --input: images resized to this (0: the data's own size) */
    const char *label_col, *dense_cols, *cat_cols; /* click tables: columns (NULL: default) */
    int keep_going;    /* click tables: skip (and count) malformed lines */
} data_spec_t;

/* Format flags. */
#define DATA_FMT_SPLITS 1u /* load applies holdout, fraction and test_fraction itself */

typedef struct {
    const char *name;
    int kind;       /* DATA_IMAGES or DATA_CLICKS */
    unsigned flags; /* DATA_FMT_* */
    /* Non-zero if the format reads s->path (a cheap look at names or magic bytes). */
    int (*probe)(const data_spec_t *s);
    /* Decode the training split into tr and, when the data has a test split of its own
     * (*has_test = 1) and s->want_test, the test split into te. tr and te own their
     * arrays (data_free). 0, -1 with err naming the file and what is wrong, or -2 when
     * memory ran out. */
    int (*load)(const data_spec_t *s, dataset_t *tr, dataset_t *te, int *has_test, char *err,
                size_t n_err);
} data_format_t;

/* NULL-terminated table of every format, in probing order. */
extern const data_format_t *const data_formats[];

/* The first format of s->kind whose probe accepts s->path; NULL with err saying what was
 * looked for. */
const data_format_t *data_find_format(const data_spec_t *s, char *err, size_t n_err);

void data_free(dataset_t *d);

/* One IDX pair (ubyte images n x h x w, ubyte labels n), gzip or plain (fmt_idx.c). */
int data_load_idx(dataset_t *d, const char *images, const char *labels, char *err, size_t n_err);

/* Gather examples rows[0..b) into x (b,c,h,w) as floats (8-bit values / 255) and y (b). */
void data_batch(const dataset_t *d, const int *rows, int b, float *x, int *y);

/* Per-channel mean and population std over examples rows[0..n) of d, in double, two
 * passes over the float values. */
void data_channel_stats(const dataset_t *d, const int *rows, int n, float *mean, float *std);

/* Non-zero if example i (1-based: line number or example number) is in the held-out
 * split for share holdout: a hash of i alone, so every tool and every --fraction agree. */
int data_held_out(uint64_t i, double holdout);

/* Read a whole file, gzip-compressed or plain, of at most DATA_MAX_FILE bytes (once
 * decompressed) into *buf (malloc'd, caller frees). 0, or -1 (-2: out of memory) with a
 * message naming the file. */
int data_read_file(const char *path, unsigned char **buf, size_t *n, char *err, size_t n_err);
/* The same with a limit of max bytes, which a format takes from the sizes a header declares
 * (checked against DATA_MAX_FILE first) so that a gzip bomb is never inflated past them;
 * why says where max comes from ("its header declares"). Memory grows with the bytes read. */
int data_read_limited(const char *path, size_t max, const char *why, unsigned char **buf,
                      size_t *n, char *err, size_t n_err);
/* The first n bytes of path, decompressed, into buf; *got < n at its end. 0 or -1 with err. */
int data_read_head(const char *path, unsigned char *buf, size_t n, size_t *got, char *err,
                   size_t n_err);
int data_is_file(const char *path);
int data_is_dir(const char *path);
uint32_t data_be32(const unsigned char *p);
/* sha256 hex of a and then b (b may be NULL) into out[65]. */
void data_sha2(const void *a, size_t na, const void *b, size_t nb, char out[65]);

#endif
