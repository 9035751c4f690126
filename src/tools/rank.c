/* rank — sort scored records by a key, and with --truth report how well the key ranks
 * the candidates (Kendall tau-b, Spearman rho, top-k hit rate).
 *
 * Sorting needs every record, so rank is the one stage that is not constant-memory; it
 * keeps each record as its packed bytes plus the numbers it sorts and correlates on
 * (io/recset.h: also the Pareto front, the aggregate and the correlations); the --where,
 * --pareto and --aggregate keys are io/reckeys.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "io/rec.h"
#include "io/reckeys.h"
#include "io/recset.h"
#include "spaces/space.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: rank [options] < scored.mp > ranked.mp\n"
            "Sorts records by a numeric key, best first; NaN or missing values sort last.\n"
            "  -b, --by KEY          dotted key to sort on, or 'all' (every number under\n"
            "                        \"scores\"; needs --truth; sorts by the truth) [the\n"
            "                        default of the first record's space: scores.meco for\n"
            "                        nb201, scores.sigeo for the others or when the first\n"
            "                        record lacks the default (docs/quality.md)]\n"
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
    rec_select_t sel; /* --where, --pareto, --aggregate */
} opts_t;

/* Held records, each with its --pareto then --aggregate values, and the --by all columns. */
typedef struct {
    recset_t S;
    size_t n_seen, n_filtered, n_missing;
    int pol_status;
} held_t;

enum opt_id { O_KEEPGOING = 256, O_OKBAD, O_LOG };

/* EXIT_OK to go on, or the exit status. */
static int parse_opts(int argc, char **argv, opts_t *op) {
    static const struct option lo[] = {
        {"by", required_argument, 0, 'b'},        {"top", required_argument, 0, 'k'},
        {"ascending", no_argument, 0, 'a'},       {"format", required_argument, 0, 'F'},
        {"truth", required_argument, 0, 't'},     {"aggregate", required_argument, 0, 'A'},
        {"log", no_argument, 0, O_LOG},           {"force", no_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},            {"keep-going", no_argument, 0, O_KEEPGOING},
        {"ok-if-bad", no_argument, 0, O_OKBAD},   {"where", required_argument, 0, 'w'},
        {"pareto", required_argument, 0, 'p'},    {0, 0, 0, 0}};
    static const char *const fmts[] = {"msgpack", "table", "jsonl", "stats"};
    const char *format = "msgpack";
    int ch;
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
        case O_KEEPGOING: op->pol.keep_going = 1; break;
        case O_OKBAD: op->pol.ok_if_bad = 1; break;
        case 'w':
            if (op->sel.n_where == RECKEYS_MAX || rec_cond_parse(optarg, &op->sel.where[op->sel.n_where])) {
                util_err("bad --where '%s' (KEY OP NUMBER, OP one of <= < >= > == !=; at most %d)", optarg,
                         RECKEYS_MAX);
                return EXIT_USAGE;
            }
            op->sel.n_where++;
            break;
        case 'p':
            if (rec_keys_parse(optarg, "", MAX_PARETO, &op->sel.par)) {
                util_err("bad --pareto '%s' (KEY1,-KEY2,... with at most %d keys)", optarg, MAX_PARETO);
                return EXIT_USAGE;
            }
            break;
        case 'A':
            if (rec_keys_parse(optarg, "scores.", RECKEYS_MAX, &op->sel.agg)) {
                util_err("bad --aggregate '%s' (KEY1,-KEY2,... with at most %d keys)", optarg, RECKEYS_MAX);
                return EXIT_USAGE;
            }
            op->by = "scores.aggregate";
            break;
        case O_LOG: op->agg_log = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    const char *why = NULL;
    op->fmt = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(format, fmts[i])) op->fmt = i;
    op->by_all = op->by && !strcmp(op->by, "all");
    if (optind < argc) util_err("unexpected argument '%s'", argv[optind]);
    else if (op->fmt < 0) util_err("unknown --format '%s' (msgpack, table, jsonl, stats)", format);
    else if (op->agg_log && !op->sel.agg.n) why = "--log needs --aggregate";
    else if (op->by_all && op->sel.agg.n) why = "--aggregate and --by all exclude each other";
    else if (op->by_all && !op->truth) why = "--by all needs --truth";
    else if (op->fmt == F_STATS && !op->truth) why = "--format stats needs --truth";
    else if (op->by_all && op->sel.par.n) why = "--pareto does not combine with --by all";
    else return (op->fmt == F_MSGPACK || op->fmt == F_STATS) && util_check_binary_stdout(op->force) ? EXIT_USAGE : -1;
    if (why) util_err("%s", why);
    return EXIT_USAGE;
}

/* Without --by: the default key of o's space (a record without "space" is nb201's, as
 * everywhere), or scores.sigeo when o lacks it, so records scored without the space's
 * default proxy still sort by sigeo. */
