/* container_file.h — the body of the libFuzzer harnesses of the container file loaders
 * (checkpoints, model files): the input is written to a file in /dev/shm and loaded. A
 * content hash would stop nearly every mutated input at the hash check, so when the input
 * has the hash tail the harness first recomputes the hash over the bytes, as the writers
 * do (io/container.c); the decoder behind the check is then fuzzed too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

#define FUZZ_HASH_TAIL 71

static void fuzz_fix_hash(unsigned char *b, size_t n) {
    if (n <= FUZZ_HASH_TAIL + 1 || (b[0] & 0xf0) != 0x80 || (b[0] & 0x0f) < 2) return;
    if (memcmp(b + n - FUZZ_HASH_TAIL, "\xa4hash\xd9\x40", 7) != 0) return;
    sha256_t s;
    uint8_t d[32];
    char hex[65];
    unsigned char first = (unsigned char)(b[0] - 1);
    sha256_init(&s);
    sha256_update(&s, &first, 1);
    sha256_update(&s, b + 1, n - 1 - FUZZ_HASH_TAIL);
    sha256_final(&s, d);
    sha256_hex(d, hex);
    memcpy(b + n - 64, hex, 64);
}

/* Write data (hash fixed) to /dev/shm/fuzz_<name>.<pid> and call load(path) on it. */
static void fuzz_container_file(const uint8_t *data, size_t size, const char *name, void (*load)(const char *path)) {
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/dev/shm/fuzz_%s.%ld", name, (long)getpid());
    unsigned char *b = malloc(size ? size : 1);
    if (!b) return;
    memcpy(b, data, size);
    fuzz_fix_hash(b, size);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(b, 1, size, f) != size) abort();
    fclose(f);
    free(b);
    load(path);
    unlink(path);
}
