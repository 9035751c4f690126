/* fuzz_model.c — libFuzzer harness for the model file loader (model_load on a file in
 * /dev/shm). A content hash would stop nearly every mutated input at the hash check, so
 * when the input has the hash tail the harness first recomputes the hash over the bytes,
 * as model_save does; the decoder behind the check is then fuzzed too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "base/util.h"

#define TAIL 71

static void fix_hash(unsigned char *b, size_t n) {
    if (n <= TAIL + 1 || (b[0] & 0xf0) != 0x80 || (b[0] & 0x0f) < 2) return;
    if (memcmp(b + n - TAIL, "\xa4hash\xd9\x40", 7) != 0) return;
    sha256_t s;
    uint8_t d[32];
    char hex[65];
    unsigned char first = (unsigned char)(b[0] - 1);
    sha256_init(&s);
    sha256_update(&s, &first, 1);
    sha256_update(&s, b + 1, n - 1 - TAIL);
    sha256_final(&s, d);
    sha256_hex(d, hex);
    memcpy(b + n - 64, hex, 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    static model_t c; /* large; static keeps it off the stack */
    if (!path[0]) snprintf(path, sizeof path, "/dev/shm/fuzz_model.%ld", (long)getpid());
    unsigned char *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    fix_hash(b, size);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(b, 1, size, f) != size) abort();
    fclose(f);
    free(b);
    char err[512];
    if (model_load(path, &c, err, sizeof err) == 0) model_free(&c);
    unlink(path);
    return 0;
}
