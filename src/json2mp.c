/* json2mp — JSON Lines (or any whitespace-separated JSON values, such as jq's pretty
 * output) to a msgpack stream; the inverse of mp2json (docs/records.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "rec.h"
#include "util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: json2mp [options] < records.jsonl > records.mp\n"
            "Converts JSON values (one per line, or any whitespace between) to msgpack.\n"
            "  -f, --force  write binary to a terminal anyway\n"
            "  -h, --help   this text\n");
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    static const struct option opts[] = {
        {"force", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int ch, force = 0;
    while ((ch = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': force = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        util_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (util_check_binary_stdout(force)) return EXIT_USAGE;
    json_reader_t *r = json_reader_new(stdin, 0);
    rec_writer_t *w = rec_writer_new(STDOUT_FILENO);
    if (!r || !w) {
        util_err("out of memory");
        return EXIT_IO;
    }
    msgpack_object o;
    long n = 0;
    int ret, status = EXIT_OK;
    while ((ret = json_read(r, &o)) == 1) {
        n++;
        if (rec_write(w, &o)) {
            util_err("writing stdout: %s", strerror(errno));
            status = EXIT_IO;
            break;
        }
    }
    if (ret < 0) {
        util_err("%s (record %ld)", json_reader_error(r), n + 1);
        status = EXIT_BAD_INPUT;
    }
    json_reader_free(r);
    rec_writer_free(w);
    return status;
}
