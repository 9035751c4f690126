/* rank — sort scored records by a key, and with --truth report how well the key ranks
 * the candidates (Kendall tau-b, Spearman rho, top-k hit rate).
 *
 * Sorting needs every record, so rank is the one stage that is not constant-memory; it
 * keeps each record as its packed bytes plus the numbers it sorts and correlates on. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/file.h"
#include "io/json.h"
#include "io/rec.h"
#include "base/stats.h"
#include "base/util.h"

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

typedef struct {
    size_t off, len; /* packed bytes in the arena */
    double key, truth;
} item_t;

/* One score column for --by all: values by record number, NaN where absent. */
typedef struct {
    char *name;
    double *v;
    size_t n, cap;
} col_t;

static struct {
    char *arena;
    size_t n_arena, cap_arena;
    item_t *it;
    size_t n, cap;
    col_t *col;
    size_t n_col;
} S;

/* --aggregate: the keys and, per key, every record's value (NaN where missing). */
#define AGG_MAX 16
static struct {
    int n, log;
    char key[AGG_MAX][128];
    int lower[AGG_MAX]; /* '-KEY': smaller is better */
    double *v[AGG_MAX];
    size_t cap;
} A;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q, *cap = c;
    return 0;
}

static int col_set(col_t *c, size_t i, double v) {
    if (grow((void **)&c->v, &c->cap, i + 1, sizeof *c->v)) return -1;
    while (c->n <= i) c->v[c->n++] = NAN;
    c->v[i] = v;
    return 0;
}

/* Numbers directly under "scores" of record i into their columns. */
static int collect_scores(const msgpack_object *o, size_t i) {
    const msgpack_object *sc = rec_lookup(o, "scores");
    if (!sc || sc->type != MSGPACK_OBJECT_MAP) return 0;
    for (uint32_t j = 0; j < sc->via.map.size; j++) {
        const msgpack_object_kv *kv = &sc->via.map.ptr[j];
        double v;
        if (kv->key.type != MSGPACK_OBJECT_STR) continue;
        if (kv->val.type == MSGPACK_OBJECT_FLOAT32 || kv->val.type == MSGPACK_OBJECT_FLOAT64) v = kv->val.via.f64;
        else if (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) v = (double)kv->val.via.u64;
        else if (kv->val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) v = (double)kv->val.via.i64;
        else continue;
        size_t c = 0, kn = kv->key.via.str.size;
        while (c < S.n_col && !(strlen(S.col[c].name) == kn && memcmp(S.col[c].name, kv->key.via.str.ptr, kn) == 0))
            c++;
        if (c == S.n_col) {
            col_t *nc = realloc(S.col, (S.n_col + 1) * sizeof *nc);
            if (!nc) return -1;
            S.col = nc;
            memset(&S.col[c], 0, sizeof S.col[c]);
            if (!(S.col[c].name = malloc(kn + 1))) return -1;
            memcpy(S.col[c].name, kv->key.via.str.ptr, kn);
            S.col[c].name[kn] = 0;
            S.n_col++;
        }
        if (col_set(&S.col[c], i, v)) return -1;
    }
    return 0;
}

/* Parse "k1,-k2,a.b" into A. 0, or -1 with a message. */
static int agg_parse(const char *list) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (A.n == AGG_MAX) {
            util_err("--aggregate: more than %d keys", AGG_MAX);
            return -1;
        }
        int lower = *t == '-';
        t += lower;
        if (!*t || strlen(t) + 8 >= sizeof A.key[0]) {
            util_err("--aggregate: bad key '%s'", t);
            return -1;
        }
        snprintf(A.key[A.n], sizeof A.key[0], "%s%s", strchr(t, '.') ? "" : "scores.", t);
        A.lower[A.n++] = lower;
    }
    if (A.n < 1) util_err("--aggregate: empty list");
    return A.n < 1 ? -1 : 0;
}

