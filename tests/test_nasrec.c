/* test_nasrec.c — the nasrec space (parse/format round trip, bad strings, sampling within
 * the cfg, mutation changes exactly one gene) and the Criteo reader (empty fields,
 * transforms, hashing range, bad lines named by line, deterministic split). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "data/criteo.h"
#include "data/feed.h"
#include "spaces/nasrec.h"
#include "spaces/space.h"
#include "base/util.h"

static int fails;
static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    fails += !ok;
}

static void test_space(void) {
    const space_t *S = space_find("nasrec");
    check(S && S->n_arch == -1 && S->data_kind == SPACE_DATA_CLICKS, "nasrec: in the table, not enumerable, click data");
    if (!S) return;
    space_cfg_t c;
    space_cfg_default(S, &c);
    rng_t r;
    rng_seed(&r, 3);
    int rt = 1, inside = 1, one = 1, seen_ops[NR_N_OPS] = {0};
    for (int i = 0; i < 500; i++) {
        arch_t a, b, m;
        char s[512], err[256];
        space_sample(S, &r, &c, &a);
        if (S->format(&a, s, sizeof s) || S->parse(s, &b, err, sizeof err) || b.n != a.n ||
            memcmp(a.g, b.g, sizeof(int) * a.n))
            rt = 0;
        for (int k = 0; k < a.n; k += NR_GENES) {
            seen_ops[a.g[k]]++;
            if (nasrec_dense_widths[a.g[k + 1]] > c.C || nasrec_sparse_widths[a.g[k + 2]] > c.extra[0])
                inside = 0;
        }
        space_mutate(S, &r, &c, &a, &m);
        int diff = 0;
        for (int k = 0; k < a.n; k++) diff += a.g[k] != m.g[k];
        if (diff != 1 || S->format(&m, s, sizeof s)) one = 0;
    }
    check(rt, "nasrec: parse(format(a)) == a over 500 samples");
    check(inside, "nasrec: samples respect cfg dmax/smax");
    check(one, "nasrec: mutation changes exactly one gene and stays valid");
    check(seen_ops[NR_FC] && seen_ops[NR_GATE] && seen_ops[NR_DP], "nasrec: every dense op sampled");

    static const char *bad[] = {"", "B0:fc64,efc32,d=0,s=0|", "B0:fc65,efc32,d=0,s=0",
                                "B0:xx64,efc32,d=0,s=0", "B0:fc64,efc33,d=0,s=0",
                                "B0:fc64,efc32,d=1,s=0", "B0:fc64,efc32,d=0,s=0|B2:fc64,efc32,d=0,s=0",
                                "B0:fc64,efc32,d=0,s=0|B1:fc64,efc32,d=0+0,s=1",
                                "B0:fc64,efc32,d=0,s=0 "};
    int all_bad = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        arch_t a;
        char err[256] = "";
        if (S->parse(bad[i], &a, err, sizeof err) == 0 || !err[0]) {
            printf("# accepted: '%s'\n", bad[i]);
            all_bad = 0;
        }
    }
    check(all_bad, "nasrec: malformed strings rejected with a message");
    /* a width beyond the cfg parses but does not build */
    arch_t a;
    char err[256];
    params_t P;
    net_t net;
    params_init(&P);
    net_init(&net, &P, 4);
    space_cfg_t c1 = c;
    c1.N = 1;
    check(S->parse("B0:fc1024,efc64,d=0,s=0", &a, err, sizeof err) == 0 && S->build(&net, &c1, &a) < 0,
          "nasrec: a width beyond cfg dmax is refused by build");
    net_free(&net);
    params_free(&P);
}

