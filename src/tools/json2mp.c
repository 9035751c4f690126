/* json2mp — JSON Lines (or any whitespace-separated JSON values, such as jq's pretty
 * output) to a msgpack stream; the inverse of mp2json (docs/records.md). */
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
            "usage: json2mp [options] < records.jsonl > records.mp\n"
            "Converts JSON values (one per line, or any whitespace between) to msgpack.\n"
            "  -f, --force          write binary to a terminal anyway\n"
            REC_POLICY_USAGE
            "                       (a JSON syntax error skips the rest of its line: JSON\n"
            "                       Lines resynchronize at the next newline)\n"
            "  -h, --help           this text\n"
            "Exit: 0 ok, 1 bad input, 2 usage, 3 write error (docs/reliability.md).\n");
}

int main(int argc, char **argv) {
    util_set_prog(argv[0]);
    enum { O_KEEP = 256, O_OKBAD };
    static const struct option opts[] = {{"force", no_argument, 0, 'f'},
                                         {"keep-going", no_argument, 0, O_KEEP},
                                         {"ok-if-bad", no_argument, 0, O_OKBAD},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    rec_policy_t pol = {0, 0, 0};
    int ch, force = 0;
    while ((ch = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': force = 1; break;
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
    for (;;) {
        ret = json_read(r, &o);
        if (ret == 0) break;
        n++;
        if (ret < 0) {
            /* JSON Lines can resync at a newline, so a syntax error is record-level here. */
            if (rec_policy_bad(&pol, n, "%s", json_reader_error(r)) && json_reader_skip_line(r)) continue;
            if (!pol.keep_going) status = EXIT_BAD_INPUT;
            break;
        }
        if (rec_write(w, &o)) {
            util_err("write: %s", strerror(errno));
            status = EXIT_IO;
            break;
        }
    }
    json_reader_free(r);
    rec_writer_free(w);
    return rec_policy_exit(&pol, status);
}