/* Record i's values of the aggregated keys. REC_OK, or the failing key's status. */
static int agg_collect(const msgpack_object *o, size_t i, const char **bad) {
    if (grow((void **)&A.v[0], &A.cap, i + 1, sizeof(double))) return -1;
    for (int m = 1; m < A.n; m++) {
        double *p = realloc(A.v[m], A.cap * sizeof(double));
        if (!p) return -1;
        A.v[m] = p;
    }
    for (int m = 0; m < A.n; m++) {
        double v = NAN;
        int g = rec_get_num(o, A.key[m], &v);
        if (g == REC_WRONG_TYPE) {
            *bad = A.key[m];
            return g;
        }
        A.v[m][i] = g == REC_OK && !isnan(v) ? (A.lower[m] ? -v : v) : NAN;
    }
    return REC_OK;
}

static const double *g_sort_v; /* qsort has no context argument */
static int cmp_idx(const void *a, const void *b) {
    double x = g_sort_v[*(const size_t *)a], y = g_sort_v[*(const size_t *)b];
    if (isnan(x) || isnan(y)) return isnan(x) && isnan(y) ? 0 : isnan(x) ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* out[i] = the aggregate of record i over the n records: per key, ranks 1..n from worst
 * to best (NaN worst, ties share their mean rank), then sum rank/n or sum log(rank/n). */
static int agg_compute(size_t n, double *out) {
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!ord) return -1;
    for (size_t i = 0; i < n; i++) out[i] = 0;
    for (int m = 0; m < A.n; m++) {
        for (size_t i = 0; i < n; i++) ord[i] = i;
        g_sort_v = A.v[m];
        qsort(ord, n, sizeof *ord, cmp_idx); /* NaN first: the worst */
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            double vi = A.v[m][ord[i]];
            while (j < n && (isnan(vi) ? isnan(A.v[m][ord[j]]) : A.v[m][ord[j]] == vi)) j++;
            double r = (double)(i + 1 + j) / 2 / (double)n; /* mean of ranks i+1 .. j, over n */
            for (size_t q = i; q < j; q++) out[ord[q]] += A.log ? log(r) : r;
            i = j;
        }
    }
    free(ord);
    return 0;
}

/* Adds scores.aggregate to each held record (re-packed into a new arena). */
static int agg_write_back(const double *agg) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char *arena = NULL;
    size_t n_arena = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < S.n && !rc; i++) {
        size_t off = 0;
        rec_t e;
        rc = msgpack_unpack_next(&u, S.arena + S.it[i].off, S.it[i].len, &off) != MSGPACK_UNPACK_SUCCESS ||
             rec_edit_begin(&e, &u.data);
        if (rc) break;
        msgpack_sbuffer_clear(&sb);
        rc = rec_set_f64(&e, "scores.aggregate", agg[i]) || msgpack_pack_object(&pk, e.root) ||
             grow((void **)&arena, &cap, n_arena + sb.size, 1);
        rec_edit_end(&e);
        if (rc) break;
        memcpy(arena + n_arena, sb.data, sb.size);
        S.it[i].off = n_arena, S.it[i].len = sb.size;
        n_arena += sb.size;
    }
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    if (rc) {
        free(arena);
        return -1;
    }
    free(S.arena);
    S.arena = arena, S.n_arena = n_arena, S.cap_arena = cap;
    return 0;
}

/* Stable merge sort of items: larger key first (or smaller with asc), NaN last. */
static int before(const item_t *a, const item_t *b, int asc) {
    if (isnan(a->key) || isnan(b->key)) return !isnan(a->key) && isnan(b->key);
    return asc ? a->key < b->key : a->key > b->key;
}

