/* mp2json — msgpack record stream to JSON Lines, one compact JSON value per line, for
 * people and jq. The mapping (exact round trip with json2mp) is in docs/records.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/json.h"
#include "io/rec.h"
#include "base/util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: mp2json [options] < records.mp > records.jsonl\n"
            "Converts a msgpack stream to JSON Lines (json2mp converts back). A record JSON\n"
            "cannot hold (non-string map key, invalid UTF-8) is bad input.\n"
            REC_POLICY_USAGE
            "  -h, --help           this text\n"
            "Exit: 0 ok, 1 bad input, 2 usage, 3 write error (docs/reliability.md).\n");
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    enum { O_KEEP = 256, O_OKBAD };
    static const struct option opts[] = {{"keep-going", no_argument, 0, O_KEEP},
                                         {"ok-if-bad", no_argument, 0, O_OKBAD},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    rec_policy_t pol = {0, 0, 0};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case O_KEEP: pol.keep_going = 1; break;
        case O_OKBAD: pol.ok_if_bad = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        util_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    rec_reader_t *r = rec_reader_new(STDIN_FILENO, "stdin", 0);
    rec_reader_policy(r, &pol);
    if (!r) {
        util_err("out of memory");
        return EXIT_IO;
    }
    msgpack_object o;
    int ret, status = EXIT_OK, werr = 0;
    char err[200];
    while ((ret = rec_read(r, &o)) == 1) {
        int w = json_write(stdout, &o, err, sizeof err);
        if (w == -2) {
            if (rec_policy_bad(&pol, rec_reader_count(r), "%s", err)) continue;
            status = EXIT_BAD_INPUT;
            break;
        }
        if (w < 0 || putchar('\n') == EOF) {
            werr = errno;
            break;
        }
    }
    if (ret < 0) status = rec_policy_stream_error(&pol, rec_reader_error(r), rec_reader_count(r));
    rec_reader_free(r);
    errno = 0;
    if (werr || ferror(stdout) | fclose(stdout)) {
        util_err("write: %s", strerror(werr ? werr : errno ? errno : EIO));
        return EXIT_IO;
    }
    return rec_policy_exit(&pol, status);
}
