/* test_data.c — IDX (raw and gzip) and CIFAR-10 loaders on fixtures written here, their
 * error messages for missing, truncated, wrong-magic and mismatched files, channel
 * statistics and normalization against plain loops, reproducible subsets, batch gather. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/data.h"
#include "data/feed.h"
#include "base/util.h"

static int fails;
static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    fails += !ok;
}

#define DIR "tests/tmp/test_data"
static char made[64][256];
static int n_made;

static const char *path(const char *sub, const char *name) {
    static char buf[64][256];
    static int k;
    k = (k + 1) % 64; /* callers keep a few paths at once */
    snprintf(buf[k], sizeof buf[k], DIR "%s/%s", sub, name);
    return buf[k];
}

static void put(const char *p, const unsigned char *b, size_t n, int gz) {
    if (gz) {
        gzFile g = gzopen(p, "wb");
        if (!g || gzwrite(g, b, (unsigned)n) != (int)n) abort();
        gzclose(g);
    } else {
        FILE *f = fopen(p, "wb");
        if (!f || fwrite(b, 1, n, f) != n) abort();
        fclose(f);
    }
    snprintf(made[n_made++], 256, "%s", p);
}

static void be32(unsigned char *p, uint32_t v) {
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* IDX images n x h x w: pixel j of image i is (i*7 + j*3) % 256, so every image differs
 * in its first pixel (n <= 36). Labels i % 3. */
enum { NI = 20, H = 4, W = 5 };
static size_t idx_images(unsigned char *b, uint32_t magic, int n) {
    be32(b, magic);
    be32(b + 4, (uint32_t)n);
    be32(b + 8, H);
    be32(b + 12, W);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < H * W; j++) b[16 + i * H * W + j] = (unsigned char)((i * 7 + j * 3) % 256);
    return 16 + (size_t)n * H * W;
}
static size_t idx_labels(unsigned char *b, uint32_t magic, int n) {
    be32(b, magic);
    be32(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) b[8 + i] = (unsigned char)(i % 3);
    return 8 + (size_t)n;
}

static void sha_hex2(const unsigned char *a, size_t na, const unsigned char *b, size_t nb, char out[65]) {
    sha256_t s;
    uint8_t d[32];
    sha256_init(&s);
    sha256_update(&s, a, na);
    sha256_update(&s, b, nb);
    sha256_final(&s, d);
    sha256_hex(d, out);
}

/* Expect data_load_idx / data_load to fail with a message containing both needles. */
static void expect_err(int rc, const char *err, const char *n1, const char *n2, const char *what) {
    int ok = rc == -1 && strstr(err, n1) && (!n2 || strstr(err, n2));
    check(ok, what);
    if (!ok) printf("#   rc %d, message: %s\n", rc, err);
    else printf("#   %s\n", err);
}

/* A directory's split through the format table: train (1) or its test split (0). */
static int data_load(dataset_t *d, const char *dir, int train, char *err, size_t n_err) {
    data_spec_t s = {.path = dir, .kind = DATA_IMAGES, .want_test = 1};
    dataset_t other = {0};
    int has_test = 0;
    memset(d, 0, sizeof *d);
    const data_format_t *f = data_find_format(&s, err, n_err);
    if (!f) return -1;
    int rc = train ? f->load(&s, d, &other, &has_test, err, n_err)
                   : f->load(&s, &other, d, &has_test, err, n_err);
    if (rc) return rc;
    data_free(&other);
    if (!train && !has_test) {
        snprintf(err, n_err, "%s: no test split", dir);
        return -1;
    }
    return 0;
}

/* Every example of a feed split as floats. */
static float *feed_all(const feed_t *f, int split, int *y) {
    int n = f->n[split];
    float *x = malloc(sizeof(float) * (size_t)n * f->c * f->h * f->w + 1);
    int *pos = malloc(sizeof(int) * (size_t)n + 1);
    for (int i = 0; i < n; i++) pos[i] = i;
    feed_batch(f, split, pos, n, x, y);
    free(pos);
    return x;
}

