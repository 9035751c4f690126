/* fuzz_ckpt.c — libFuzzer harness for the checkpoint loader (ckpt_load on a file in
 * /dev/shm, the hash recomputed first: container_file.h). */
#include "container_file.h"
#include "model/ckpt.h"

static void load(const char *path) {
    static ckpt_t c; /* large; static keeps it off the stack */
    char err[512];
    if (ckpt_load(path, &c, err, sizeof err) == 0) ckpt_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_container_file(data, size, "ckpt", load);
    return 0;
}