static void sort_items(item_t *v, item_t *tmp, size_t n, int asc) {
    if (n < 2) return;
    size_t h = n / 2, i = 0, j = h, k = 0;
    sort_items(v, tmp, h, asc);
    sort_items(v + h, tmp, n - h, asc);
    while (i < h && j < n) tmp[k++] = before(&v[j], &v[i], asc) ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* Keeps the best k items (stable order, as a full sort would rank them) and compacts
 * the arena to their bytes; rank --top k calls it whenever 2k items are held. */
static int prune_to_top(size_t k, int asc) {
    item_t *tmp = malloc(S.n * sizeof *tmp);
    char *arena = malloc(S.cap_arena);
    if (!tmp || !arena) {
        free(tmp), free(arena);
        return -1;
    }
    sort_items(S.it, tmp, S.n, asc);
    free(tmp);
    size_t off = 0;
    for (size_t i = 0; i < k && i < S.n; i++) {
        memcpy(arena + off, S.arena + S.it[i].off, S.it[i].len);
        S.it[i].off = off;
        off += S.it[i].len;
    }
    free(S.arena);
    S.arena = arena, S.n_arena = off;
    if (S.n > k) S.n = k;
    return 0;
}

typedef struct {
    size_t n, k;
    double tau, rho, hit;
} rstats_t;

/* Correlation of x (already oriented so larger = ranked better) with truth y over the
 * pairs where both are numbers. */
static rstats_t correlate(const double *x, const double *y, size_t n, size_t k) {
    rstats_t s = {0, k, NAN, NAN, NAN};
    double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    if (!a || !b) {
        free(a), free(b);
        return s;
    }
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]) && !isnan(y[i])) a[s.n] = x[i], b[s.n] = y[i], s.n++;
    s.tau = stats_kendall_tau_b(a, b, s.n);
    s.rho = stats_spearman(a, b, s.n);
    s.hit = stats_topk_hit(a, b, s.n, k);
    if (s.k > s.n) s.k = s.n; /* the hit rate is over the pairs that remain */
    free(a), free(b);
    return s;
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

/* ------------------------------------------------ --where filters and --pareto fronts */

#define MAX_WHERE 16
#define MAX_PARETO 8

typedef struct {
    char key[128];
    int op; /* index into where_ops */
    double v;
} where_t;

static const char *const where_ops[] = {"<=", ">=", "==", "!=", "<", ">"};

/* "KEY OP NUMBER" (spaces around OP allowed) into w. 0, or -1. */
static int where_parse(const char *s, where_t *w) {
    for (const char *p = s; *p; p++)
        for (int o = 0; o < 6; o++) {
            size_t ol = strlen(where_ops[o]);
            if (strncmp(p, where_ops[o], ol)) continue;
            size_t kl = (size_t)(p - s);
            while (kl && s[kl - 1] == ' ') kl--;
            const char *v = p + ol;
            while (*v == ' ') v++;
            if (!kl || kl >= sizeof w->key || strcspn(s, "<>=!") < kl ||
                util_parse_double(v, &w->v) || isnan(w->v))
                return -1;
            memcpy(w->key, s, kl);
            w->key[kl] = 0;
            w->op = o;
            return 0;
        }
    return -1;
}

/* 1 if record o passes every condition, 0 if not, -1 if a key holds a non-number (name
 * in *bad). A missing key or NaN fails the condition. */
static int where_pass(const msgpack_object *o, const where_t *w, int n, const char **bad) {
    for (int i = 0; i < n; i++) {
        double x;
        int g = rec_get_num(o, w[i].key, &x);
        if (g == REC_WRONG_TYPE) {
            *bad = w[i].key;
            return -1;
        }
        if (g == REC_MISSING || isnan(x)) return 0;
        double v = w[i].v;
        int ok = w[i].op == 0 ? x <= v : w[i].op == 1 ? x >= v : w[i].op == 2 ? x == v
               : w[i].op == 3 ? x != v : w[i].op == 4 ? x < v : x > v;
        if (!ok) return 0;
    }
    return 1;
}

typedef struct {
    int n;
    char key[MAX_PARETO][128];
    int sign[MAX_PARETO]; /* +1 larger is better, -1 smaller is better */
} pareto_t;

/* "KEY1,-KEY2,..." into p. 0, or -1. */
static int pareto_parse(const char *s, pareto_t *p) {
    p->n = 0;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        int sign = 1;
        if (l && (*s == '-' || *s == '+')) sign = *s == '-' ? -1 : 1, s++, l--;
        if (!l || l >= sizeof p->key[0] || p->n == MAX_PARETO) return -1;
        memcpy(p->key[p->n], s, l);
        p->key[p->n][l] = 0;
        p->sign[p->n++] = sign;
        s += l;
        if (*s == ',' && !*++s) return -1;
    }
    return p->n ? 0 : -1;
}

