/* sample-arch — emit architecture records (kind "arch") for a search space: every cell
 * in index order (--all), or N distinct cells drawn uniformly at random from a seed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/ckpt.h"
#include "io/rec.h"
#include "spaces/space.h"
#include "base/util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: sample-arch [options] > archs.mp\n"
            "Writes architecture records (msgpack, kind \"arch\") to stdout.\n"
            "  -s, --space NAME     search space [nb201]\n"
            "  -a, --all            every cell of the space in index order\n"
            "  -n, --count INT      distinct cells to sample uniformly [100]\n"
            "  -S, --seed INT       random seed [1]\n"
            "      --channels INT   stem channels C [8]\n"
            "      --cells INT      cells per stage N (nb201) or in all (darts) [nb201 1, darts 5]\n"
            "      --input CxHxW    input shape [1x28x28]\n"
            "      --classes INT    output classes [10]\n"
            "      --supernet FILE  take the space and all of the above from a checkpoint of\n"
            "                       warmup-supernet (shapes found in its data) [none]\n"
            "  -f, --force          write binary to a terminal anyway\n"
            "  -h, --help           this text\n");
}

/* A set of 64-bit hashes of gene tuples (open addressing), to keep samples distinct. */
typedef struct {
    uint64_t *slot;
    size_t cap;
} seen_t;

static uint64_t arch_hash(const arch_t *a) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < a->n; i++) h = (h ^ (uint64_t)(a->g[i] + 1)) * 1099511628211ull;
    return h ? h : 1; /* 0 marks an empty slot */
}

/* 1 if newly added, 0 if present. */
static int seen_add(seen_t *s, const arch_t *a) {
    uint64_t h = arch_hash(a);
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == h) return 0;
        if (s->slot[i] == 0) {
            s->slot[i] = h;
            return 1;
        }
    }
}

static int emit(rec_writer_t *w, const space_t *S, const space_cfg_t *c, const arch_t *a) {
    char s[1024];
    rec_t e;
    if (S->format(a, s, sizeof s) || rec_new(&e)) return -2;
    int bad = rec_set_str(&e, "kind", "arch") || rec_set_str(&e, "space", S->name) || rec_set_str(&e, "arch", s);
    int64_t idx = S->to_index(a);
    if (!bad && idx >= 0) bad = rec_set_i64(&e, "index", idx);
    if (!bad) bad = space_cfg_write(S, c, &e, "cfg");
    int ret = bad ? -2 : rec_write(w, &e.root);
    rec_edit_end(&e);
    return ret;
}

typedef struct {
    const char *space, *input, *supernet;
    long n, seed, channels, cells, classes;
    int all, force, have_n;
} opts_t;

