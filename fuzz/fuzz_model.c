/* fuzz_model.c — libFuzzer harness for the model file loader (model_load on a file in
 * /dev/shm, the hash recomputed first: container_file.h). */
#include "container_file.h"
#include "model/model.h"

static void load(const char *path) {
    static model_t m; /* large; static keeps it off the stack */
    char err[512];
    if (model_load(path, &m, err, sizeof err) == 0) model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_container_file(data, size, "model", load);
    return 0;
}
