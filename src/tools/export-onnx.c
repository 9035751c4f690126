/* export-onnx — a trained model file (train-arch --save) as an ONNX model, for any ONNX
 * runtime (docs/models.md "ONNX export"; the graph: src/export/).
 *
 *   export-onnx models/nb201-963.model -o model.onnx */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "export/onnx.h"
#include "io/file.h"
#include "model/model.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: export-onnx MODEL -o FILE [options]\n"
            "Writes the network of a model file (train-arch --save) as an ONNX model, opset %d:\n"
            "image models take x, float32 (N,C,H,W) pixels in [0,1], normalize inside the\n"
            "graph and give logits and probs (N,classes); click models take dense, float32\n"
            "(N,dense columns), and ids, int64 (N,categorical columns), and give logit and\n"
            "prob (N,1).\n"
            "  -o, --output FILE    the ONNX file, written atomically (required)\n"
            "  -q, --quiet          no summary on stderr\n"
            "  -h, --help           this text\n",
            ONNX_OPSET);
}

/* The model's class names, one per line ("" when the data named none); malloc'ed. */
static char *class_lines(const model_t *m) {
    size_t n = 1;
    for (int k = 0; k < m->n_names; k++) n += strlen(model_class_name(m, k)) + 1;
    char *s = malloc(n), *p = s;
    if (!s) return NULL;
    *p = 0;
    for (int k = 0; k < m->n_names; k++)
        p += sprintf(p, "%s%s", k ? "\n" : "", model_class_name(m, k));
    return s;
}

/* What a runtime sees, for the summary line. */
static void describe(const model_t *m, const net_t *net, char *s, size_t n) {
    const node_t *x = &net->nodes[net->input], *L = &net->nodes[net->logits];
    int nd = m->cfg.extra[SPACE_CFG_DENSE], K = L->C * L->H * L->W;
    if (m->space->data_kind == SPACE_DATA_CLICKS)
        snprintf(s, n, "dense (N,%d), ids (N,%d) -> logit, prob (N,%d)", nd, x->C * x->H * x->W - nd, K);
    else
        snprintf(s, n, "x (N,%d,%d,%d) in [0,1] -> logits, probs (N,%d)", x->C, x->H, x->W, K);
}

/* m's network as ONNX bytes in *buf and a summary in sum; 0 or an exit status (after the
 * message). */
static int export(model_t *m, const char *path, uint8_t **buf, size_t *n, char *sum, size_t n_sum) {
    char err[1024], acc[32], doc[MODEL_MAX_ARCH + 64];
    net_t net;
    if (model_net(m, &net, 1, err, sizeof err)) {
        util_err("%s: %s", path, err);
        return EXIT_BAD_INPUT;
    }
    char *classes = class_lines(m);
    if (!classes) {
        net_free(&net);
        util_err("out of memory");
        return EXIT_IO;
    }
    snprintf(acc, sizeof acc, "%.17g", m->metrics.test_acc);
    snprintf(doc, sizeof doc, "sigeo %s model %s", m->space->name, m->arch_str);
    const char *key[] = {"sigeo.space", "sigeo.arch", "sigeo.model_sha256", "sigeo.data_sha256",
                         "sigeo.test_acc", "sigeo.classes"};
    const char *val[] = {m->space->name, m->arch_str, m->hash, m->data_fingerprint, acc, classes};
    onnx_opts_t o = {.clicks = m->space->data_kind == SPACE_DATA_CLICKS,
                     .n_dense = m->cfg.extra[SPACE_CFG_DENSE],
                     .n_norm = m->n_norm, .mean = m->mean, .std = m->std,
                     .name = m->space->name, .doc = doc,
                     .n_meta = 6, .meta_key = key, .meta_value = val};
    int rc = onnx_export(&net, &o, buf, n, err, sizeof err);
    if (rc) util_err("%s: cannot export: %s", path, err);
    describe(m, &net, sum, n_sum);
    net_free(&net);
    free(classes);
    return rc == 0 ? EXIT_OK : rc == -2 ? EXIT_IO : EXIT_BAD_INPUT;
}

int main(int argc, char **argv) {
    util_set_prog("export-onnx");
    static const struct option lo[] = {{"output", 1, 0, 'o'}, {"quiet", 0, 0, 'q'},
                                       {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    const char *out = NULL;
    int quiet = 0, ch;
    while ((ch = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !out) {
        util_err("%s", !out ? "-o FILE is required" : optind == argc ? "a model file is required"
                                                                    : "one model file only");
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    char err[1024];
    if (io_output_check(out, err, sizeof err)) {
        util_err("%s", err);
        return EXIT_USAGE;
    }
    static model_t m; /* large; static keeps it off the stack */
    if (model_load(path, &m, err, sizeof err)) {
        util_err("%s", err);
        return EXIT_BAD_INPUT;
    }
    uint8_t *buf = NULL;
    size_t n = 0;
    char sum[256];
    int rc = export(&m, path, &buf, &n, sum, sizeof sum);
    if (rc == EXIT_OK && io_save(out, buf, n, err, sizeof err)) {
        util_err("%s", err);
        rc = EXIT_IO;
    }
    if (rc == EXIT_OK && !quiet) util_msg("%s: %zu bytes, ONNX opset %d: %s", out, n, ONNX_OPSET, sum);
    free(buf);
    model_free(&m);
    return rc;
}
