/* fuzz_json.c — libFuzzer harness for the JSON reader (json_read, with the --keep-going
 * line resync) and writer: every value read is written back as JSON and msgpack, and
 * the JSON written must read back to the same msgpack bytes (exact round trip). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f) return 0;
    json_reader_t *r = json_reader_new(f, 1 << 16);
    msgpack_object o;
    char err[256];
    int ret, guard = 0;
    while ((ret = json_read(r, &o)) != 0 && guard++ < 10000) {
        if (ret < 0) {
            json_reader_error(r);
            if (!json_reader_skip_line(r)) break;
            continue;
        }
        msgpack_sbuffer a;
        msgpack_sbuffer_init(&a);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &a, msgpack_sbuffer_write);
        msgpack_pack_object(&pk, o);
        char *txt = NULL;
        size_t n_txt = 0;
        FILE *m = open_memstream(&txt, &n_txt);
        int w = json_write(m, &o, err, sizeof err);
        fclose(m);
        if (w == 0) { /* round trip: text -> msgpack must give the same bytes */
            FILE *g = fmemopen(txt, n_txt, "r");
            json_reader_t *r2 = json_reader_new(g, 1 << 20);
            msgpack_object o2;
            if (n_txt == 0 || json_read(r2, &o2) != 1) abort();
            msgpack_sbuffer b;
            msgpack_sbuffer_init(&b);
            msgpack_packer pk2;
            msgpack_packer_init(&pk2, &b, msgpack_sbuffer_write);
            msgpack_pack_object(&pk2, o2);
            if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0) abort();
            msgpack_sbuffer_destroy(&b);
            json_reader_free(r2);
            fclose(g);
        }
        free(txt);
        msgpack_sbuffer_destroy(&a);
    }
    json_reader_free(r);
    fclose(f);
    return 0;
}