static void test_idx(void) {
    static unsigned char ib[16 + NI * H * W + 64], lb[8 + NI + 8];
    size_t ni = idx_images(ib, 0x803, NI), nl = idx_labels(lb, 0x801, NI);
    mkdir(DIR "/raw", 0777);
    mkdir(DIR "/gz", 0777);
    put(path("/raw", "train-images-idx3-ubyte"), ib, ni, 0);
    put(path("/raw", "train-labels-idx1-ubyte"), lb, nl, 0);
    put(path("/gz", "train-images-idx3-ubyte.gz"), ib, ni, 1);
    put(path("/gz", "train-labels-idx1-ubyte.gz"), lb, nl, 1);
    ib[7] = 6; /* header n = 6 for the test split */
    put(path("/gz", "t10k-images-idx3-ubyte.gz"), ib, 16 + 6 * H * W, 1);
    ib[7] = NI;
    lb[7] = 6;
    put(path("/gz", "t10k-labels-idx1-ubyte.gz"), lb, 8 + 6, 1);
    lb[7] = NI;

    char err[512] = "", want[65];
    dataset_t a, b;
    int rc = data_load(&a, DIR "/raw", 1, err, sizeof err);
    check(rc == 0, "raw IDX loads");
    if (rc) { printf("#   %s\n", err); return; }
    check(a.n == NI && a.c == 1 && a.h == H && a.w == W && a.classes == 3, "raw IDX shape and classes");
    int px_ok = 1;
    for (int i = 0; i < NI; i++) {
        px_ok &= a.y[i] == i % 3;
        for (int j = 0; j < H * W; j++)
            px_ok &= a.u8[i * H * W + j] == (i * 7 + j * 3) % 256;
    }
    check(px_ok, "raw IDX pixels scaled to [0,1] and labels");
    sha_hex2(ib, ni, lb, nl, want);
    check(!strcmp(a.fingerprint, want), "fingerprint is sha256 of images then labels");

    rc = data_load(&b, DIR "/gz", 1, err, sizeof err);
    check(rc == 0 && b.n == NI && !memcmp(a.u8, b.u8, NI * H * W) &&
              !memcmp(a.y, b.y, sizeof(int) * NI),
          "gzip IDX loads the same data");
    check(rc == 0 && !strcmp(a.fingerprint, b.fingerprint), "gzip and raw fingerprints agree");
    data_free(&b);
    rc = data_load(&b, DIR "/gz", 0, err, sizeof err);
    check(rc == 0 && b.n == 6 && b.y[5] == 2, "test split (t10k) loads");
    data_free(&b);

    /* batch gather */
    int idx[3] = {7, 0, 19}, y[3];
    float x[3 * H * W];
    data_batch(&a, idx, 3, x, y);
    check(x[0] == a.u8[7 * H * W] / 255.0f && x[2 * H * W + 3] == a.u8[19 * H * W + 3] / 255.0f &&
              y[0] == 1 && y[1] == 0 && y[2] == 1,
          "data_batch gathers rows and labels, 8-bit values / 255");

    /* stats against a plain one-pass loop */
    float mean, sd;
    int all[NI];
    for (int i = 0; i < NI; i++) all[i] = i;
    data_channel_stats(&a, all, NI, &mean, &sd);
    double s = 0, ss = 0;
    for (int i = 0; i < NI * H * W; i++) {
        double v = a.u8[i] / 255.0;
        s += v, ss += v * v;
    }
    double m = s / (NI * H * W), v = ss / (NI * H * W) - m * m;
    check(fabs(mean - m) < 1e-6 && fabs(sd - sqrt(v)) < 1e-5, "channel mean and population std");
    data_free(&a);

    /* the feed: normalized batches, reproducible subsets */
    feed_opts_t fo;
    feed_opts_default(&fo, DATA_IMAGES);
    fo.data.path = DIR "/raw";
    feed_t f, g;
    rc = feed_open(&f, &fo, err, sizeof err);
    int n_held = 0;
    for (int i = 0; i < NI; i++) n_held += data_held_out((uint64_t)i + 1, 0.1);
    check(rc == 0 && n_held > 0 && f.n[FEED_TRAIN] == NI - n_held && f.n[FEED_TEST] == 0 && !f.has_test,
          "feed: data without a test split; the held-out examples are not in training");
    if (rc) { printf("#   %s\n", err); return; }
    fo.want_test = 1;
    rc = feed_open(&g, &fo, err, sizeof err);
    check(rc == 0 && g.n[FEED_TRAIN] == NI - n_held && g.n[FEED_TEST] == n_held &&
              g.mean[0] == f.mean[0] && g.std[0] == f.std[0],
          "feed: the same training split and statistics when the test split is asked for");
    feed_close(&g);
    fo.want_test = 0;
    int yy[NI];
    float *fx = feed_all(&f, FEED_TRAIN, yy);
    s = 0, ss = 0;
    int nx = f.n[FEED_TRAIN] * H * W;
    for (int i = 0; i < nx; i++) s += fx[i], ss += (double)fx[i] * fx[i];
    check(fabs(s / nx) < 1e-5 && fabs(ss / nx - 1) < 1e-4, "normalized training split has mean 0, std 1");
    free(fx);
    feed_close(&f);

    fo.data.path = DIR "/gz";
    fo.want_test = 1;
    fo.fraction = 0.5;
    int y1[NI], y2[NI], y3[NI], yf[NI];
    float *x1 = NULL, *x2 = NULL, *x3 = NULL, *xf = NULL;
    int ok = feed_open(&f, &fo, err, sizeof err) == 0 && f.has_test && f.n[FEED_TEST] == 6 &&
             f.n[FEED_TRAIN] == NI / 2;
    check(ok, "feed: the data's own test split; fraction 0.5 keeps round(n/2)");
    if (ok) x1 = feed_all(&f, FEED_TRAIN, y1);
    feed_close(&f);
    ok = feed_open(&f, &fo, err, sizeof err) == 0;
    if (ok) x2 = feed_all(&f, FEED_TRAIN, y2);
    feed_close(&f);
    check(ok && x1 && !memcmp(x1, x2, sizeof(float) * NI / 2 * H * W) && !memcmp(y1, y2, sizeof y1[0] * NI / 2),
          "feed subset is reproducible for a seed");
    fo.seed = 3;
    ok = feed_open(&g, &fo, err, sizeof err) == 0;
    if (ok) x3 = feed_all(&g, FEED_TRAIN, y3);
    check(ok && x1 && memcmp(x1, x3, sizeof(float) * NI / 2 * H * W) != 0, "another seed, another subset");
    feed_close(&g);
    fo.fraction = 1;
    ok = feed_open(&g, &fo, err, sizeof err) == 0;
    if (ok) xf = feed_all(&g, FEED_TRAIN, yf);
    /* every subset row is a distinct row of the full split with its label, in order */
    int rows_ok = ok && x1, last = -1;
    for (int i = 0; rows_ok && i < NI / 2; i++) {
        int found = -1;
        for (int k = 0; k < NI; k++)
            if (!memcmp(x1 + i * H * W, xf + k * H * W, sizeof(float) * H * W)) found = k;
        rows_ok = found > last && y1[i] == yf[found];
        last = found;
    }
    check(rows_ok, "subset rows are distinct originals with their labels, in order");
    feed_close(&g);
    free(x1), free(x2), free(x3), free(xf);
    fo.fraction = 0;
    check(feed_open(&g, &fo, err, sizeof err) == -1 && strstr(err, "fraction"), "feed rejects fraction 0");
    feed_close(&g);
    fo.fraction = 1.5;
    check(feed_open(&g, &fo, err, sizeof err) == -1, "feed rejects fraction 1.5");
    feed_close(&g);
}

