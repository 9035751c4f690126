/* test_rec.c — record library: write/read round trip, setters and getters, truncated
 * streams, garbage, huge declared lengths refused before msgpack-c allocates them,
 * and records arriving one byte per read. */
#include "io/rec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int n_fail;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    if (!ok) n_fail++;
}

/* A file descriptor reading back the given bytes. */
static int fd_of(const void *p, size_t n) {
    FILE *f = tmpfile();
    if (!f) exit(3);
    if (n && fwrite(p, 1, n, f) != n) exit(3);
    fflush(f);
    int fd = dup(fileno(f));
    fclose(f);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* Packs a record {kind, i, x, s, scores{a}} with rec_t setters into bytes. */
static size_t make_stream(char **out, int n_rec) {
    FILE *f = tmpfile();
    rec_writer_t *w = rec_writer_new(fileno(f));
    for (int i = 0; i < n_rec; i++) {
        rec_t e;
        rec_new(&e);
        rec_set_str(&e, "kind", "arch");
        rec_set_i64(&e, "i", i - 2);
        rec_set_f64(&e, "x", i * 0.25);
        rec_set_str(&e, "s", "hé\"\n");
        rec_set_f64(&e, "scores.a", -i);
        rec_set_bool(&e, "flag", i & 1);
        rec_set_nil(&e, "none");
        if (rec_write(w, &e.root)) exit(3);
        rec_edit_end(&e);
    }
    rec_writer_free(w);
    long n = ftell(f);
    *out = malloc(n);
    rewind(f);
    if (fread(*out, 1, n, f) != (size_t)n) exit(3);
    fclose(f);
    return (size_t)n;
}

static int read_all(int fd, size_t max, int *n_ok, char *err, size_t n_err) {
    rec_reader_t *r = rec_reader_new(fd, "test", max);
    msgpack_object o;
    int ret;
    *n_ok = 0;
    while ((ret = rec_read(r, &o)) == 1) (*n_ok)++;
    snprintf(err, n_err, "%s", ret < 0 ? rec_reader_error(r) : "");
    if (ret < 0 && rec_reader_count(r) != *n_ok + 1) ret = -2;
    rec_reader_free(r);
    close(fd);
    return ret;
}

static void test_round_trip(void) {
    char *s;
    size_t n = make_stream(&s, 5);
    rec_reader_t *r = rec_reader_new(fd_of(s, n), "test", 0);
    msgpack_object o;
    int k = 0, good = 1;
    while (rec_read(r, &o) == 1) {
        char buf[32];
        int64_t i;
        double x, a;
        good &= rec_get_str(&o, "kind", buf, sizeof buf) == REC_OK && strcmp(buf, "arch") == 0;
        good &= rec_get_int(&o, "i", &i) == REC_OK && i == k - 2;
        good &= rec_get_num(&o, "x", &x) == REC_OK && x == k * 0.25;
        good &= rec_get_num(&o, "scores.a", &a) == REC_OK && a == -k;
        good &= rec_get_str(&o, "s", buf, sizeof buf) == REC_OK && strcmp(buf, "hé\"\n") == 0;
        good &= rec_lookup(&o, "flag")->via.boolean == (k & 1);
        good &= rec_lookup(&o, "none")->type == MSGPACK_OBJECT_NIL;
        good &= rec_get_num(&o, "kind", &x) == REC_WRONG_TYPE;
        good &= rec_get_num(&o, "scores.b", &x) == REC_MISSING;
        good &= rec_get_num(&o, "x.y", &x) == REC_MISSING;
        good &= rec_get_str(&o, "kind", buf, 4) == REC_WRONG_TYPE; /* does not fit */
        good &= rec_str_eq(rec_lookup(&o, "kind"), "arch") && !rec_str_eq(rec_lookup(&o, "kind"), "arc");
        k++;
    }
    check(good && k == 5 && rec_reader_count(r) == 5, "round trip of 5 records with getters");
    rec_reader_free(r);
    free(s);
}

static void test_edit(void) {
    rec_t e;
    rec_new(&e);
    rec_set_str(&e, "kind", "arch");
    rec_set_i64(&e, "a.b.c", 7);
    rec_set_f64(&e, "a.b.d", 1.5);
    rec_set_i64(&e, "a.b.c", 8); /* replace */
    int64_t v = 0;
    double d = 0;
    int ok = rec_get_int(&e.root, "a.b.c", &v) == REC_OK && v == 8 && e.root.via.map.size == 2 &&
             rec_lookup(&e.root, "a.b")->via.map.size == 2;
    check(ok, "nested set creates maps and replaces values");
    check(rec_set_i64(&e, "kind.x", 1) == -1, "set under a non-map refuses");
    /* Deep copy, then delete the source: the copy must survive. */
    rec_t f;
    rec_new(&f);
    rec_set_obj(&f, "copy", rec_lookup(&e.root, "a"));
    rec_edit_end(&e);
    ok = rec_get_int(&f.root, "copy.b.c", &v) == REC_OK && v == 8 &&
         rec_get_num(&f.root, "copy.b.d", &d) == REC_OK && d == 1.5;
    check(ok, "rec_set_obj deep-copies");
    rec_del(&f, "copy.b.c");
    rec_del(&f, "missing.key");
    check(rec_get_int(&f.root, "copy.b.c", &v) == REC_MISSING &&
              rec_get_num(&f.root, "copy.b.d", &d) == REC_OK,
          "rec_del removes one key");
    rec_edit_end(&f);

    /* Editing a record read from a stream leaves the reader's object unchanged. */
    char *s;
    size_t n = make_stream(&s, 1);
    rec_reader_t *r = rec_reader_new(fd_of(s, n), "test", 0);
    msgpack_object o;
    rec_read(r, &o);
    rec_edit_begin(&e, &o);
    rec_set_f64(&e, "scores.b", 2.0);
    rec_del(&e, "x");
    ok = rec_lookup(&o, "scores.b") == NULL && rec_lookup(&o, "x") != NULL &&
         rec_lookup(&e.root, "scores.b") && rec_lookup(&e.root, "scores.a") && !rec_lookup(&e.root, "x");
    check(ok, "copy-on-write edit of a read record");
    rec_edit_end(&e);
    rec_reader_free(r);
    free(s);
}

static void test_numbers(void) {
    /* {"f":float32 1.5,"d":float64 -2.25,"u":uint64 max,"n":-5,"g":3.0} */
    unsigned char b[] = {0x85, 0xa1, 'f', 0xca, 0x3f, 0xc0, 0, 0, 0xa1, 'd', 0xcb, 0xc0, 0x02, 0, 0, 0, 0, 0, 0,
                         0xa1, 'u', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa1, 'n', 0xfb,
                         0xa1, 'g', 0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0};
    rec_reader_t *r = rec_reader_new(fd_of(b, sizeof b), "test", 0);
    msgpack_object o;
    double x;
    int64_t i;
    int ok = rec_read(r, &o) == 1;
    ok &= rec_get_num(&o, "f", &x) == REC_OK && x == 1.5;
    ok &= rec_get_num(&o, "d", &x) == REC_OK && x == -2.25;
    ok &= rec_get_num(&o, "n", &x) == REC_OK && x == -5;
    ok &= rec_get_int(&o, "n", &i) == REC_OK && i == -5;
    ok &= rec_get_int(&o, "g", &i) == REC_OK && i == 3;
    ok &= rec_get_int(&o, "f", &i) == REC_WRONG_TYPE;
    ok &= rec_get_int(&o, "u", &i) == REC_WRONG_TYPE;
    ok &= rec_get_num(&o, "u", &x) == REC_OK && x == 18446744073709551615.0;
    ok &= rec_read(r, &o) == 0;
    check(ok, "numbers: float32, float64, ints accepted by getters");
    rec_reader_free(r);
}

static void test_errors(void) {
    char err[200];
    int n_ok;
    char *s;
    size_t n = make_stream(&s, 3);
    int ret = read_all(fd_of(s, n - 1), 0, &n_ok, err, sizeof err);
    check(ret == -1 && n_ok == 2 && strstr(err, "truncated record"), "truncated stream: 2 records, then error");
    ret = read_all(fd_of(s, 1), 0, &n_ok, err, sizeof err);
    check(ret == -1 && n_ok == 0 && strstr(err, "truncated"), "stream cut after one byte");
    ret = read_all(fd_of(s, 0), 0, &n_ok, err, sizeof err);
    check(ret == 0 && n_ok == 0, "empty stream is a clean end");

    /* Garbage after one good record. */
    char *g = malloc(n + 3);
    memcpy(g, s, n);
    memcpy(g + n, "\xc1\x00\x00", 3);
    ret = read_all(fd_of(g, n + 3), 0, &n_ok, err, sizeof err);
    check(ret == -1 && n_ok == 3 && strstr(err, "0xc1"), "garbage byte 0xc1 after 3 records");
    free(g);
    free(s);

    /* Huge declared lengths: array32, map32, str32, bin32, ext32 headers claiming ~4 GiB.
     * msgpack-c would allocate 2^32 * 24 bytes for the array; the scanner must refuse first.
     * Memory is limited below that, so an allocation attempt would show as another error. */
    const unsigned char heads[][6] = {{0xdd, 0xff, 0xff, 0xff, 0xff, 0},
                                      {0xdf, 0xff, 0xff, 0xff, 0xff, 0},
                                      {0xdb, 0xff, 0xff, 0xff, 0xff, 0},
                                      {0xc6, 0xff, 0xff, 0xff, 0xff, 0},
                                      {0xc9, 0xff, 0xff, 0xff, 0xff, 1}};
    for (int h = 0; h < 5; h++) {
        ret = read_all(fd_of(heads[h], 6), 0, &n_ok, err, sizeof err);
        char what[64];
        snprintf(what, sizeof what, "huge declared length refused (header 0x%02x)", heads[h][0]);
        check(ret == -1 && strstr(err, "exceeds the record size limit"), what);
    }
    /* Nested: a map whose value is an array claiming more entries than the cap leaves. */
    unsigned char nested[] = {0x81, 0xa1, 'a', 0xdd, 0x00, 0x00, 0x00, 0x80};
    ret = read_all(fd_of(nested, sizeof nested), 100, &n_ok, err, sizeof err);
    check(ret == -1 && strstr(err, "exceeds"), "nested array of 128 entries refused with a 100-byte cap");
    /* The same with a cap that allows it is just truncated. */
    ret = read_all(fd_of(nested, sizeof nested), 1000, &n_ok, err, sizeof err);
    check(ret == -1 && strstr(err, "truncated"), "same array under a 1000-byte cap is a truncated record");
    /* Siblings count too: [x, [100 entries]] with cap 104 leaves 100 bytes for 101 items. */
    unsigned char sib[] = {0x92, 0xdc, 0x00, 0x64};
    ret = read_all(fd_of(sib, sizeof sib), 104, &n_ok, err, sizeof err);
    check(ret == -1 && strstr(err, "exceeds"), "pending siblings count against the cap");
    /* A str declared at exactly the remaining room is fine (truncated, not refused). */
    unsigned char str8[] = {0xd9, 0x62};
    ret = read_all(fd_of(str8, sizeof str8), 100, &n_ok, err, sizeof err);
    check(ret == -1 && strstr(err, "truncated"), "str of 98 bytes under a 100-byte cap is allowed");
    unsigned char str9[] = {0xd9, 0x63};
    ret = read_all(fd_of(str9, sizeof str9), 100, &n_ok, err, sizeof err);
    check(ret == -1 && strstr(err, "exceeds"), "str of 99 bytes under a 100-byte cap is refused");
    /* Nesting deeper than msgpack-c's stack. */
    unsigned char deep[40];
    memset(deep, 0x91, 39);
    deep[39] = 0xc0;
    ret = read_all(fd_of(deep, sizeof deep), 0, &n_ok, err, sizeof err);
    check(ret == -1 && strstr(err, "malformed"), "nesting 39 deep is an error, not a crash");
}

/* A child process writes the stream one byte per write; the reader must reassemble. */
static void test_slow_pipe(void) {
    char *s;
    size_t n = make_stream(&s, 4);
    int p[2];
    if (pipe(p)) exit(3);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        for (size_t i = 0; i < n; i++) {
            if (write(p[1], s + i, 1) != 1) _exit(1);
            if (i % 7 == 0) nanosleep(&(struct timespec){0, 100000}, NULL);
        }
        _exit(0);
    }
    close(p[1]);
    char err[200];
    int n_ok;
    int ret = read_all(p[0], 0, &n_ok, err, sizeof err);
    waitpid(pid, NULL, 0);
    check(ret == 0 && n_ok == 4, "records written one byte at a time through a pipe");
    free(s);
}

int main(void) {
    /* 2 GiB of address space: far below what msgpack-c would want for a 2^32 array. */
    struct rlimit rl = {2ul << 30, 2ul << 30};
#if !defined(__SANITIZE_ADDRESS__) /* ASan maps terabytes of shadow memory (make sanitize) */
    setrlimit(RLIMIT_AS, &rl);
#else
    (void)rl;
#endif
    test_round_trip();
    test_edit();
    test_numbers();
    test_errors();
    test_slow_pipe();
    if (n_fail) printf("%d failed\n", n_fail);
    return n_fail ? 1 : 0;
}