static void default_key(opts_t *op, const msgpack_object *o) {
    char name[32];
    int r = rec_get_str(o, "space", name, sizeof name);
    const space_t *S = space_find(r == REC_MISSING ? "nb201" : r == REC_OK ? name : "");
    double v;
    op->by = space_rank_key(S);
    if (rec_get_num(o, op->by, &v) == REC_MISSING && strcmp(op->by, "scores.sigeo")) {
        util_msg("the first record lacks %s, %s's default: sorting by scores.sigeo", op->by, S->name);
        op->by = "scores.sigeo";
    }
}

/* Filters record o and adds it to h. EXIT_OK, -1 when the record was skipped as bad, or
 * the exit status. */
static int take(opts_t *op, held_t *h, const msgpack_object *o, long rn) {
    if (!op->by) default_key(op, o);
    const char *bad = NULL, *key = op->by_all ? op->truth : op->by;
    double v[MAX_PARETO + RECKEYS_MAX], k = NAN, t = NAN;
    int sel = rec_select(&op->sel, o, v, &bad), g = REC_OK;
    if (sel == 1 && !op->sel.agg.n && (g = rec_get_num(o, key, &k)) == REC_WRONG_TYPE) bad = key;
    else if (sel == 1 && op->truth && rec_get_num(o, op->truth, &t) == REC_WRONG_TYPE) bad = op->truth;
    if (bad || sel < 0) return rec_policy_bad(&op->pol, rn, "\"%s\" is not a number", bad) ? -1 : EXIT_BAD_INPUT;
    if (!sel) {
        h->n_filtered++;
        return EXIT_OK;
    }
    h->n_missing += g == REC_MISSING;
    h->n_seen++;
    if (recset_add(&h->S, o, k, t, v) || (op->by_all && recset_collect(&h->S, o, "scores"))) return EXIT_IO;
    /* --top K without statistics only ever needs the best K records seen so far */
    int bounded = op->top > 0 && !op->truth && !op->by_all && !op->sel.par.n && !op->sel.agg.n;
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
    const rec_select_t *sel = &op->sel;
    if (h->n_missing)
        util_msg("%zu of %zu records lack \"%s\" (sorted last)", h->n_missing, h->n_seen, op->by_all ? op->truth : op->by);
    if (sel->par.n && recset_pareto(&h->S, 0, sel->par.n)) return util_err("out of memory"), EXIT_IO;
    if (sel->n_where || sel->par.n)
        util_msg("kept %zu of %zu records (%zu failed --where or lack a --pareto key)", h->S.n,
                 h->n_seen + h->n_filtered, h->n_filtered);
    const char *key = op->fmt != F_STATS ? "scores.aggregate" : NULL; /* stats write no records */
    if (sel->agg.n && recset_aggregate(&h->S, sel->par.n, sel->agg.n, op->agg_log, key))
        return util_err("out of memory"), EXIT_IO;
    return EXIT_OK;
}

/* Correlations with the truth to stderr, and with --format stats as records. */
static int report_stats(const opts_t *op, held_t *h) {
    size_t k = op->top > 0 ? (size_t)op->top : 10;
    int r = recset_report(&h->S, op->by_all ? NULL : op->by, op->truth, op->asc, k, op->fmt == F_STATS);
    return r == -3 ? (util_err("out of memory"), EXIT_IO) : r ? EXIT_IO : EXIT_OK;
}

/* The sorted records in the chosen format. EXIT_OK or the exit status. */
static int write_out(const opts_t *op, held_t *h) {
    static const int fmt[] = {[F_MSGPACK] = RECSET_MSGPACK, [F_TABLE] = RECSET_TABLE, [F_JSONL] = RECSET_JSONL};
    char err[256];
    if (recset_sort(&h->S, op->by_all ? 0 : op->asc)) return util_err("out of memory"), EXIT_IO;
    size_t n_out = op->top > 0 ? (size_t)op->top : h->S.n;
    int w = recset_write(&h->S, n_out, fmt[op->fmt], op->by_all ? op->truth : op->by, op->truth, err, sizeof err);
    if (w == -2) return util_err("%s", err), EXIT_BAD_INPUT;
    if (w == -3) return util_err("out of memory"), EXIT_IO;
    int werr = w == -1 ? errno : ferror(stdout) ? errno : 0;
    errno = 0;
    if (werr | fclose(stdout)) return util_err("write: %s", strerror(werr ? werr : errno ? errno : EIO)), EXIT_IO;
    return EXIT_OK;
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    opts_t op = {0};
    held_t h = {0};
    int st = parse_opts(argc, argv, &op);
    if (st >= 0) return st;
    recset_init(&h.S, op.sel.par.n + op.sel.agg.n);
    if (!(st = read_all(&op, &h)) && !op.by) op.by = space_rank_key(NULL); /* no records */
    /* on bad input nothing is written: sorted output of partial input would mislead */
    if (!st && !(st = combine(&op, &h)) &&
        !(op.truth && (st = report_stats(&op, &h))) && !(op.fmt != F_STATS && (st = write_out(&op, &h))))
        st = rec_policy_exit(&op.pol, h.pol_status);
    recset_free(&h.S); /* every path: leak checkers see a clean exit */
    return st;
}
