/* test_formats.c — the image formats against each other on fixtures written here: one
 * data set (3 classes of 8x8 grey images, sorted by class, with a test split) as IDX, as
 * .npy (uint8, and float32 NHWC) and as PNG and JPEG class folders written with
 * stb_image_write. IDX, npy and PNG must give bit-identical batches and statistics through
 * the feed, JPEG within its loss. Then the bad inputs, each named in the message.
 * `test_formats export DIR` only writes the fixtures (tests/t_data.sh trains on them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "data/feed.h"

static int fails;
static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    fails += !ok;
}

enum { NTR = 900, NTE = 90, H = 8, W = 8, K = 3 };
static const int n_of[2] = {NTR, NTE};

static int label(int split, int i) { return i * K / n_of[split]; }

/* Pixel j of example i of a split: noise plus a bright block at the class's place. */
static unsigned char pixel(int split, int i, int j) {
    int k = label(split, i), y = j / W, x = j % W;
    unsigned v = (unsigned)(i * 131 + j * 71 + split * 17) % 60;
    int by = k == 2 ? 5 : 1, bx = k == 0 ? 1 : k == 1 ? 5 : 3;
    if (y >= by && y < by + 2 && x >= bx && x < bx + 2) v = 200 + (unsigned)(i * 7 + j) % 55;
    return (unsigned char)v;
}

static void put(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n) {
        perror(path);
        exit(2);
    }
    fclose(f);
}

static void be32(unsigned char *p, unsigned v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v; }

static void write_idx(const char *dir) {
    static unsigned char b[16 + NTR * H * W];
    const char *stem[2] = {"train", "t10k"};
    char p[1024]; /* dir is one of the callers' 512-byte paths */
    for (int s = 0; s < 2; s++) {
        be32(b, 0x803), be32(b + 4, n_of[s]), be32(b + 8, H), be32(b + 12, W);
        for (int i = 0; i < n_of[s]; i++)
            for (int j = 0; j < H * W; j++) b[16 + i * H * W + j] = pixel(s, i, j);
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir, stem[s]);
        put(p, b, 16 + (size_t)n_of[s] * H * W);
        be32(b, 0x801), be32(b + 4, n_of[s]);
        for (int i = 0; i < n_of[s]; i++) b[8 + i] = (unsigned char)label(s, i);
        snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir, stem[s]);
        put(p, b, 8 + (size_t)n_of[s]);
    }
}

/* A .npy with a v1 header for descr and shape (a Python tuple), data bytes. */
static void write_npy(const char *path, const char *descr, const char *shape, const void *data,
                      size_t n, const char *fortran) {
    char h[256];
    int len = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                       fortran ? fortran : "False", shape);
    int total = (10 + len + 1 + 63) / 64 * 64;
    while (10 + len + 1 < total) h[len++] = ' ';
    h[len++] = '\n';
    unsigned char *b = malloc(10 + (size_t)len + n);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(len & 255), b[9] = (unsigned char)(len >> 8);
    memcpy(b + 10, h, (size_t)len);
    memcpy(b + 10 + len, data, n);
    put(path, b, 10 + (size_t)len + n);
    free(b);
}

/* Training split as npy: X.npy uint8 (N,H,W), Xf.npy float32 (N,H,W,1) of pixel/255,
 * y.npy int64. */
static void write_npys(const char *dir) {
    static unsigned char x[NTR * H * W];
    static float xf[NTR * H * W];
    static long long y[NTR];
    for (int i = 0; i < NTR; i++) {
        y[i] = label(0, i);
        for (int j = 0; j < H * W; j++) x[i * H * W + j] = pixel(0, i, j), xf[i * H * W + j] = pixel(0, i, j) / 255.0f;
    }
    char p[1024], shape[64];
    snprintf(shape, sizeof shape, "(%d, %d, %d)", NTR, H, W);
    snprintf(p, sizeof p, "%s/X.npy", dir);
    write_npy(p, "|u1", shape, x, sizeof x, NULL);
    snprintf(shape, sizeof shape, "(%d, %d, %d, 1)", NTR, H, W);
    snprintf(p, sizeof p, "%s/Xf.npy", dir);
    write_npy(p, "<f4", shape, xf, sizeof xf, NULL);
    snprintf(shape, sizeof shape, "(%d,)", NTR);
    snprintf(p, sizeof p, "%s/y.npy", dir);
    write_npy(p, "<i8", shape, y, sizeof y, NULL);
}

