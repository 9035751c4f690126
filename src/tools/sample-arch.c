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
    if (!bad) bad = S->cfg_write(c, &e, "cfg");
    int ret = bad ? -2 : rec_write(w, &e.root);
    rec_edit_end(&e);
    return ret;
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    enum { O_CHANNELS = 256, O_CELLS, O_INPUT, O_CLASSES, O_SUPERNET };
    static const struct option opts[] = {{"space", required_argument, 0, 's'},
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
    const char *space = "nb201", *input = NULL, *supernet = NULL;
    long n = 100, seed = 1, channels = -1, cells = -1, classes = -1;
    int all = 0, force = 0, have_n = 0, ch;
    while ((ch = getopt_long(argc, argv, "s:an:S:fh", opts, NULL)) != -1) {
        switch (ch) {
        case 's': space = optarg; break;
        case 'a': all = 1; break;
        case 'n':
            have_n = 1;
            if (util_parse_long(optarg, 0, 1L << 40, &n)) goto bad_num;
            break;
        case 'S':
            if (util_parse_long(optarg, 0, INT64_MAX, &seed)) goto bad_num;
            break;
        case O_CHANNELS:
            if (util_parse_long(optarg, 1, 4096, &channels)) goto bad_num;
            break;
        case O_CELLS:
            if (util_parse_long(optarg, 1, 64, &cells)) goto bad_num;
            break;
        case O_CLASSES:
            if (util_parse_long(optarg, 2, 100000, &classes)) goto bad_num;
            break;
        case O_INPUT: input = optarg; break;
        case O_SUPERNET: supernet = optarg; break;
        case 'f': force = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
        continue;
    bad_num:
        util_bad_option(opts, ch, optarg);
        return EXIT_USAGE;
    }
    if (optind < argc) {
        util_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    static ckpt_t ck; /* large (loss curve): not on the stack */
    if (supernet) {
        char err[1024];
        if (channels > 0 || cells > 0 || classes > 0 || input) {
            util_err("--supernet sets the space parameters; drop --channels, --cells, --input, --classes");
            return EXIT_USAGE;
        }
        if (ckpt_load(supernet, &ck, err, sizeof err)) {
            util_err("%s", err);
            return EXIT_BAD_INPUT;
        }
        space = ck.space->name;
    }
    const space_t *S = space_find(space);
    if (!S) {
        util_err("unknown space '%s'", space);
        return EXIT_USAGE;
    }
    if (all && have_n) {
        util_err("--all and -n exclude each other");
        return EXIT_USAGE;
    }
    if (all && S->n_arch < 0) {
        util_err("space '%s' cannot be enumerated (--all)%s%s", S->name, S->no_enum ? ": " : "",
                 S->no_enum ? S->no_enum : "");
        return EXIT_USAGE;
    }
    if (!all && S->n_arch >= 0 && n > S->n_arch) {
        util_err("cannot sample %ld distinct cells from a space of %lld", n, (long long)S->n_arch);
        return EXIT_USAGE;
    }
    space_cfg_t c;
    S->cfg_default(&c);
    if (supernet) c = ck.cfg, ckpt_free(&ck);
    if (channels > 0) c.C = (int)channels;
    if (cells > 0) c.N = (int)cells;
    if (classes > 0) c.classes = (int)classes;
    if (input) {
        int ci, h, wd;
        char tail;
        if (sscanf(input, "%dx%dx%d%c", &ci, &h, &wd, &tail) != 3 || ci < 1 || ci > 64 || h < 4 || h > 4096 ||
            wd < 4 || wd > 4096) {
            util_err("bad --input '%s' (want CxHxW, e.g. 3x32x32)", input);
            return EXIT_USAGE;
        }
        c.in_ch = ci, c.H = h, c.W = wd;
    }
    if (util_check_binary_stdout(force)) return EXIT_USAGE;

    rec_writer_t *w = rec_writer_new(STDOUT_FILENO);
    if (!w) {
        util_err("out of memory");
        return EXIT_IO;
    }
    int ret = 0;
    if (all) {
        for (int64_t i = 0; i < S->n_arch && ret == 0; i++) {
            arch_t a;
            if (S->from_index(i, &a)) ret = -2;
            else ret = emit(w, S, &c, &a);
        }
    } else if (n > 0) {
        seen_t s;
        s.cap = 16;
        while (s.cap < 2 * (size_t)n) s.cap *= 2;
        s.slot = calloc(s.cap, sizeof *s.slot);
        if (!s.slot) {
            util_err("out of memory for %ld samples", n);
            return EXIT_IO;
        }
        rng_t r;
        rng_seed(&r, (uint64_t)seed);
        for (long k = 0; k < n && ret == 0;) {
            arch_t a;
            space_sample(S, &r, &c, &a);
            if (!seen_add(&s, &a)) continue;
            ret = emit(w, S, &c, &a);
            k++;
        }
        free(s.slot);
    }
    rec_writer_free(w);
    if (ret == -2) {
        util_err("out of memory building a record");
        return EXIT_IO;
    }
    if (ret) {
        util_err("writing stdout: %s", strerror(errno));
        return EXIT_IO;
    }
    return EXIT_OK;
}