static void test_idx_errors(void) {
    static unsigned char ib[16 + NI * H * W], lb[8 + NI];
    size_t ni = idx_images(ib, 0x803, NI), nl = idx_labels(lb, 0x801, NI);
    const char *gi = path("", "good-images"), *gl = path("", "good-labels");
    put(gi, ib, ni, 0);
    put(gl, lb, nl, 0);
    char err[512] = "";
    dataset_t d;
    const char *ti = path("", "trunc-images");
    put(ti, ib, ni - 7, 0);
    expect_err(data_load_idx(&d, ti, gl, err, sizeof err), err, "trunc-images", "truncated",
               "truncated images named");
    const char *tl = path("", "trunc-labels");
    put(tl, lb, nl - 1, 0);
    expect_err(data_load_idx(&d, gi, tl, err, sizeof err), err, "trunc-labels", "truncated",
               "truncated labels named");
    const char *th = path("", "short-header");
    put(th, ib, 10, 0);
    expect_err(data_load_idx(&d, th, gl, err, sizeof err), err, "short-header", "truncated",
               "truncated header named");

    /* a gzip file cut in half */
    const char *gz = path("", "full.gz"), *tgz = path("", "trunc.gz");
    put(gz, ib, ni, 1);
    FILE *f = fopen(gz, "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    put(tgz, buf, n / 2, 0);
    expect_err(data_load_idx(&d, tgz, gl, err, sizeof err), err, "trunc.gz", NULL,
               "truncated gzip named");

    unsigned char wb[sizeof ib];
    idx_images(wb, 0x801, NI);
    const char *wm = path("", "wrong-magic");
    put(wm, wb, ni, 0);
    expect_err(data_load_idx(&d, wm, gl, err, sizeof err), err, "wrong-magic", "magic",
               "wrong magic named");
    expect_err(data_load_idx(&d, gi, gi, err, sizeof err), err, "good-images", "magic",
               "images given as labels: wrong magic");

    unsigned char mb[8 + NI];
    size_t nm = idx_labels(mb, 0x801, NI - 1);
    const char *ml = path("", "fewer-labels");
    put(ml, mb, nm, 0);
    expect_err(data_load_idx(&d, gi, ml, err, sizeof err), err, "fewer-labels", "good-images",
               "mismatched counts name both files");

    expect_err(data_load_idx(&d, path("", "nope"), gl, err, sizeof err), err, "nope",
               "No such file", "missing file named");
    expect_err(data_load(&d, DIR "/does-not-exist", 1, err, sizeof err), err, "does-not-exist",
               NULL, "missing directory named");
    mkdir(DIR "/half", 0777);
    put(path("/half", "train-images-idx3-ubyte"), ib, ni, 0);
    expect_err(data_load(&d, DIR "/half", 1, err, sizeof err), err, "train-labels-idx1-ubyte",
               "missing", "missing label file named");
    mkdir(DIR "/empty", 0777);
    expect_err(data_load(&d, DIR "/empty", 1, err, sizeof err), err, "no data set", NULL,
               "directory without data says what it expected");
}

static void test_cifar(void) {
    mkdir(DIR "/cifar", 0777);
    enum { PER = 3 };
    static unsigned char b[PER * 3073];
    for (int f = 0; f < 5; f++) {
        for (int r = 0; r < PER; r++) {
            unsigned char *p = b + r * 3073;
            p[0] = (unsigned char)((f * PER + r) % 10);
            for (int i = 0; i < 3072; i++) p[1 + i] = (unsigned char)((f * 31 + r * 17 + i) % 256);
        }
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        put(path("/cifar", name), b, sizeof b, 0);
    }
    put(path("/cifar", "test_batch.bin"), b, 2 * 3073, 0);
    char err[512] = "";
    dataset_t d;
    int rc = data_load(&d, DIR "/cifar", 1, err, sizeof err);
    check(rc == 0 && d.n == 5 * PER && d.c == 3 && d.h == 32 && d.w == 32 && d.classes == 10,
          "CIFAR-10 train batches load, 3x32x32");
    if (rc) { printf("#   %s\n", err); return; }
    /* image 7 = batch 3 (f=2), record 1: channel 1 (G) pixel 5 is byte 1 + 1024 + 5 */
    check(d.y[7] == 7 && d.u8[7 * 3072 + 1024 + 5] == (2 * 31 + 17 + 1029) % 256,
          "CIFAR-10 labels and channel-major pixels");
    data_free(&d);
    rc = data_load(&d, DIR "/cifar", 0, err, sizeof err);
    check(rc == 0 && d.n == 2, "CIFAR-10 test batch loads");
    data_free(&d);

    mkdir(DIR "/cifar-bad", 0777);
    for (int f = 0; f < 4; f++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        put(path("/cifar-bad", name), b, sizeof b, 0);
    }
    expect_err(data_load(&d, DIR "/cifar-bad", 1, err, sizeof err), err, "data_batch_5.bin",
               "missing", "missing CIFAR batch named");
    put(path("/cifar-bad", "data_batch_5.bin"), b, sizeof b, 0);
    put(path("/cifar-bad", "test_batch.bin"), b, 3073 + 100, 0);
    expect_err(data_load(&d, DIR "/cifar-bad", 0, err, sizeof err), err, "test_batch.bin",
               "truncated", "truncated CIFAR batch named");
    b[0] = 12;
    put(path("/cifar-bad", "test_batch.bin"), b, 3073, 0);
    expect_err(data_load(&d, DIR "/cifar-bad", 0, err, sizeof err), err, "test_batch.bin",
               "label 12", "bad CIFAR label named");
}

int main(void) {
    mkdir("tests/tmp", 0777);
    mkdir(DIR, 0777);
    test_idx();
    test_idx_errors();
    test_cifar();
    for (int i = n_made - 1; i >= 0; i--) remove(made[i]);
    static const char *const dirs[] = {"/raw", "/gz", "/half", "/empty", "/cifar", "/cifar-bad", ""};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, DIR "%s", dirs[i]);
        rmdir(p);
    }
    printf("%s\n", fails ? "FAILED" : "all ok");
    return fails != 0;
}
