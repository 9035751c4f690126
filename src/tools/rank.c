/* rank — sort scored records by a key, and with --truth report how well the key ranks
 * the candidates (Kendall tau-b, Spearman rho, top-k hit rate).
 *
 * Sorting needs every record, so rank is the one stage that is not constant-memory; it
 * keeps each record as its packed bytes plus the numbers it sorts and correlates on
 * (io/recset.h); the --where, --pareto and --aggregate keys are io/reckeys.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/stats.h"
#include "base/util.h"
#include "io/file.h"
#include "io/json.h"
#include "io/rec.h"
#include "io/reckeys.h"
#include "io/recset.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: rank [options] < scored.mp > ranked.mp\n"
            "Sorts records by a numeric key, best first; NaN or missing values sort last.\n"
            "  -b, --by KEY          dotted key to sort on, or 'all' (every number under\n"
            "                        \"scores\"; needs --truth; sorts by the truth) [scores.sigeo]\n"
            "  -k, --top K           keep only the first K records (0 = all) [0]\n"
            "  -a, --ascending       smaller is better\n"
            "  -F, --format FMT      msgpack, table, jsonl, or stats (one rank_stats\n"
            "                        record per key instead of the records) [msgpack]\n"
            "  -A, --aggregate KEYS  comma list of keys (under \"scores\" unless dotted; '-KEY'\n"
            "                        when smaller is better) combined by rank: each key ranks\n"
            "                        the records (1 worst .. M best, ties averaged, NaN or\n"
            "                        missing worst) and scores.aggregate = sum of rank/M, or\n"
            "                        with --log sum of log(rank/M) (AZ-NAS); sorts by it\n"
            "      --log             AZ-NAS's non-linear aggregation (see --aggregate)\n"
            "  -t, --truth KEY       ground-truth key; prints Kendall tau-b, Spearman rho and\n"
            "                        the top-k hit rate (k = --top, or 10) to stderr\n"
            "  -w, --where COND      keep records where COND holds: KEY OP NUMBER with OP one of\n"
            "                        <= < >= > == != ('scores.params<=50000'); repeat to AND;\n"
            "                        a record without the key fails it [none]\n"
            "  -p, --pareto KEYS     keep the Pareto-optimal records over KEY1,-KEY2,...\n"
            "                        (KEY larger is better, -KEY smaller is better; records\n"
            "                        missing one are dropped), then sort as usual [off]\n"
            "  -f, --force           write binary to a terminal anyway\n"
            REC_POLICY_USAGE
            "  -h, --help            this text\n"
            "On bad input rank writes nothing (a ranking of part of the input would mislead);\n"
            "with --keep-going it ranks the good records. With --top K and no --truth memory\n"
            "stays bounded by K records. Exit: 0 ok, 1 bad input, 2 usage, 3 write error.\n");
}

enum { F_MSGPACK, F_TABLE, F_JSONL, F_STATS };
#define MAX_PARETO 8

typedef struct {
    const char *by, *truth;
    long top;
    int asc, force, fmt, by_all, agg_log;
    rec_policy_t pol;
    rec_cond_t where[RECKEYS_MAX];
    int n_where;
    rec_keys_t par, agg; /* --pareto, --aggregate */
} opts_t;

/* Held records and, per record, the --pareto and --aggregate values and --by all columns. */
typedef struct {
    recset_t S;
    double *pv, *av;
    size_t cap_pv, cap_av;
    recset_col_t *col;
    size_t n_col, n_seen, n_filtered, n_missing;
    int pol_status;
} held_t;

