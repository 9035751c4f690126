/* mp2json — msgpack record stream to JSON Lines, one compact JSON value per line, for
 * people and jq. The mapping (exact round trip with json2mp) is in docs/records.md. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "rec.h"
#include "util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: mp2json [options] < records.mp > records.jsonl\n"
            "Converts a msgpack stream to JSON Lines (json2mp converts back).\n"
            "  -h, --help   this text\n");
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return EXIT_OK;
        }
        usage(stderr);
        return EXIT_USAGE;
    }
    if (optind < argc) {
        util_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    rec_reader_t *r = rec_reader_new(STDIN_FILENO, "stdin", 0);
    if (!r) {
        util_err("out of memory");
        return EXIT_IO;
    }
    msgpack_object o;
    int ret, status = EXIT_OK;
    char err[200];
    while ((ret = rec_read(r, &o)) == 1) {
        int w = json_write(stdout, &o, err, sizeof err);
        if (w == -2) {
            util_err("%s (record %ld)", err, rec_reader_count(r));
            status = EXIT_BAD_INPUT;
            break;
        }
        if (w < 0 || putchar('\n') == EOF) break;
    }
    if (ret < 0) {
        util_err("%s (record %ld)", rec_reader_error(r), rec_reader_count(r));
        status = EXIT_BAD_INPUT;
    }
    rec_reader_free(r);
    if (ferror(stdout) | fclose(stdout)) {
        util_err("writing stdout failed");
        return EXIT_IO;
    }
    return status;
}