/* Class folders dir/{train,test}/c<k>/<i>.png (or .jpg) */
static void write_images(const char *dir, int jpeg) {
    const char *split[2] = {"train", "test"};
    char p[1024];
    unsigned char img[H * W];
    for (int s = 0; s < 2; s++) {
        snprintf(p, sizeof p, "%s/%s", dir, split[s]);
        mkdir(p, 0777);
        for (int k = 0; k < K; k++) {
            snprintf(p, sizeof p, "%s/%s/c%d", dir, split[s], k);
            mkdir(p, 0777);
        }
        for (int i = 0; i < n_of[s]; i++) {
            for (int j = 0; j < H * W; j++) img[j] = pixel(s, i, j);
            snprintf(p, sizeof p, "%s/%s/c%d/%04d.%s", dir, split[s], label(s, i), i, jpeg ? "jpg" : "png");
            if (!(jpeg ? stbi_write_jpg(p, W, H, 1, img, 100) : stbi_write_png(p, W, H, 1, img, W))) {
                fprintf(stderr, "cannot write %s\n", p);
                exit(2);
            }
        }
    }
}

static void write_all(const char *dir) {
    char p[512];
    mkdir(dir, 0777);
    const char *sub[] = {"idx", "npy", "png", "jpg"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
        mkdir(p, 0777);
    }
    snprintf(p, sizeof p, "%s/idx", dir), write_idx(p);
    snprintf(p, sizeof p, "%s/npy", dir), write_npys(p);
    snprintf(p, sizeof p, "%s/png", dir), write_images(p, 0);
    snprintf(p, sizeof p, "%s/jpg", dir), write_images(p, 1);
}

/* Open path (labels: for a .npy) with the test split and no hold-out; every example of
 * split into x, y. 0 or -1 (message printed). */
static int load(const char *path, const char *labels, int split, double holdout, float *x, int *y,
                feed_t *f) {
    feed_opts_t o;
    feed_opts_default(&o, DATA_IMAGES);
    if (strstr(path, "jpg")) o.data.in_c = 1, o.data.in_h = H, o.data.in_w = W; /* JPEGs are YCbCr */
    o.data.path = path;
    o.data.labels = labels;
    o.data.holdout = holdout;
    o.want_test = 1;
    char err[512];
    if (feed_open(f, &o, err, sizeof err)) {
        printf("#   %s\n", err);
        feed_close(f);
        return -1;
    }
    int pos[NTR];
    for (int i = 0; i < f->n[split]; i++) pos[i] = i;
    feed_batch(f, split, pos, f->n[split], x, y);
    return 0;
}

#define DIR "tests/tmp/test_formats"

static void test_equivalence(void) {
    static float a[NTR * H * W], b[NTR * H * W];
    static int ya[NTR], yb[NTR];
    feed_t fa, fb;
    const char *names[] = {DIR "/png", DIR "/npy/X.npy", DIR "/npy/Xf.npy"};
    for (int split = 0; split < 2; split++) {
        int ok = load(DIR "/idx", NULL, split, 0.1, a, ya, &fa) == 0;
        int n = fa.n[split];
        check(ok && n == n_of[split] && fa.c == 1 && fa.h == H && fa.w == W && fa.classes == K,
              split ? "IDX test split" : "IDX training split");
        for (int t = 0; t < (split ? 1 : 3); t++) {
            /* npy has no test split: compare its training split taken whole */
            int okb = load(names[t], t ? DIR "/npy/y.npy" : NULL, split, 0.0, b, yb, &fb) == 0;
            char what[160];
            snprintf(what, sizeof what, "%s %s split: the same tensors, labels and statistics as IDX, bit for bit",
                     names[t], split ? "test" : "training");
            /* float32 data: statistics from float sums, equal to a few ulps */
            double tol = t == 2 ? 1e-5 : 0, md = 0;
            for (int i = 0; okb && i < n * H * W; i++) md = fmax(md, fabs(a[i] - b[i]));
            if (t == 2) snprintf(what, sizeof what, "%s: the same tensors and labels as IDX within 1e-5 (%.1e)", names[t], md);
            check(ok && okb && fb.n[split] == n && fb.c == 1 && fb.h == H && fb.w == W && fb.classes == K &&
                      md <= tol && !memcmp(ya, yb, sizeof(int) * (size_t)n) &&
                      fabs(fa.mean[0] - fb.mean[0]) <= tol && fabs(fa.std[0] - fb.std[0]) <= tol,
                  what);
            if (t == 0 && okb)
                check(fb.src[0]->names && !strcmp(fb.src[0]->names, "c0") && !strcmp(fb.src[0]->names + 3, "c1"),
                      "class folder names are kept, sorted");
            feed_close(&fb);
        }
        int okj = load(DIR "/jpg", NULL, split, 0.1, b, yb, &fb) == 0;
        double md = 0;
        for (int i = 0; okj && i < n * H * W; i++) md = fmax(md, fabs((a[i] * fa.std[0] + fa.mean[0]) - (b[i] * fb.std[0] + fb.mean[0])));
        printf("#   JPEG (quality 100) max pixel difference %.4f of 1\n", md);
        check(okj && fb.n[split] == n && !memcmp(ya, yb, sizeof(int) * (size_t)n) && md < 0.05,
              "JPEG folder: the same labels, pixels within 0.05 of IDX's");
        feed_close(&fb);
        feed_close(&fa);
    }
}