/* EXIT_OK to go on, or the exit status. */
static int parse_opts(int argc, char **argv, opts_t *op) {
    static const struct option lo[] = {{"by", required_argument, 0, 'b'},       {"top", required_argument, 0, 'k'},
                                       {"ascending", no_argument, 0, 'a'},      {"format", required_argument, 0, 'F'},
                                       {"truth", required_argument, 0, 't'},    {"aggregate", required_argument, 0, 'A'},
                                       {"log", no_argument, 0, 258},            {"force", no_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},           {"keep-going", no_argument, 0, 256},
                                       {"ok-if-bad", no_argument, 0, 257},      {"where", required_argument, 0, 'w'},
                                       {"pareto", required_argument, 0, 'p'},   {0, 0, 0, 0}};
    static const char *const fmts[] = {"msgpack", "table", "jsonl", "stats"};
    const char *format = "msgpack";
    int ch;
    op->by = "scores.sigeo";
    while ((ch = getopt_long(argc, argv, "b:k:aF:t:A:fhw:p:", lo, NULL)) != -1) {
        switch (ch) {
        case 'b': op->by = optarg; break;
        case 'k':
            if (util_parse_long(optarg, 0, 1L << 40, &op->top)) return util_bad_option(lo, ch, optarg), EXIT_USAGE;
            break;
        case 'a': op->asc = 1; break;
        case 'F': format = optarg; break;
        case 't': op->truth = optarg; break;
        case 'f': op->force = 1; break;
        case 256: op->pol.keep_going = 1; break;
        case 257: op->pol.ok_if_bad = 1; break;
        case 'w':
            if (op->n_where == RECKEYS_MAX || rec_cond_parse(optarg, &op->where[op->n_where])) {
                util_err("bad --where '%s' (KEY OP NUMBER, OP one of <= < >= > == !=; at most %d)", optarg,
                         RECKEYS_MAX);
                return EXIT_USAGE;
            }
            op->n_where++;
            break;
        case 'p':
            if (rec_keys_parse(optarg, "", MAX_PARETO, &op->par)) {
                util_err("bad --pareto '%s' (KEY1,-KEY2,... with at most %d keys)", optarg, MAX_PARETO);
                return EXIT_USAGE;
            }
            break;
        case 'A':
            if (rec_keys_parse(optarg, "scores.", RECKEYS_MAX, &op->agg)) {
                util_err("bad --aggregate '%s' (KEY1,-KEY2,... with at most %d keys)", optarg, RECKEYS_MAX);
                return EXIT_USAGE;
            }
            op->by = "scores.aggregate";
            break;
        case 258: op->agg_log = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    const char *why = NULL;
    op->fmt = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(format, fmts[i])) op->fmt = i;
    op->by_all = !strcmp(op->by, "all");
    if (optind < argc) util_err("unexpected argument '%s'", argv[optind]);
    else if (op->fmt < 0) util_err("unknown --format '%s' (msgpack, table, jsonl, stats)", format);
    else if (op->agg_log && !op->agg.n) why = "--log needs --aggregate";
    else if (op->by_all && op->agg.n) why = "--aggregate and --by all exclude each other";
    else if (op->by_all && !op->truth) why = "--by all needs --truth";
    else if (op->fmt == F_STATS && !op->truth) why = "--format stats needs --truth";
    else if (op->by_all && op->par.n) why = "--pareto does not combine with --by all";
    else return (op->fmt == F_MSGPACK || op->fmt == F_STATS) && util_check_binary_stdout(op->force) ? EXIT_USAGE : -1;
    if (why) util_err("%s", why);
    return EXIT_USAGE;
}

/* Filters record o and adds it to h. EXIT_OK, -1 when the record was skipped as bad, or
 * the exit status. */
static int take(opts_t *op, held_t *h, const msgpack_object *o, long rn) {
    const char *bad = NULL, *key = op->by_all ? op->truth : op->by;
    double pv[MAX_PARETO];
    int wp = rec_cond_pass(o, op->where, op->n_where, &bad);
    int pp = wp == 1 && op->par.n ? rec_keys_values(o, &op->par, pv, &bad) : 1;
    double k = NAN, t = NAN;
    int g = REC_OK, ga = 1;
    if (wp == 1 && pp == 1) {
        if (op->agg.n && (recset_grow((void **)&h->av, &h->cap_av, (h->S.n + 1) * op->agg.n, sizeof *h->av)))
            return EXIT_IO;
        if (op->agg.n) ga = rec_keys_values(o, &op->agg, h->av + h->S.n * op->agg.n, &bad);
        else g = rec_get_num(o, key, &k);
        if (g == REC_WRONG_TYPE) bad = key;
        else if (op->truth && rec_get_num(o, op->truth, &t) == REC_WRONG_TYPE) bad = op->truth;
    }
    if (bad || wp < 0 || pp < 0 || ga < 0)
        return rec_policy_bad(&op->pol, rn, "\"%s\" is not a number", bad) ? -1 : EXIT_BAD_INPUT;
    if (!wp || !pp) {
        h->n_filtered++;
        return EXIT_OK;
    }
    h->n_missing += g == REC_MISSING;
    h->n_seen++;
    if (op->par.n && recset_grow((void **)&h->pv, &h->cap_pv, (h->S.n + 1) * op->par.n, sizeof *h->pv))
        return EXIT_IO;
    if (op->par.n) memcpy(h->pv + h->S.n * op->par.n, pv, sizeof pv[0] * op->par.n);
    if ((op->by_all && recset_collect(o, "scores", h->S.n, &h->col, &h->n_col)) || recset_add(&h->S, o, k, t))
        return EXIT_IO;
    /* --top K without statistics only ever needs the best K records seen so far */
    int bounded = op->top > 0 && !op->truth && !op->by_all && !op->par.n && !op->agg.n;
    if (bounded && h->S.n >= 2 * (size_t)op->top && recset_keep_top(&h->S, (size_t)op->top, op->asc)) return EXIT_IO;
    return EXIT_OK;
}

/* Reads every record into h. EXIT_OK or the exit status. */
static int read_all(opts_t *op, held_t *h) {
    rec_reader_t *r = rec_reader_new(STDIN_FILENO, "stdin", 0);
    if (!r) return util_err("out of memory"), EXIT_IO;
    rec_reader_policy(r, &op->pol);
    msgpack_object o;
    int ret, status = EXIT_OK;
    while (status == EXIT_OK && (ret = rec_read(r, &o)) == 1) {
        long rn = rec_reader_count(r);
        if (o.type != MSGPACK_OBJECT_MAP)
            status = rec_policy_bad(&op->pol, rn, "record is not a map") ? EXIT_OK : EXIT_BAD_INPUT;
        else if ((status = take(op, h, &o, rn)) == -1)
            status = EXIT_OK;
        if (status == EXIT_IO) util_err("out of memory after %zu records", h->S.n);
    }
    if (status == EXIT_OK && ret < 0) {
        status = rec_policy_stream_error(&op->pol, rec_reader_error(r), rec_reader_count(r));
        if (op->pol.keep_going) h->pol_status = status, status = EXIT_OK; /* rank what came before */
    }
    rec_reader_free(r);
    return status;
}

/* Applies --pareto and --aggregate to the held records. EXIT_OK or EXIT_IO. */
static int combine(const opts_t *op, held_t *h) {
    size_t n = h->S.n;
    if (h->n_missing)
        util_msg("%zu of %zu records lack \"%s\" (sorted last)", h->n_missing, h->n_seen, op->by_all ? op->truth : op->by);
    if (op->par.n) {
        unsigned char *keep = malloc(n ? n : 1);
        if (!keep || stats_pareto_front(h->pv, n, op->par.n, keep)) return free(keep), util_err("out of memory"), EXIT_IO;
        recset_filter(&h->S, keep);
        free(keep);
    }
    if (op->n_where || op->par.n)
        util_msg("kept %zu of %zu records (%zu failed --where or lack a --pareto key)", h->S.n,
                 h->n_seen + h->n_filtered, h->n_filtered);
    if (!op->agg.n) return EXIT_OK;
    int m = op->agg.n, rc = 0;
    double *col[RECKEYS_MAX], *agg = malloc((n ? n : 1) * sizeof *agg);
    for (int j = 0; j < m; j++)
        if (!(col[j] = malloc((n ? n : 1) * sizeof **col))) rc = -1;
        else
            for (size_t i = 0; i < n; i++) col[j][i] = h->av[i * m + j];
    rc = rc || !agg || stats_rank_aggregate(col, m, n, op->agg_log, agg) ||
         (op->fmt != F_STATS && recset_set_f64(&h->S, "scores.aggregate", agg));
    for (size_t i = 0; !rc && i < n; i++) h->S.it[i].key = agg[i];
    for (int j = 0; j < m; j++) free(col[j]);
    free(agg);
    if (rc) util_err("out of memory");
    return rc ? EXIT_IO : EXIT_OK;
}

/* Correlations with the truth to stderr, and with --format stats as records. */
static int report_stats(const opts_t *op, held_t *h) {
    size_t n = h->S.n, k = op->top > 0 ? (size_t)op->top : 10;
    size_t n_cols = op->by_all ? h->n_col : 1;
    double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    rec_writer_t *w = rec_writer_new(STDOUT_FILENO);
    int rc = !a || !b || !w ? EXIT_IO : EXIT_OK;
    if (rc) util_err("out of memory");
    if (!rc && op->by_all && n_cols == 0) util_msg("no numeric keys under \"scores\"");
    for (size_t c = 0; !rc && c < n_cols; c++) {
        char name[256];
        snprintf(name, sizeof name, "%s%s", op->by_all ? "scores." : "", op->by_all ? h->col[c].name : op->by);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            double v = op->by_all ? (i < h->col[c].n ? h->col[c].v[i] : NAN) : h->S.it[i].key;
            v = op->asc ? -v : v; /* larger = ranked better */
            if (!isnan(v) && !isnan(h->S.it[i].truth)) a[m] = v, b[m] = h->S.it[i].truth, m++;
        }
        double tau = stats_kendall_tau_b(a, b, m), rho = stats_spearman(a, b, m), hit = stats_topk_hit(a, b, m, k);
        size_t kk = k > m ? m : k; /* the hit rate is over the pairs that remain */
        util_msg("%s vs %s: n=%zu kendall_tau_b=%.4f spearman_rho=%.4f top%zu_hit=%.4f%s", name, op->truth, m, tau,
                 rho, kk, hit, op->asc ? " (ascending)" : "");
        if (op->fmt != F_STATS) continue;
        rec_t e;
        int bad = rec_new(&e) || rec_set_str(&e, "kind", "rank_stats") || rec_set_str(&e, "by", name) ||
                  rec_set_str(&e, "truth", op->truth) || rec_set_bool(&e, "ascending", op->asc) ||
                  rec_set_i64(&e, "n", (int64_t)m) || rec_set_i64(&e, "k", (int64_t)kk) ||
                  rec_set_f64(&e, "kendall_tau_b", tau) || rec_set_f64(&e, "spearman_rho", rho) ||
                  rec_set_f64(&e, "topk_hit", hit);
        if (bad || rec_write(w, &e.root)) util_err("write: %s", bad ? "out of memory" : strerror(errno)), rc = EXIT_IO;
        rec_edit_end(&e);
    }
    free(a), free(b);
    rec_writer_free(w);
    return rc;
}