/* -1 to go on, or the exit status. */
static int parse_opts(int argc, char **argv, opts_t *o) {
    enum { O_CHANNELS = 256, O_CELLS, O_INPUT, O_CLASSES, O_SUPERNET };
    static const struct option lo[] = {{"space", required_argument, 0, 's'},
                                       {"all", no_argument, 0, 'a'},
                                       {"count", required_argument, 0, 'n'},
                                       {"seed", required_argument, 0, 'S'},
                                       {"channels", required_argument, 0, O_CHANNELS},
                                       {"cells", required_argument, 0, O_CELLS},
                                       {"input", required_argument, 0, O_INPUT},
                                       {"classes", required_argument, 0, O_CLASSES},
                                       {"supernet", required_argument, 0, O_SUPERNET},
                                       {"force", no_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    *o = (opts_t){.space = "nb201", .n = 100, .seed = 1, .channels = -1, .cells = -1, .classes = -1};
    int ch, bad = 0;
    while (!bad && (ch = getopt_long(argc, argv, "s:an:S:fh", lo, NULL)) != -1) {
        switch (ch) {
        case 's': o->space = optarg; break;
        case 'a': o->all = 1; break;
        case 'n': o->have_n = 1, bad = util_parse_long(optarg, 0, 1L << 40, &o->n); break;
        case 'S': bad = util_parse_long(optarg, 0, INT64_MAX, &o->seed); break;
        case O_CHANNELS: bad = util_parse_long(optarg, 1, 4096, &o->channels); break;
        case O_CELLS: bad = util_parse_long(optarg, 1, 64, &o->cells); break;
        case O_CLASSES: bad = util_parse_long(optarg, 2, 100000, &o->classes); break;
        case O_INPUT: o->input = optarg; break;
        case O_SUPERNET: o->supernet = optarg; break;
        case 'f': o->force = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (bad) return util_bad_option(lo, ch, optarg), EXIT_USAGE;
    if (optind < argc) return util_err("unexpected argument '%s'", argv[optind]), EXIT_USAGE;
    if (o->all && o->have_n) return util_err("--all and -n exclude each other"), EXIT_USAGE;
    if (o->supernet && (o->channels > 0 || o->cells > 0 || o->classes > 0 || o->input)) {
        util_err("--supernet sets the space parameters; drop --channels, --cells, --input, --classes");
        return EXIT_USAGE;
    }
    return -1;
}

/* The space and its configuration from the options (and --supernet). -1 to go on, or the
 * exit status. */
static int resolve(const opts_t *o, const space_t **sp, space_cfg_t *c) {
    static ckpt_t ck; /* large (loss curve): not on the stack */
    const char *space = o->space;
    if (o->supernet) {
        char err[1024];
        if (ckpt_load(o->supernet, &ck, err, sizeof err)) return util_err("%s", err), EXIT_BAD_INPUT;
        space = ck.space->name;
    }
    const space_t *S = space_find(space);
    if (!S) return util_err("unknown space '%s'", space), EXIT_USAGE;
    if (o->all && S->n_arch < 0) {
        util_err("space '%s' cannot be enumerated (--all)%s%s", S->name, S->no_enum ? ": " : "",
                 S->no_enum ? S->no_enum : "");
        return EXIT_USAGE;
    }
    if (!o->all && S->n_arch >= 0 && o->n > S->n_arch) {
        util_err("cannot sample %ld distinct cells from a space of %lld", o->n, (long long)S->n_arch);
        return EXIT_USAGE;
    }
    space_cfg_default(S, c);
    if (o->supernet) *c = ck.cfg, ckpt_free(&ck);
    char err[256];
    if (space_cfg_options(c, o->channels, o->cells, o->classes, o->input, err, sizeof err))
        return util_err("%s", err), EXIT_USAGE;
    *sp = S;
    return -1;
}

/* Every cell (--all) or n distinct random ones. 0, -2 out of memory, -1 write error. */
static int write_cells(rec_writer_t *w, const space_t *S, const space_cfg_t *c, const opts_t *o) {
    int ret = 0;
    if (o->all) {
        for (int64_t i = 0; i < S->n_arch && ret == 0; i++) {
            arch_t a;
            ret = S->from_index(i, &a) ? -2 : emit(w, S, c, &a);
        }
        return ret;
    }
    if (o->n == 0) return 0;
    seen_t s = {NULL, 16};
    while (s.cap < 2 * (size_t)o->n) s.cap *= 2;
    if (!(s.slot = calloc(s.cap, sizeof *s.slot))) return -2;
    rng_t r;
    rng_seed(&r, (uint64_t)o->seed);
    for (long k = 0; k < o->n && ret == 0;) {
        arch_t a;
        space_sample(S, &r, c, &a);
        if (!seen_add(&s, &a)) continue;
        ret = emit(w, S, c, &a);
        k++;
    }
    free(s.slot);
    return ret;
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    opts_t o;
    const space_t *S = NULL;
    space_cfg_t c;
    int st = parse_opts(argc, argv, &o);
    if (st >= 0 || (st = resolve(&o, &S, &c)) >= 0) return st;
    if (util_check_binary_stdout(o.force)) return EXIT_USAGE;
    rec_writer_t *w = rec_writer_new(STDOUT_FILENO);
    if (!w) return util_err("out of memory"), EXIT_IO;
    int ret = write_cells(w, S, &c, &o);
    rec_writer_free(w);
    if (ret == -2) return util_err("out of memory building a record"), EXIT_IO;
    if (ret) return util_err("writing stdout: %s", strerror(errno)), EXIT_IO;
    return EXIT_OK;
}