static const char *tmpfile_with(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "tests/tmp/test_nasrec.%d.tsv", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

/* A click file through the feed (data/feed.h): the sizes of its two splits. 0 or -1 with err. */
static int open_clicks(const char *path, double holdout, double fraction, int *n_tr, int *n_te, char *err,
                       size_t n_err) {
    feed_opts_t fo;
    feed_opts_default(&fo, DATA_CLICKS);
    fo.data.path = path;
    fo.data.holdout = holdout;
    fo.data.rows = 100;
    fo.fraction = fraction;
    fo.want_test = 1;
    feed_t f;
    memset(&f, 0, sizeof f);
    int rc = feed_open(&f, &fo, err, n_err);
    *n_tr = f.n[FEED_TRAIN], *n_te = f.n[FEED_TEST];
    feed_close(&f);
    return rc < 0 ? -1 : 0;
}

static void test_reader(void) {
    float row[CRITEO_N_COLS];
    int label;
    char err[256], line[1024];
    /* label, 13 ints (some empty, one negative), 26 cats (some empty) */
    snprintf(line, sizeof line, "1\t\t0\t-5\t3");
    for (int j = 4; j < 13; j++) strcat(line, "\t7");
    for (int k = 0; k < 26; k++) strcat(line, k % 5 == 0 ? "\t" : "\t68fd1e64");
    int ok = criteo_parse_line(line, 100, row, &label, err, sizeof err) == 0;
    check(ok && label == 1, "reader: a line with empty fields parses");
    check(ok && row[0] == 0 && row[1] == 0 && row[2] == 0 && fabsf(row[3] - logf(4)) < 1e-6,
          "reader: empty -> 0, negatives clamp to 0, x -> log(1+x)");
    int range = 1;
    for (int k = 0; k < 26; k++) {
        float v = row[CRITEO_N_DENSE + k];
        if (k % 5 == 0 ? v != 0 : !(v >= 1 && v < 100 && v == floorf(v))) range = 0;
    }
    check(ok && range, "reader: empty category -> bucket 0, others in 1..rows-1");
    check(row[CRITEO_N_DENSE + 1] != row[CRITEO_N_DENSE + 2] || row[CRITEO_N_DENSE + 1] != row[CRITEO_N_DENSE + 3],
          "reader: the same string in different features hashes apart");
    check(criteo_parse_line("1\t2\t3", 100, row, &label, err, sizeof err) < 0 && strstr(err, "40"),
          "reader: too few fields named");
    line[0] = '2';
    check(criteo_parse_line(line, 100, row, &label, err, sizeof err) < 0 && strstr(err, "label"),
          "reader: bad label named");
    line[0] = '1';
    char l2[1200];
    snprintf(l2, sizeof l2, "%s\textra", line);
    check(criteo_parse_line(l2, 100, row, &label, err, sizeof err) < 0, "reader: too many fields");
    snprintf(l2, sizeof l2, "0\t1\tx2%s", strchr(line + 4, '\t'));
    check(criteo_parse_line(l2, 100, row, &label, err, sizeof err) < 0 && strstr(err, "I2"),
          "reader: non-integer feature named");

    /* a file: the bad line is named by number */
    char *text = malloc(400 * 400);
    text[0] = 0;
    for (int i = 0; i < 5; i++) strcat(text, line), strcat(text, "\n");
    strcat(text, "1\tbroken\n");
    const char *path = tmpfile_with(text);
    int n_tr, n_te;
    int rc = open_clicks(path, 0.1, 1.0, &n_tr, &n_te, err, sizeof err);
    check(rc < 0 && strstr(err, "line 6"), "reader: a bad line in a file is named by number");
    printf("# %s\n", err);

    /* split: held-out lines do not depend on fraction */
    text[0] = 0;
    for (int i = 0; i < 400; i++) {
        line[0] = (char)('0' + i % 2);
        strcat(text, line);
        if (i < 399) strcat(text, "\n"); /* last line without a newline */
    }
    path = tmpfile_with(text);
    rc = open_clicks(path, 0.25, 1.0, &n_tr, &n_te, err, sizeof err);
    check(rc == 0 && n_tr + n_te == 400 && n_te > 60 && n_te < 140,
          "reader: all 400 lines read, about a quarter held out");
    int n_te0 = n_te;
    rc = open_clicks(path, 0.25, 0.5, &n_tr, &n_te, err, sizeof err);
    check(rc == 0 && n_te == n_te0 && n_tr < 400 - n_te0 && n_tr > 100, "reader: --fraction keeps the held-out split");
    remove(path);
    free(text);
    check(open_clicks("tests/tmp/no-such-file.tsv", 0.1, 1.0, &n_tr, &n_te, err, sizeof err) < 0 &&
              strstr(err, "no-such-file"), "reader: a missing file is named");
}

int main(void) {
    test_space();
    test_reader();
    return fails ? 1 : 0;
}