static void fmt_num(char *buf, size_t n, const msgpack_object *o, const char *key) {
    const msgpack_object *v = rec_lookup(o, key);
    double d;
    if (!v) snprintf(buf, n, "-");
    else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf(buf, n, "%lld", (long long)(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)v->via.u64 : v->via.i64));
    else if (rec_get_num(o, key, &d) == REC_OK) snprintf(buf, n, "%.6g", d);
    else snprintf(buf, n, "?");
}

static void table_row(const opts_t *op, const msgpack_object *o, size_t i, const char *key) {
    char a[32], b[32] = "", idx[32], arch[1024] = "-";
    fmt_num(a, sizeof a, o, key);
    if (op->truth) fmt_num(b, sizeof b, o, op->truth);
    fmt_num(idx, sizeof idx, o, "index");
    const msgpack_object *ar = rec_lookup(o, "arch");
    if (ar && ar->type == MSGPACK_OBJECT_STR) /* no terminal escapes from records */
        util_escape(ar->via.str.ptr, ar->via.str.size, arch, sizeof arch);
    if (op->truth) printf("%4zu  %14s  %14s  %6s  %s\n", i + 1, a, b, idx, arch);
    else printf("%4zu  %14s  %6s  %s\n", i + 1, a, idx, arch);
}

