/* gen-criteo — synthetic click data in the Criteo Kaggle format (label, 13 integer and 26
 * categorical features, tab-separated) from a hidden teacher model with feature
 * interactions, so that recommender architectures really differ in quality
 * (docs/nasrec.md). The same --seed and --rows give the same bytes.
 *
 *   gen-criteo --seed 1 -o data/criteo-synth.tsv
 *
 * The teacher model is data/synth.h. */
#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "data/synth.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: gen-criteo [options] > data.tsv\n"
            "Writes synthetic Criteo-format click data (label, I1..I13, C1..C26) from a hidden\n"
            "teacher model with feature interactions (docs/nasrec.md).\n"
            "  -n, --rows INT       lines to write [1000000]\n"
            "  -S, --seed INT       teacher and sampling seed [1]\n"
            "  -o, --out FILE       output file [stdout]\n"
            "  -h, --help           this text\n");
}

int main(int argc, char **argv) {
    util_set_prog("gen-criteo");
    static const struct option lo[] = {{"rows", 1, 0, 'n'}, {"seed", 1, 0, 'S'},
                                       {"out", 1, 0, 'o'},  {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    long rows = 1000000, seed = 1;
    const char *out = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "n:S:o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (util_parse_long(optarg, 1, 1L << 40, &rows)) goto bad;
            break;
        case 'S':
            if (util_parse_long(optarg, 0, (long)(~0ul >> 1), &seed)) goto bad;
            break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
        continue;
    bad:
        util_bad_option(lo, ch, optarg);
        return EXIT_USAGE;
    }
    if (optind < argc) {
        util_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        util_err("cannot write %s: %s", out, strerror(errno));
        return EXIT_IO;
    }
    synth_t *t = synth_new((uint64_t)seed);
    if (!t) {
        util_err("out of memory");
        if (out) fclose(f);
        return EXIT_IO;
    }
    int rc = EXIT_OK, werr = 0;
    for (long i = 0; i < rows; i++) {
        char line[SYNTH_LINE_MAX];
        int n = synth_line(t, line);
        if (fwrite(line, 1, (size_t)n, f) != (size_t)n) {
            rc = EXIT_IO, werr = errno;
            break;
        }
    }
    if ((fflush(f) || ferror(f)) && !werr) rc = EXIT_IO, werr = errno;
    if (out && fclose(f) && !werr) rc = EXIT_IO, werr = errno;
    if (rc) util_err("writing %s: %s", out ? out : "stdout", strerror(werr ? werr : EIO));
    synth_free(t);
    return rc;
}