/* feed_open on path must fail with a message holding both needles. */
static void expect(const char *path, const char *labels, const char *n1, const char *n2, const char *what) {
    feed_opts_t o;
    feed_opts_default(&o, DATA_IMAGES);
    o.data.path = path;
    o.data.labels = labels;
    feed_t f;
    char err[1024] = "";
    int rc = feed_open(&f, &o, err, sizeof err);
    feed_close(&f);
    int ok = rc == -1 && strstr(err, n1) && (!n2 || strstr(err, n2));
    check(ok, what);
    printf("#   %s\n", err);
}

static void test_bad(void) {
    unsigned char x[4 * H * W] = {0};
    char p[512];
    mkdir(DIR "/bad", 0777);
    put(DIR "/bad/magic.npy", "NOTNUMPY0123456789", 18);
    expect(DIR "/bad/magic.npy", DIR "/npy/y.npy", "magic.npy", "magic", "wrong magic named");
    write_npy(DIR "/bad/trunc.npy", "|u1", "(4, 8, 8)", x, sizeof x - 5, NULL);
    expect(DIR "/bad/trunc.npy", DIR "/npy/y.npy", "trunc.npy", "truncated", "truncated .npy named");
    write_npy(DIR "/bad/c8.npy", "<c8", "(4, 8, 8)", x, sizeof x, NULL);
    expect(DIR "/bad/c8.npy", DIR "/npy/y.npy", "c8.npy", "unsupported dtype", "unsupported dtype named");
    write_npy(DIR "/bad/obj.npy", "|O", "(4, 8, 8)", x, sizeof x, NULL);
    expect(DIR "/bad/obj.npy", DIR "/npy/y.npy", "obj.npy", "dtype", "object array refused");
    write_npy(DIR "/bad/fortran.npy", "|u1", "(4, 8, 8)", x, sizeof x, "True");
    expect(DIR "/bad/fortran.npy", DIR "/npy/y.npy", "fortran.npy", "Fortran", "Fortran order refused");
    write_npy(DIR "/bad/be.npy", ">f4", "(1, 8, 8)", x, 256, NULL);
    expect(DIR "/bad/be.npy", DIR "/npy/y.npy", "be.npy", "big-endian", "big-endian refused");
    write_npy(DIR "/bad/x4.npy", "|u1", "(4, 8, 8)", x, sizeof x, NULL);
    expect(DIR "/bad/x4.npy", DIR "/npy/y.npy", "y.npy", "4 images", "label count differs: both named");
    long long yneg[4] = {0, 1, -1, 2};
    write_npy(DIR "/bad/yneg.npy", "<i8", "(4,)", yneg, sizeof yneg, NULL);
    expect(DIR "/bad/x4.npy", DIR "/bad/yneg.npy", "yneg.npy", "label -1", "label out of range named");
    expect(DIR "/bad/x4.npy", NULL, "x4.npy", "--labels", "a .npy without --labels");

    /* class folders */
    mkdir(DIR "/bad/empty", 0777), mkdir(DIR "/bad/empty/a", 0777), mkdir(DIR "/bad/empty/b", 0777);
    unsigned char img[H * W] = {0}, big[16 * 16] = {0};
    stbi_write_png(DIR "/bad/empty/a/0.png", W, H, 1, img, W);
    expect(DIR "/bad/empty", NULL, "empty/b", "empty class folder", "empty class folder named");
    mkdir(DIR "/bad/undec", 0777), mkdir(DIR "/bad/undec/a", 0777);
    stbi_write_png(DIR "/bad/undec/a/0.png", W, H, 1, img, W);
    put(DIR "/bad/undec/a/1.png", "not a png at all", 16);
    expect(DIR "/bad/undec", NULL, "1.png", "cannot decode", "undecodable image named");
    mkdir(DIR "/bad/mixed", 0777), mkdir(DIR "/bad/mixed/a", 0777);
    stbi_write_png(DIR "/bad/mixed/a/0.png", W, H, 1, img, W);
    stbi_write_png(DIR "/bad/mixed/a/1.png", 16, 16, 1, big, 16);
    expect(DIR "/bad/mixed", NULL, "1.png", "mixed sizes", "mixed sizes without --input named");
    snprintf(p, sizeof p, "%s", DIR "/bad/mixed");
    feed_opts_t o;
    feed_opts_default(&o, DATA_IMAGES);
    o.data.path = p;
    o.data.in_c = 3, o.data.in_h = 12, o.data.in_w = 12;
    feed_t f;
    char err[512];
    int rc = feed_open(&f, &o, err, sizeof err);
    check(rc == 0 && f.c == 3 && f.h == 12 && f.w == 12, "mixed sizes with --input 3x12x12: resized, RGB");
    feed_close(&f);
}

