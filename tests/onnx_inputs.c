/* onnx_inputs.c — the ONNX inputs of a model's test examples, for tests/t_onnx.sh to run
 * an exported model on the examples predict scores: opens the test split as predict does
 * (model_feed_open, every example) and writes the first n examples as the graph takes
 * them: x, the loaders' pixels in [0,1] before normalization, or dense and ids.
 *
 * usage: onnx_inputs MODEL OUT [N [DATA]]   (N examples [16]; DATA: the model's data path)
 * Writes OUT.in0 (and OUT.in1 for click models) raw little-endian, OUT.json as
 * tests/onnx_check.js reads it (outputs: probs or prob), and prints n. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/file.h"
#include "model/eval.h"

static int die(const char *m) {
    fprintf(stderr, "onnx_inputs: error: %s\n", m);
    return 1;
}

static int save(const char *out, const char *ext, const void *p, size_t n) {
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s.%s", out, ext);
    return io_save(path, p, n, err, sizeof err) ? die(err) : 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: onnx_inputs MODEL OUT [N [DATA]]\n");
        return 2;
    }
    static model_t m;
    char err[1024];
    if (model_load(argv[1], &m, err, sizeof err)) return die(err);
    model_feed_t o = {.path = argc > 4 ? argv[4] : NULL, .split = FEED_TEST, .test_fraction = 1};
    feed_t f;
    if (model_feed_open(&m, argv[1], &o, &f, err, sizeof err)) return die(err);
    int n = argc > 3 ? atoi(argv[3]) : 16;
    if (n > f.n[FEED_TEST]) n = f.n[FEED_TEST];
    if (n < 1) return die("no test examples");
    int row = f.c * f.h * f.w, nd = f.dense, clicks = f.kind == DATA_CLICKS;
    float *x = malloc(sizeof(float) * (size_t)n * row), *dense = malloc(sizeof(float) * (size_t)n * row);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)n * row);
    int *pos = malloc(sizeof(int) * (size_t)n), *y = malloc(sizeof(int) * (size_t)n);
    if (!x || !dense || !ids || !pos || !y) return die("out of memory");
    for (int i = 0; i < n; i++) pos[i] = i;
    f.normalize = 0; /* the graph normalizes: it takes the loaders' values */
    feed_batch(&f, FEED_TEST, pos, n, x, y);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < row; j++) {
            float v = x[(size_t)i * row + j];
            if (j < nd) dense[(size_t)i * nd + j] = v;
            else ids[(size_t)i * (row - nd) + j - nd] = (int64_t)v;
        }
    char js[512];
    if (clicks)
        snprintf(js, sizeof js, "{\"inputs\": [[\"dense\", \"float32\", [%d, %d]], [\"ids\", "
                 "\"int64\", [%d, %d]]], \"outputs\": [\"prob\"]}\n", n, nd, n, row - nd);
    else
        snprintf(js, sizeof js, "{\"inputs\": [[\"x\", \"float32\", [%d, %d, %d, %d]]], "
                 "\"outputs\": [\"probs\"]}\n", n, f.c, f.h, f.w);
    if ((clicks ? save(argv[2], "in0", dense, sizeof(float) * (size_t)n * nd) ||
                      save(argv[2], "in1", ids, sizeof(int64_t) * (size_t)n * (row - nd))
                : save(argv[2], "in0", x, sizeof(float) * (size_t)n * row)) ||
        save(argv[2], "json", js, strlen(js)))
        return 1;
    printf("%d\n", n);
    free(x), free(dense), free(ids), free(pos), free(y);
    feed_close(&f);
    model_free(&m);
    return 0;
}
