/* fuzz_rec.c — libFuzzer harness for the record reader (rec_read) and what the filters
 * do with each record: typed getters, copy-on-write edits, space_read_record, the
 * writer and json_write. The input is fed through a memfd, as a pipe would feed it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/json.h"
#include "io/rec.h"
#include "spaces/space.h"

static int mfd = -1;
static FILE *devnull;
static int wfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (mfd < 0) {
        mfd = memfd_create("fuzz_rec", 0);
        devnull = fopen("/dev/null", "w");
        wfd = fileno(devnull);
        if (mfd < 0 || !devnull) abort();
    }
    if (ftruncate(mfd, 0) || pwrite(mfd, data, size, 0) != (ssize_t)size || lseek(mfd, 0, SEEK_SET))
        abort();
    /* A small cap so the fuzzer reaches the size checks quickly. */
    rec_reader_t *r = rec_reader_new(mfd, "fuzz", size & 1 ? 4096 : 0);
    rec_writer_t *w = rec_writer_new(wfd);
    msgpack_object o;
    char err[256];
    while (rec_read(r, &o) == 1) {
        double d;
        int64_t i;
        char s[64];
        rec_get_num(&o, "scores.sigeo", &d);
        rec_get_int(&o, "index", &i);
        rec_get_str(&o, "kind", s, sizeof s);
        const space_t *sp;
        arch_t a;
        space_cfg_t c;
        space_read_record(&o, &sp, &a, &c, err, sizeof err);
        rec_t e;
        if (rec_edit_begin(&e, &o) == 0) {
            rec_set_f64(&e, "scores.sigeo", 1.5);
            rec_set_str(&e, "kind", "arch");
            rec_set_obj(&e, "copy", &o);
            rec_del(&e, "index");
            rec_write(w, &e.root);
            json_write(devnull, &e.root, err, sizeof err);
            rec_edit_end(&e);
        }
    }
    rec_reader_error(r);
    rec_reader_count(r);
    rec_writer_free(w);
    rec_reader_free(r);
    return 0;
}