/* Data options as stored in checkpoints: values with spaces, quotes and backslashes come
 * back as given, and a relative --labels comes back absolute. */
static void test_options_text(void) {
    static const char *const labels[] = {"/a b/y.npy", "/it's/y 'q'.npy", "/back\\slash/x",
                                         "/plain/y.npy", "/tab\there"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        data_spec_t a, b;
        memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
        a.labels = labels[i], a.holdout = b.holdout = 0.1, a.label_col = "my col";
        char text[1024], store[1024], err[256];
        int rc = feed_options_string(&a, text, sizeof text);
        rc |= feed_options_parse(&b, text, store, sizeof store, err, sizeof err);
        char what[256];
        snprintf(what, sizeof what, "options text round trip of --labels %s: %.180s", labels[i], text);
        check(rc == 0 && b.labels && strcmp(b.labels, a.labels) == 0 && b.label_col &&
                  strcmp(b.label_col, "my col") == 0, what);
    }
    data_spec_t a, b;
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    a.labels = "rel dir/y.npy", a.holdout = b.holdout = 0.1;
    char text[1024], store[1024], err[256], cwd[900], want[1024];
    int rc = feed_options_string(&a, text, sizeof text) |
             feed_options_parse(&b, text, store, sizeof store, err, sizeof err);
    snprintf(want, sizeof want, "%s/rel dir/y.npy", getcwd(cwd, sizeof cwd) ? cwd : "?");
    check(rc == 0 && b.labels && strcmp(b.labels, want) == 0, "a relative --labels is stored absolute");
    check(feed_options_parse(&b, "--labels 'open", store, sizeof store, err, sizeof err) == -1 &&
              strstr(err, "quote is not closed"), "an unclosed quote is an error");
    check(feed_options_string(&a, text, 8) == -1, "options that do not fit are reported");
}

/* `test_formats same A LA B LB` (LA, LB: a labels .npy or "-"): both data sets through the
 * feed with no hold-out; the same shapes, classes, statistics and, split by split, every
 * normalized tensor and label bit for bit (a test split when both have one). bench/data.sh
 * runs it on Fashion-MNIST. Exit 0 when identical. */
