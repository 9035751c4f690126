/* score-sigeo — score each arch record with SiGeo and the zero-cost baselines over
 * weights inherited from a supernet checkpoint (docs/proxies.md).
 *
 *   sample-arch -n 100 | score-sigeo --supernet sn.ckpt | rank --by scores.sigeo
 *
 * The supernet is loaded once and never written: each candidate's network is built over
 * a working copy of its parameters, and every proxy first copies the views the network
 * uses from the supernet. The data batches are drawn once from --seed, so every candidate
 * (and every shard) sees the same batches and a record's scores do not depend on its
 * position in the stream. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/ckpt.h"
#include "data/feed.h"
#include "engine/layers.h"
#include "engine/net.h"
#include "proxies/proxy.h"
#include "proxies/scorer.h"
#include "io/rec.h"
#include "spaces/space.h"
#include "base/util.h"

typedef struct {
    const char *proxies;
    long threads, shard_i, shard_n;
    int progress, force;
    scorer_opts_t so;
} opts_t;

static void usage(FILE *f) {
    fprintf(f,
            "usage: score-sigeo --supernet FILE [options] < arch records > scored records\n"
            "Adds scores.<proxy> to each record (docs/proxies.md); a score that is not finite\n"
            "is NaN and the record gets an \"error\" key saying why.\n"
            "  --supernet FILE      supernet checkpoint from warmup-supernet (required);\n"
            "                       repeated: few-shot sub-supernets of one split\n"
            "                       (warmup-supernet --fix E=OP), one per op; a record is\n"
            "                       scored over the one split on its op at edge E\n"
            "  --data PATH          training data [the checkpoint's data and data options, else "
            DATA_DEFAULT_DIR "]\n"
            FEED_USAGE
            "  --proxies LIST       comma list of proxies; 'all' in it is every one but the\n"
            "                       timed [every default-on proxy]:\n"
            "                       ");
    for (int i = 0; proxy_table[i]; i++)
        fprintf(f, "%s%s%s", proxy_table[i]->name,
                proxy_table[i]->flags & PROXY_TIMED     ? "(timed)"
                : proxy_table[i]->flags & PROXY_DEFAULT ? ""
                                                        : "(off)",
                proxy_table[i + 1] ? "," : "\n");
    fprintf(f,
            "  --seed INT           which training examples form the batches [1]\n"
            "  --batches INT        SiGeo/ZiCo mini-batches K [4]\n"
            "  --batch INT          examples per mini-batch [64]\n"
            "  --step-lr X          plain-SGD step after each SiGeo batch [1.0]\n"
            "  --l1 X, --l2 X, --l3 X, --l4 X  sigeo = l1*S1 + l2*S2 - l3*L + l4*J\n"
            "                       [the checkpoint's lambda: 1,50,10,30 warmed up, 1,50,0,30\n"
            "                       untrained; docs/quality.md]\n"
            "  --paper              the paper's weights instead: 1,1,0,0 untrained, 1,50,1,0\n"
            "                       warmed up (explicit --lN still win)\n"
            "  --bn-batches INT     one-shot: batches that recompute BN statistics [4]\n"
            "  --eval-batches INT   one-shot: held-out batches evaluated [4]\n"
            "  --latency-batch INT  latency: the batch timed besides batch 1 [%d]\n"
            "  --latency-repeats INT  latency: timed runs per batch size, median kept [%d]\n"
            "  --shard I/N          score only records i (0-based) with i %% N == I [0/1]\n"
            "  --no-memo            score every record, also those whose network reaching the\n"
            "                       loss equals an earlier one's (same output either way)\n"
            "  --threads INT        engine threads (results depend on it) [1]\n"
            "  --progress           progress on stderr even when it is not a terminal\n"
            "  -q, --quiet          no progress, even on a terminal\n"
            "  -f, --force          write binary records to a terminal\n"
            REC_POLICY_USAGE
            "  -h, --help           this text\n"
            "A record that cannot be scored (bad arch, space or cfg other than the supernet's)\n"
            "is bad input: exit 1 after the records before it (docs/reliability.md).\n",
            PROXY_LAT_BATCH, PROXY_LAT_REPEATS);
}

enum opt_id { O_SUPERNET = 256, O_DATA, O_PROXIES, O_SEED, O_BATCHES, O_BATCH, O_STEPLR, O_L1,
              O_L2, O_L3, O_L4, O_PAPER, O_BNB, O_EVB, O_SHARD, O_THREADS, O_PROGRESS, O_KEEP,
              O_OKBAD, O_NOMEMO, O_LATB, O_LATR };

/* Options into o and pol; -1 to go on, else the exit status (after --help, or a usage
 * error). */