/* The sorted records in the chosen format. EXIT_OK or the exit status. */
static int write_out(const opts_t *op, held_t *h) {
    recset_t *S = &h->S;
    if (recset_sort(S, op->by_all ? 0 : op->asc)) return util_err("out of memory"), EXIT_IO;
    size_t n_out = op->top > 0 && (size_t)op->top < S->n ? (size_t)op->top : S->n;
    const char *key = op->by_all ? op->truth : op->by;
    if (op->fmt == F_TABLE && op->truth) printf("%4s  %14s  %14s  %6s  %s\n", "rank", key, op->truth, "index", "arch");
    else if (op->fmt == F_TABLE) printf("%4s  %14s  %6s  %s\n", "rank", key, "index", "arch");
    for (size_t i = 0; i < n_out && !ferror(stdout); i++) {
        if (op->fmt == F_MSGPACK) {
            if (io_write_all(STDOUT_FILENO, S->arena + S->it[i].off, S->it[i].len))
                return util_err("write: %s", strerror(errno)), EXIT_IO;
            continue;
        }
        const msgpack_object *o = recset_get(S, i);
        char err[200];
        if (!o) return util_err("out of memory"), EXIT_IO;
        if (op->fmt == F_TABLE) table_row(op, o, i, key);
        else if (json_write(stdout, o, err, sizeof err) == -2)
            return util_err("%s (ranked record %zu)", err, i + 1), EXIT_BAD_INPUT;
        else putchar('\n');
    }
    int werr = ferror(stdout) ? errno : 0;
    errno = 0;
    if (werr | fclose(stdout)) return util_err("write: %s", strerror(werr ? werr : errno ? errno : EIO)), EXIT_IO;
    return EXIT_OK;
}

static void held_free(held_t *h) {
    recset_free(&h->S);
    free(h->pv), free(h->av);
    for (size_t i = 0; i < h->n_col; i++) free(h->col[i].name), free(h->col[i].v);
    free(h->col);
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    opts_t op = {0};
    held_t h = {0};
    int st = parse_opts(argc, argv, &op);
    if (st >= 0) return st;
    recset_init(&h.S);
    /* on bad input nothing is written: sorted output of partial input would mislead */
    if (!(st = read_all(&op, &h)) && !(st = combine(&op, &h)) &&
        !(op.truth && (st = report_stats(&op, &h))) && !(op.fmt != F_STATS && (st = write_out(&op, &h))))
        st = rec_policy_exit(&op.pol, h.pol_status);
    held_free(&h); /* every path: leak checkers see a clean exit */
    return st;
}