static int same(char **argv) {
    feed_t f[2];
    for (int k = 0; k < 2; k++) {
        feed_opts_t o;
        feed_opts_default(&o, DATA_IMAGES);
        o.data.path = argv[2 * k];
        o.data.labels = strcmp(argv[2 * k + 1], "-") ? argv[2 * k + 1] : NULL;
        o.data.holdout = 0;
        o.want_test = 1;
        char err[1024];
        if (feed_open(&f[k], &o, err, sizeof err)) {
            printf("%s\n", err);
            return 2;
        }
    }
    int ok = f[0].c == f[1].c && f[0].h == f[1].h && f[0].w == f[1].w &&
             f[0].classes == f[1].classes && f[0].n[0] == f[1].n[0] &&
             !memcmp(f[0].mean, f[1].mean, sizeof(float) * (size_t)f[0].c) &&
             !memcmp(f[0].std, f[1].std, sizeof(float) * (size_t)f[0].c);
    int splits = f[0].n[1] && f[1].n[1] ? 2 : 1;
    ok = ok && (splits == 1 || f[0].n[1] == f[1].n[1]);
    enum { CH = 1000 };
    size_t sz = (size_t)f[0].c * f[0].h * f[0].w;
    float *x[2] = {malloc(CH * sz * sizeof(float)), malloc(CH * sz * sizeof(float))};
    int y[2][CH], pos[CH];
    long compared = 0;
    for (int sp = 0; ok && sp < splits; sp++)
        for (int i = 0; ok && i < f[0].n[sp]; i += CH) {
            int b = f[0].n[sp] - i < CH ? f[0].n[sp] - i : CH;
            for (int j = 0; j < b; j++) pos[j] = i + j;
            for (int k = 0; k < 2; k++) feed_batch(&f[k], sp, pos, b, x[k], y[k]);
            ok = !memcmp(x[0], x[1], (size_t)b * sz * sizeof(float)) &&
                 !memcmp(y[0], y[1], (size_t)b * sizeof(int));
            compared += b;
        }
    printf("%s: %s and %s, %ld examples of %dx%dx%d (%s), %d classes, mean %.9g std %.9g\n",
           ok ? "identical" : "DIFFERENT", argv[0], argv[2], compared, f[0].c, f[0].h, f[0].w,
           splits == 2 ? "training and test splits" : "training split", f[0].classes,
           f[0].mean[0], f[0].std[0]);
    free(x[0]), free(x[1]);
    feed_close(&f[0]), feed_close(&f[1]);
    return ok ? 0 : 1;
}

/* --input of another size: IDX (resized after decoding, plane by plane) and the same
 * images as PNG (resized while decoding) give the same pixels, bit for bit, down and up;
 * another channel count is left as it is (the tools refuse it). */
static void test_resize(void) {
    static float a[NTR * 2 * H * 2 * W], b[NTR * 2 * H * 2 * W];
    static int ya[NTR], yb[NTR];
    const int size[2][2] = {{H / 2, W / 2}, {2 * H - 3, 2 * W + 1}};
    for (int k = 0; k < 2; k++) {
        feed_t f[2];
        int ok = 1;
        const char *path[2] = {DIR "/idx", DIR "/png"};
        for (int t = 0; t < 2; t++) {
            feed_opts_t o;
            feed_opts_default(&o, DATA_IMAGES);
            o.data.path = path[t], o.data.holdout = 0.1, o.want_test = 1;
            o.data.in_c = 1, o.data.in_h = size[k][0], o.data.in_w = size[k][1];
            char err[512];
            ok &= feed_open(&f[t], &o, err, sizeof err) == 0 && f[t].h == size[k][0] && f[t].w == size[k][1];
            int pos[NTR];
            for (int i = 0; ok && i < f[t].n[FEED_TRAIN]; i++) pos[i] = i;
            if (ok) feed_batch(&f[t], FEED_TRAIN, pos, f[t].n[FEED_TRAIN], t ? b : a, t ? yb : ya);
        }
        size_t n = ok ? (size_t)f[0].n[FEED_TRAIN] * (size_t)(size[k][0] * size[k][1]) : 0;
        char what[160];
        snprintf(what, sizeof what, "--input 1x%dx%d: IDX resized as PNG is, bit for bit (%dx%d images)",
                 size[k][0], size[k][1], H, W);
        check(ok && f[0].n[FEED_TRAIN] == f[1].n[FEED_TRAIN] && !memcmp(a, b, sizeof(float) * n) &&
                  f[0].mean[0] == f[1].mean[0],
              what);
        feed_close(&f[0]), feed_close(&f[1]);
    }
    feed_t f;
    feed_opts_t o;
    feed_opts_default(&o, DATA_IMAGES);
    o.data.path = DIR "/idx", o.data.in_c = 3, o.data.in_h = H / 2, o.data.in_w = W / 2;
    char err[512];
    check(feed_open(&f, &o, err, sizeof err) == 0 && f.c == 1 && f.h == H && f.w == W,
          "--input of 3 channels on 1-channel IDX: left as it is, for the tool to refuse");
    feed_close(&f);
}

int main(int argc, char **argv) {
    if (argc == 6 && !strcmp(argv[1], "same")) return same(argv + 2);
    if (argc == 3 && !strcmp(argv[1], "export")) {
        write_all(argv[2]);
        return 0;
    }
    mkdir("tests/tmp", 0777);
    if (system("rm -rf " DIR)) return 2;
    write_all(DIR);
    test_equivalence();
    test_resize();
    test_bad();
    test_options_text();
    if (!fails && system("rm -rf " DIR)) return 2;
    printf("%s\n", fails ? "FAILED" : "all ok");
    return fails != 0;
}