/* The oriented pareto values of record o into v (larger is better). 1 if all are numbers,
 * 0 if one is missing or NaN, -1 if one is not a number (name in *bad). */
static int pareto_values(const msgpack_object *o, const pareto_t *p, double *v, const char **bad) {
    for (int i = 0; i < p->n; i++) {
        int g = rec_get_num(o, p->key[i], &v[i]);
        if (g == REC_WRONG_TYPE) {
            *bad = p->key[i];
            return -1;
        }
        if (g == REC_MISSING || isnan(v[i])) return 0;
        v[i] *= p->sign[i];
    }
    return 1;
}

/* a dominates b: at least as good on every key and better on one. */
static int dominates(const double *a, const double *b, int n) {
    int better = 0;
    for (int i = 0; i < n; i++) {
        if (a[i] < b[i]) return 0;
        better |= a[i] > b[i];
    }
    return better;
}

static const double *pv_base;
static int pv_n;
static int lex_desc(const void *x, const void *y) {
    const double *a = pv_base + (size_t)*(const size_t *)x * pv_n;
    const double *b = pv_base + (size_t)*(const size_t *)y * pv_n;
    for (int i = 0; i < pv_n; i++)
        if (a[i] != b[i]) return a[i] > b[i] ? -1 : 1;
    return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* Keep the items (in their order) whose values v[i*n..] no other item dominates. Sorted
 * lexicographically best first, an item can only be dominated by one before it, and a
 * dominated one is dominated by a member of the front, so each item is compared with the
 * front found so far. Equal items all stay. 0, or -1 out of memory. */
static int pareto_front(item_t *it, size_t *n_it, const double *v, int n) {
    size_t N = *n_it, n_front = 0;
    size_t *ord = malloc((N ? N : 1) * sizeof *ord), *front = malloc((N ? N : 1) * sizeof *front);
    unsigned char *keep = calloc(N ? N : 1, 1);
    if (!ord || !front || !keep) {
        free(ord), free(front), free(keep);
        return -1;
    }
    for (size_t i = 0; i < N; i++) ord[i] = i;
    pv_base = v, pv_n = n;
    qsort(ord, N, sizeof *ord, lex_desc);
    for (size_t i = 0; i < N; i++) {
        const double *a = v + ord[i] * (size_t)n;
        size_t j = 0;
        while (j < n_front && !dominates(v + front[j] * (size_t)n, a, n)) j++;
        if (j < n_front) continue;
        front[n_front++] = ord[i];
        keep[ord[i]] = 1;
    }
    size_t m = 0;
    for (size_t i = 0; i < N; i++)
        if (keep[i]) it[m++] = it[i];
    *n_it = m;
    free(ord), free(front), free(keep);
    return 0;
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    static const struct option opts[] = {{"by", required_argument, 0, 'b'},
                                         {"top", required_argument, 0, 'k'},
                                         {"ascending", no_argument, 0, 'a'},
                                         {"format", required_argument, 0, 'F'},
                                         {"truth", required_argument, 0, 't'},
                                         {"aggregate", required_argument, 0, 'A'},
                                         {"log", no_argument, 0, 258},
                                         {"force", no_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {"keep-going", no_argument, 0, 256},
                                         {"ok-if-bad", no_argument, 0, 257},
                                         {"where", required_argument, 0, 'w'},
                                         {"pareto", required_argument, 0, 'p'},
                                         {0, 0, 0, 0}};
    const char *by = "scores.sigeo", *truth = NULL, *format = "msgpack";
    long top = 0;
    int asc = 0, force = 0, ch;
    rec_policy_t pol = {0, 0, 0};
    where_t where[MAX_WHERE];
    int n_where = 0;
    pareto_t par = {0};
    double *pv = NULL; /* --pareto: the oriented values, par.n per kept record */
    size_t cap_pv = 0, n_filtered = 0;
    while ((ch = getopt_long(argc, argv, "b:k:aF:t:A:fhw:p:", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': by = optarg; break;
        case 'k':
            if (util_parse_long(optarg, 0, 1L << 40, &top)) {
                util_bad_option(opts, ch, optarg);
                return EXIT_USAGE;
            }
            break;
        case 'a': asc = 1; break;
        case 'F': format = optarg; break;
        case 't': truth = optarg; break;
        case 'f': force = 1; break;
        case 256: pol.keep_going = 1; break;
        case 257: pol.ok_if_bad = 1; break;
        case 'w':
            if (n_where == MAX_WHERE || where_parse(optarg, &where[n_where])) {
                util_err("bad --where '%s' (KEY OP NUMBER, OP one of <= < >= > == !=; at most %d)",
                         optarg, MAX_WHERE);
                return EXIT_USAGE;
            }
            n_where++;
            break;
        case 'p':
            if (pareto_parse(optarg, &par)) {
                util_err("bad --pareto '%s' (KEY1,-KEY2,... with at most %d keys)", optarg, MAX_PARETO);
                return EXIT_USAGE;
            }
            break;
        case 'A':
            if (agg_parse(optarg)) return EXIT_USAGE;
            by = "scores.aggregate";
            break;
        case 258: A.log = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        util_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    enum { F_MSGPACK, F_TABLE, F_JSONL, F_STATS } fmt;
    if (!strcmp(format, "msgpack")) fmt = F_MSGPACK;
    else if (!strcmp(format, "table")) fmt = F_TABLE;
    else if (!strcmp(format, "jsonl")) fmt = F_JSONL;
    else if (!strcmp(format, "stats")) fmt = F_STATS;
    else {
        util_err("unknown --format '%s' (msgpack, table, jsonl, stats)", format);
        return EXIT_USAGE;
    }
    if (A.log && !A.n) {
        util_err("--log needs --aggregate");
        return EXIT_USAGE;
    }
    int by_all = !strcmp(by, "all");
    if (by_all && A.n) {
        util_err("--aggregate and --by all exclude each other");
        return EXIT_USAGE;
    }
    if ((by_all || fmt == F_STATS) && !truth) {
        util_err("%s needs --truth", by_all ? "--by all" : "--format stats");
        return EXIT_USAGE;
    }
    if (by_all && par.n) {
        util_err("--pareto does not combine with --by all");
        return EXIT_USAGE;
    }
    if ((fmt == F_MSGPACK || fmt == F_STATS) && util_check_binary_stdout(force)) return EXIT_USAGE;

    /* Read everything. */
    rec_reader_t *r = rec_reader_new(STDIN_FILENO, "stdin", 0);
    rec_reader_policy(r, &pol);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_object o;
    int ret, status = EXIT_OK, pol_status = EXIT_OK;
    size_t n_missing = 0, n_seen = 0;
    /* --top K without statistics only ever needs the best K records seen so far. */
    int bounded = top > 0 && !truth && !by_all && !par.n && !A.n; /* ranks need every record */
    while (r && (ret = rec_read(r, &o)) == 1) {
        long rn = rec_reader_count(r);
        if (o.type != MSGPACK_OBJECT_MAP) {
            if (rec_policy_bad(&pol, rn, "record is not a map")) continue;
            status = EXIT_BAD_INPUT;
            break;
        }
        const char *bad = NULL;
        double vals[MAX_PARETO];
        int wp = where_pass(&o, where, n_where, &bad);
        int pp = wp == 1 && par.n ? pareto_values(&o, &par, vals, &bad) : 1;
        if (wp < 0 || pp < 0) {
            if (rec_policy_bad(&pol, rn, "\"%s\" is not a number", bad)) continue;
            status = EXIT_BAD_INPUT;
            break;
        }
        if (!wp || !pp) {
            n_filtered++;
            continue;
        }
        if (par.n && (grow((void **)&pv, &cap_pv, (S.n + 1) * par.n, sizeof *pv))) {
            util_err("out of memory after %zu records", S.n);
            status = EXIT_IO;
            break;
        }
        if (par.n) memcpy(pv + S.n * par.n, vals, sizeof *pv * par.n);
        item_t it = {0, 0, NAN, NAN};
        const char *key = by_all ? truth : by;
        int g = A.n ? REC_OK : rec_get_num(&o, key, &it.key);
        const char *bad_key = NULL;
        if (A.n && (g = agg_collect(&o, S.n, &bad_key)) == -1) {
            util_err("out of memory after %zu records", S.n);
            status = EXIT_IO;
            break;
        }
        if (bad_key) key = bad_key;
        if (g == REC_WRONG_TYPE) {
            if (rec_policy_bad(&pol, rn, "\"%s\" is not a number", key)) continue;
            status = EXIT_BAD_INPUT;
            break;
        }
        if (truth && rec_get_num(&o, truth, &it.truth) == REC_WRONG_TYPE) {
            if (rec_policy_bad(&pol, rn, "\"%s\" is not a number", truth)) continue;
            status = EXIT_BAD_INPUT;
            break;
        }
        if (g == REC_MISSING) n_missing++;
        n_seen++;
        msgpack_sbuffer_clear(&sb);
        if (msgpack_pack_object(&pk, o) || grow((void **)&S.arena, &S.cap_arena, S.n_arena + sb.size, 1) ||
            grow((void **)&S.it, &S.cap, S.n + 1, sizeof *S.it) || (by_all && collect_scores(&o, S.n))) {
            util_err("out of memory after %zu records", S.n);
            status = EXIT_IO;
            break;
        }
        memcpy(S.arena + S.n_arena, sb.data, sb.size);
        it.off = S.n_arena, it.len = sb.size;
        S.n_arena += sb.size;
        S.it[S.n++] = it;
        if (bounded && S.n >= 2 * (size_t)top && prune_to_top((size_t)top, asc)) {
            util_err("out of memory after %zu records", S.n);
            status = EXIT_IO;
            break;
        }
    }
    if (!r) {
        util_err("out of memory");
        return EXIT_IO;
    }
    if (status == EXIT_OK && ret < 0) {
        status = rec_policy_stream_error(&pol, rec_reader_error(r), rec_reader_count(r));
        if (pol.keep_going) pol_status = status, status = EXIT_OK; /* rank what came before */
    }
    rec_reader_free(r);
    msgpack_sbuffer_destroy(&sb);
    if (status != EXIT_OK) return status; /* sorted output of partial input would mislead */
    if (n_missing) util_msg("%zu of %zu records lack \"%s\" (sorted last)", n_missing, n_seen, by_all ? truth : by);
    if (par.n && pareto_front(S.it, &S.n, pv, par.n)) {
        util_err("out of memory");
        return EXIT_IO;
    }
    free(pv);
    if (n_where || par.n)
        util_msg("kept %zu of %zu records (%zu failed --where or lack a --pareto key)", S.n,
                 n_seen + n_filtered, n_filtered);

    if (A.n) {
        double *agg = malloc((S.n ? S.n : 1) * sizeof *agg);
        if (!agg || agg_compute(S.n, agg) || (fmt != F_STATS && agg_write_back(agg))) {
            util_err("out of memory");
            return EXIT_IO;
        }
        for (size_t i = 0; i < S.n; i++) S.it[i].key = agg[i];
        free(agg);
    }

    /* Statistics, before sorting (columns are in input order). */
    size_t k = top > 0 ? (size_t)top : 10;
    rec_writer_t *w = rec_writer_new(STDOUT_FILENO);
    if (truth) {
        size_t n_cols = by_all ? S.n_col : 1;
        double *x = malloc((S.n ? S.n : 1) * sizeof *x), *y = malloc((S.n ? S.n : 1) * sizeof *y);
        if (!x || !y || !w) {
            util_err("out of memory");
            return EXIT_IO;
        }
        for (size_t i = 0; i < S.n; i++) y[i] = S.it[i].truth;
        if (by_all && n_cols == 0) util_msg("no numeric keys under \"scores\"");
        for (size_t c = 0; c < n_cols; c++) {
            char name[256];
            snprintf(name, sizeof name, "%s%s", by_all ? "scores." : "", by_all ? S.col[c].name : by);
            for (size_t i = 0; i < S.n; i++) {
                double v = by_all ? (i < S.col[c].n ? S.col[c].v[i] : NAN) : S.it[i].key;
                x[i] = asc ? -v : v; /* larger x = ranked better */
            }
            rstats_t s = correlate(x, y, S.n, k);
            util_msg("%s vs %s: n=%zu kendall_tau_b=%.4f spearman_rho=%.4f top%zu_hit=%.4f%s", name, truth, s.n,
                     s.tau, s.rho, s.k, s.hit, asc ? " (ascending)" : "");
            if (fmt == F_STATS) {
                rec_t e;
                int bad = rec_new(&e) || rec_set_str(&e, "kind", "rank_stats") || rec_set_str(&e, "by", name) ||
                          rec_set_str(&e, "truth", truth) || rec_set_bool(&e, "ascending", asc) ||
                          rec_set_i64(&e, "n", (int64_t)s.n) || rec_set_i64(&e, "k", (int64_t)s.k) ||
                          rec_set_f64(&e, "kendall_tau_b", s.tau) || rec_set_f64(&e, "spearman_rho", s.rho) ||
                          rec_set_f64(&e, "topk_hit", s.hit);
                if (bad || rec_write(w, &e.root)) {
                    util_err("write: %s", bad ? "out of memory" : strerror(errno));
                    return EXIT_IO;
                }
                rec_edit_end(&e);
            }
        }
        free(x), free(y);
    }
    rec_writer_free(w);
    if (fmt == F_STATS) return rec_policy_exit(&pol, pol_status);

    item_t *tmp = malloc((S.n ? S.n : 1) * sizeof *tmp);
    if (!tmp) {
        util_err("out of memory");
        return EXIT_IO;
    }
    sort_items(S.it, tmp, S.n, by_all ? 0 : asc);
    free(tmp);

    size_t n_out = top > 0 && (size_t)top < S.n ? (size_t)top : S.n;
    const char *key = by_all ? truth : by;
    if (fmt == F_TABLE) {
        if (truth) printf("%4s  %14s  %14s  %6s  %s\n", "rank", key, truth, "index", "arch");
        else printf("%4s  %14s  %6s  %s\n", "rank", key, "index", "arch");
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    for (size_t i = 0; i < n_out; i++) {
        const item_t *it = &S.it[i];
        if (fmt == F_MSGPACK) {
            if (io_write_all(STDOUT_FILENO, S.arena + it->off, it->len)) {
                util_err("write: %s", strerror(errno));
                msgpack_unpacked_destroy(&u);
                return EXIT_IO;
            }
            continue;
        }
        size_t off = 0;
        if (msgpack_unpack_next(&u, S.arena + it->off, it->len, &off) != MSGPACK_UNPACK_SUCCESS) {
            util_err("out of memory");
            msgpack_unpacked_destroy(&u);
            return EXIT_IO;
        }
        if (fmt == F_JSONL) {
            char err[200];
            int j = json_write(stdout, &u.data, err, sizeof err);
            if (j == -2) {
                util_err("%s (ranked record %zu)", err, i + 1);
                msgpack_unpacked_destroy(&u);
                return EXIT_BAD_INPUT;
            }
            putchar('\n');
        } else {
            char a[32], b[32], idx[32], arch[1024];
            fmt_num(a, sizeof a, &u.data, key);
            if (truth) fmt_num(b, sizeof b, &u.data, truth);
            else b[0] = 0;
            fmt_num(idx, sizeof idx, &u.data, "index");
            const msgpack_object *ar = rec_lookup(&u.data, "arch");
            if (ar && ar->type == MSGPACK_OBJECT_STR) /* no terminal escapes from records */
                util_escape(ar->via.str.ptr, ar->via.str.size, arch, sizeof arch);
            else
                snprintf(arch, sizeof arch, "-");
            if (truth) printf("%4zu  %14s  %14s  %6s  %s\n", i + 1, a, b, idx, arch);
            else printf("%4zu  %14s  %6s  %s\n", i + 1, a, idx, arch);
        }
        if (ferror(stdout)) break;
    }
    msgpack_unpacked_destroy(&u);
    int werr = ferror(stdout) ? errno : 0;
    errno = 0;
    if (werr | fclose(stdout)) {
        util_err("write: %s", strerror(werr ? werr : errno ? errno : EIO));
        return EXIT_IO;
    }
    return rec_policy_exit(&pol, pol_status);
}
