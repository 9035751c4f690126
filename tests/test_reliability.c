/* test_reliability.c — the bad-record policy (rec_policy_*: what is skipped, counted and
 * which exit status results), json2mp's line resync after a syntax error (never eating
 * the next good line), and json_write leaving nothing behind for a record JSON cannot
 * hold. The tools' behaviour end to end is in t_badinput.sh. */
#include "io/json.h"
#include "io/rec.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_fail;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    if (!ok) n_fail++;
}

/* Reads all values of text with --keep-going semantics; the kinds of what it got, as
 * "v" (value) and "e" (error), into out. */
static void read_all(const char *text, char *out, size_t n) {
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    json_reader_t *r = json_reader_new(f, 0);
    msgpack_object o;
    int ret;
    size_t k = 0;
    while (k + 1 < n && (ret = json_read(r, &o)) != 0) {
        out[k++] = ret > 0 ? 'v' : 'e';
        if (ret < 0 && !json_reader_skip_line(r)) break;
    }
    out[k] = 0;
    json_reader_free(r);
    fclose(f);
}

int main(void) {
    util_set_prog("test_reliability");

    /* Policy. */
    rec_policy_t stop = {0, 0, 0}, keep = {1, 0, 0}, okbad = {1, 1, 0};
    check(rec_policy_bad(&stop, 3, "bad %d", 1) == 0 && stop.n_bad == 0, "default: a bad record stops");
    check(rec_policy_exit(&stop, EXIT_BAD_INPUT) == EXIT_BAD_INPUT, "default: exit 1 after stopping");
    check(rec_policy_bad(&keep, 3, "bad") == 1 && rec_policy_bad(&keep, 5, "bad") == 1 && keep.n_bad == 2,
          "--keep-going: bad records are skipped and counted");
    check(rec_policy_exit(&keep, EXIT_OK) == EXIT_BAD_INPUT, "--keep-going: exit 1 when any were skipped");
    check(rec_policy_exit(&keep, EXIT_IO) == EXIT_IO, "--keep-going: a write error keeps exit 3");
    rec_policy_bad(&okbad, 1, "bad");
    check(rec_policy_exit(&okbad, EXIT_OK) == EXIT_OK, "--ok-if-bad: exit 0 with skipped records");
    check(rec_policy_exit(&okbad, EXIT_BAD_INPUT) == EXIT_BAD_INPUT, "--ok-if-bad: stream damage still exits 1");
    rec_policy_t clean = {1, 0, 0};
    check(rec_policy_exit(&clean, EXIT_OK) == EXIT_OK, "--keep-going with nothing bad: exit 0");
    check(rec_policy_stream_error(&keep, "truncated record", 9) == EXIT_BAD_INPUT, "stream error: exit 1");

    /* JSON Lines resync. */
    char got[32];
    read_all("{\"a\":1}\n{\"a\":tru}\n{\"b\":2}\n", got, sizeof got);
    check(strcmp(got, "vev") == 0, "error mid-line: the rest of that line is skipped");
    read_all("\"abc\n{\"b\":2}\n", got, sizeof got);
    check(strcmp(got, "ev") == 0, "error on the newline itself: the next line is kept");
    read_all("{\"a\":[1,\n2,}\n{\"b\":2}\n[3]", got, sizeof got);
    check(strcmp(got, "eevv") == 0,
          "error inside a multi-line value: its first line is bad, the error's line is read again (bad too)");
    read_all("{\"x\":1}\n{\"a\":1\n{\"b\":2}\n{\"c\":3}\n", got, sizeof got);
    check(strcmp(got, "vevv") == 0, "unclosed object on line 2: lines 3 and 4 still read");
    read_all("{\"a\":1", got, sizeof got);
    check(strcmp(got, "e") == 0, "error at end of input: stops");
    read_all("", got, sizeof got);
    check(strcmp(got, "") == 0, "empty input: no values, no error");

    /* json_write: nothing written for a record JSON cannot hold. */
    msgpack_object_kv kv[2];
    memset(kv, 0, sizeof kv);
    kv[0].key.type = MSGPACK_OBJECT_STR, kv[0].key.via.str.ptr = "ok", kv[0].key.via.str.size = 2;
    kv[0].val.type = MSGPACK_OBJECT_POSITIVE_INTEGER, kv[0].val.via.u64 = 1;
    kv[1].key.type = MSGPACK_OBJECT_STR, kv[1].key.via.str.ptr = "s", kv[1].key.via.str.size = 1;
    kv[1].val.type = MSGPACK_OBJECT_STR, kv[1].val.via.str.ptr = "\xff", kv[1].val.via.str.size = 1;
    msgpack_object m;
    memset(&m, 0, sizeof m);
    m.type = MSGPACK_OBJECT_MAP, m.via.map.size = 2, m.via.map.ptr = kv;
    char *buf = NULL, err[200];
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    int w = json_write(f, &m, err, sizeof err);
    fclose(f);
    check(w == -2 && n == 0 && strstr(err, "UTF-8"), "invalid UTF-8 in the last value: nothing written");
    free(buf);
    kv[1].key.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
    f = open_memstream(&buf, &n);
    w = json_write(f, &m, err, sizeof err);
    fclose(f);
    check(w == -2 && n == 0 && strstr(err, "not a string"), "non-string key: nothing written");
    free(buf);

    printf(n_fail ? "%d FAILED\n" : "all passed\n", n_fail);
    return n_fail != 0;
}