static int parse_opts(int argc, char **argv, opts_t *o, rec_policy_t *pol) {
    static const struct option lo[] = {
        {"supernet", 1, 0, O_SUPERNET}, {"data", 1, 0, O_DATA},
        {"proxies", 1, 0, O_PROXIES},   {"seed", 1, 0, O_SEED},
        {"batches", 1, 0, O_BATCHES},   {"batch", 1, 0, O_BATCH},
        {"step-lr", 1, 0, O_STEPLR},    {"l1", 1, 0, O_L1},
        {"l2", 1, 0, O_L2},             {"l3", 1, 0, O_L3},
        {"l4", 1, 0, O_L4},             {"paper", 0, 0, O_PAPER},
        {"bn-batches", 1, 0, O_BNB},    {"eval-batches", 1, 0, O_EVB},
        {"shard", 1, 0, O_SHARD},       {"threads", 1, 0, O_THREADS},
        {"progress", 0, 0, O_PROGRESS}, {"quiet", 0, 0, 'q'},
        {"force", 0, 0, 'f'},           {"help", 0, 0, 'h'},
        {"keep-going", 0, 0, O_KEEP},   {"ok-if-bad", 0, 0, O_OKBAD},
        {"no-memo", 0, 0, O_NOMEMO},   {"latency-batch", 1, 0, O_LATB},
        {"latency-repeats", 1, 0, O_LATR}, FEED_LONG_OPTIONS,
        {0, 0, 0, 0}};
    scorer_opts_t *so = &o->so;
    int ch;
    while ((ch = getopt_long(argc, argv, "qfh", lo, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case O_SUPERNET:
            if (so->n_supernets == SCORER_MAX_SUPERNETS) {
                util_err("--supernet given more than %d times", SCORER_MAX_SUPERNETS);
                return EXIT_USAGE;
            }
            so->supernet[so->n_supernets++] = optarg;
            break;
        case O_DATA: so->data_path = optarg; break;
        case O_PROXIES: o->proxies = optarg; break;
        case O_SEED: bad = util_parse_long(optarg, 0, (long)(~0ul >> 1), &so->seed); break;
        case O_BATCHES: bad = util_parse_long(optarg, 2, 1024, &so->batches); break;
        case O_BATCH: bad = util_parse_long(optarg, 2, 4096, &so->batch); break;
        case O_STEPLR: bad = util_parse_double(optarg, &so->step_lr) || !(so->step_lr >= 0); break;
        case O_L1:
        case O_L2:
        case O_L3:
        case O_L4:
            bad = util_parse_double(optarg, &so->lambda[ch - O_L1]);
            so->have_lambda[ch - O_L1] = 1;
            break;
        case O_PAPER: so->paper = 1; break;
        case O_BNB: bad = util_parse_long(optarg, 1, 1024, &so->bn_batches); break;
        case O_EVB: bad = util_parse_long(optarg, 1, 1024, &so->eval_batches); break;
        case O_LATB: bad = util_parse_long(optarg, 1, 4096, &so->lat_batch); break;
        case O_LATR: bad = util_parse_long(optarg, 1, 1000, &so->lat_repeats); break;
        case O_SHARD: {
            char tail;
            static int shard_given; /* a second --shard would silently replace the first */
            if (shard_given++) {
                util_err("--shard given twice ('%s'); give it once", optarg);
                return EXIT_USAGE;
            }
            bad = sscanf(optarg, "%ld/%ld%c", &o->shard_i, &o->shard_n, &tail) != 2 ||
                  o->shard_n < 1 || o->shard_i < 0 || o->shard_i >= o->shard_n;
            break;
        }
        case O_THREADS: bad = util_parse_long(optarg, 1, LAY_MAX_THREADS, &o->threads); break;
        case O_PROGRESS: o->progress = 1; break;
        case O_NOMEMO: so->no_memo = 1; break;
        case 'q': o->progress = -1; break;
        case O_KEEP: pol->keep_going = 1, so->keep_going = 1; break;
        case O_OKBAD: pol->ok_if_bad = 1; break;
        case 'f': o->force = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: {
            data_spec_t probe = {0};
            int f = so->n_dopt == 16 ? 1 : feed_option_cli(&probe, ch, optarg);
            if (f) return f > 0 ? usage(stderr), EXIT_USAGE : EXIT_USAGE;
            so->dopt_ch[so->n_dopt] = ch, so->dopt_arg[so->n_dopt++] = optarg;
        }
        }
        if (bad) return util_bad_option(lo, ch, optarg), EXIT_USAGE;
    }
    if (optind < argc) {
        util_err("unexpected argument '%s' (records come on stdin)", argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

/* Score the records of stdin (this shard's) onto stdout. The exit status. */
static int score_stream(const opts_t *o, scorer_t *s, rec_policy_t *pol) {
    char err[1024];
    rec_reader_t *rd;
    rec_writer_t *wr;
    if (rec_filter_open(pol, &rd, &wr)) return EXIT_IO;
    int show = o->progress > 0 || (o->progress == 0 && isatty(STDERR_FILENO));
    double t0 = util_now(), t_last = t0;
    long scored = 0, n_nan = 0;
    msgpack_object in;
    int r, rc = EXIT_OK;
    while ((r = rec_read(rd, &in)) == 1) {
        long n = rec_reader_count(rd);
        if ((n - 1) % o->shard_n != o->shard_i) continue;
        rec_t e;
        if (rec_edit_begin(&e, &in)) {
            util_err("out of memory (record %ld)", n);
            rc = EXIT_IO;
            break;
        }
        int sr = scorer_score(s, &in, &e, err, sizeof err);
        if (sr == -1 && rec_policy_bad(pol, n, "%s", err)) {
            rec_edit_end(&e);
            continue;
        }
        if (sr) {
            if (sr != -1) util_err("out of memory (record %ld)", n);
            rec_edit_end(&e);
            rc = sr == -1 ? EXIT_BAD_INPUT : EXIT_IO;
            break;
        }
        n_nan += rec_lookup(&e.root, "error") != NULL;
        int w = rec_write(wr, &e.root);
        rec_edit_end(&e);
        if (w) {
            util_err("writing record %ld: %s", n, strerror(errno));
            rc = EXIT_IO;
            break;
        }
        scored++;
        double now = util_now();
        if (show && now - t_last >= (isatty(STDERR_FILENO) ? 0.5 : 10.0)) {
            util_msg("%ld scored, %.2f/s, %ld with errors", scored, scored / (now - t0), n_nan);
            t_last = now;
        }
    }
    if (r < 0) rc = rec_policy_stream_error(pol, rec_reader_error(rd), rec_reader_count(rd));
    if (show && rc == EXIT_OK) {
        double dt = util_now() - t0;
        util_msg("%ld scored in %.1f s (%.2f/s), %ld with errors, %ld from the memo of "
                 "equal live networks", scored, dt, dt > 0 ? scored / dt : 0.0, n_nan, scorer_memo_hits(s));
    }
    rec_reader_free(rd);
    rec_writer_free(wr);
    return rc;
}

int main(int argc, char **argv) {
    util_set_prog("score-sigeo");
    opts_t o = {.threads = 1, .shard_n = 1,
                .so = {.seed = 1, .batches = 4, .batch = 64, .bn_batches = 4, .eval_batches = 4, .step_lr = 1.0,
                       .lat_batch = PROXY_LAT_BATCH, .lat_repeats = PROXY_LAT_REPEATS}};
    rec_policy_t pol = {0, 0, 0};
    unsigned char on[PROXY_MAX];
    char err[1024];
    int rc = parse_opts(argc, argv, &o, &pol);
    if (rc >= 0) return rc;
    if (!o.so.n_supernets) {
        util_err("--supernet FILE is required (make one with warmup-supernet)");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (scorer_select(o.proxies, on, err, sizeof err)) return util_err("%s", err), EXIT_USAGE;
    if (util_check_binary_stdout(o.force)) return EXIT_USAGE;
    lay_set_threads((int)o.threads);
    static ckpt_t ck[SCORER_MAX_SUPERNETS]; /* large (loss curve); static keeps them off the stack */
    ckpt_t *cks[SCORER_MAX_SUPERNETS];
    int n = ckpt_load_all(o.so.supernet, o.so.n_supernets, ck, cks, err, sizeof err);
    if (n < o.so.n_supernets) util_err("%s", err), rc = EXIT_BAD_INPUT;
    scorer_t *s = n == o.so.n_supernets ? scorer_open(&o.so, cks, n, on, &rc) : NULL;
    if (s) rc = rec_policy_exit(&pol, score_stream(&o, s, &pol));
    scorer_free(s);
    for (int i = 0; i < n; i++) ckpt_free(&ck[i]);
    return rc;
}
