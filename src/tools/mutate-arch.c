/* mutate-arch — the mutation step of evolutionary search as a filter: for each parent arch
 * record write K children, each the parent with one choice changed (the space's mutate).
 * Children keep the parent's space, cfg and unknown keys, drop "scores", "truth" and
 * "error", and record the parent's arch under "parent".
 *
 *   rank --by scores.sigeo --top 10 < scored.mp | mutate-arch --children 2 --seed 3
 *
 * A parent's children depend only on --seed and the parent's position in the stream. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/rec.h"
#include "spaces/space.h"
#include "base/util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: mutate-arch [options] < parent records > child records\n"
            "Writes K mutated children per parent arch record (any space).\n"
            "  -k, --children INT   children per parent [1]\n"
            "  -S, --seed INT       random seed [1]\n"
            "  -f, --force          write binary to a terminal anyway\n"
            REC_POLICY_USAGE
            "  -h, --help           this text\n");
}

/* Child record k of parent e: 0, -1 bad input (err), -2 out of memory. */
static int child(rec_t *e, const space_t *S, const space_cfg_t *c, const arch_t *a,
                 rng_t *r, char *err, size_t n_err) {
    char ps[1024], cs[1024];
    arch_t ch;
    if (S->format(a, ps, sizeof ps)) {
        snprintf(err, n_err, "cannot format the parent arch");
        return -1;
    }
    space_mutate(S, r, c, a, &ch);
    if (S->format(&ch, cs, sizeof cs)) {
        snprintf(err, n_err, "mutation produced an invalid arch");
        return -1;
    }
    int bad = rec_del(e, "scores") || rec_del(e, "truth") || rec_del(e, "error") ||
              rec_set_str(e, "kind", "arch") || rec_set_str(e, "arch", cs) ||
              rec_set_str(e, "parent", ps);
    int64_t idx = S->to_index(&ch);
    if (!bad) bad = idx >= 0 ? rec_set_i64(e, "index", idx) : rec_del(e, "index");
    return bad ? -2 : 0;
}

enum opt_id { O_KEEPGOING = 256, O_OKBAD };

int main(int argc, char **argv) {
    util_set_prog("mutate-arch");
    static const struct option lo[] = {{"children", 1, 0, 'k'}, {"seed", 1, 0, 'S'},
                                       {"force", 0, 0, 'f'},    {"help", 0, 0, 'h'},
                                       {"keep-going", 0, 0, O_KEEPGOING}, {"ok-if-bad", 0, 0, O_OKBAD},
                                       {0, 0, 0, 0}};
    rec_policy_t pol = {0, 0, 0};
    long k = 1, seed = 1;
    int force = 0, ch;
    while ((ch = getopt_long(argc, argv, "k:S:fh", lo, NULL)) != -1) {
        switch (ch) {
        case 'k':
            if (util_parse_long(optarg, 0, 1000000, &k)) goto bad;
            break;
        case 'S':
            if (util_parse_long(optarg, 0, (long)(~0ul >> 1), &seed)) goto bad;
            break;
        case 'f': force = 1; break;
        case O_KEEPGOING: pol.keep_going = 1; break;
        case O_OKBAD: pol.ok_if_bad = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
        continue;
    bad:
        util_bad_option(lo, ch, optarg);
        return EXIT_USAGE;
    }
    if (optind < argc) {
        util_err("unexpected argument '%s' (records come on stdin)", argv[optind]);
        return EXIT_USAGE;
    }
    if (util_check_binary_stdout(force)) return EXIT_USAGE;
    rec_reader_t *rd;
    rec_writer_t *wr;
    if (rec_filter_open(&pol, &rd, &wr)) return EXIT_IO;
    msgpack_object in;
    int r, rc = EXIT_OK;
    char err[512];
    while ((r = rec_read(rd, &in)) == 1) {
        long n = rec_reader_count(rd);
        const space_t *S;
        arch_t a;
        space_cfg_t c;
        if (space_read_record(&in, &S, &a, &c, err, sizeof err)) {
            if (rec_policy_bad(&pol, n, "%s", err)) continue;
            rc = EXIT_BAD_INPUT;
            break;
        }
        rng_t rg;
        rng_seed(&rg, (uint64_t)seed * 0x9e3779b97f4a7c15ull ^ (uint64_t)n);
        for (long i = 0; i < k && rc == EXIT_OK; i++) {
            rec_t e;
            if (rec_edit_begin(&e, &in)) {
                util_err("out of memory (record %ld)", n);
                rc = EXIT_IO;
                break;
            }
            int s = child(&e, S, &c, &a, &rg, err, sizeof err);
            if (s == -1) util_err("%s (record %ld)", err, n), rc = EXIT_BAD_INPUT;
            else if (s == -2) util_err("out of memory (record %ld)", n), rc = EXIT_IO;
            else if (rec_write(wr, &e.root)) {
                util_err("writing record %ld: %s", n, strerror(errno));
                rc = EXIT_IO;
            }
            rec_edit_end(&e);
        }
        if (rc) break;
    }
    if (r < 0) rc = rec_policy_stream_error(&pol, rec_reader_error(rd), rec_reader_count(rd));
    rc = rec_policy_exit(&pol, rc);
    rec_reader_free(rd);
    rec_writer_free(wr);
    return rc;
}
