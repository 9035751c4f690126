/* onnx_dump.c — a network with weights as tests/t_onnx.sh needs them: builds a candidate
 * of any space, initializes it and perturbs every BN, LN, bias and running statistic (so
 * each term of the inference graph matters), draws a batch, runs the engine forward in
 * inference form (BN_EVAL) and writes the ONNX export beside the batch and the engine's
 * outputs, for tests/onnx_check.js to compare with onnxruntime.
 *
 * usage: onnx_dump OUT SPACE ARCH [KEY=VALUE ...]   (cfg keys of the space; B=batch [5])
 * Writes OUT.onnx; OUT.json, which names the raw little-endian files: the graph inputs
 * (OUT.in0, OUT.in1: float32 pixels in [0,1], or float32 dense + int64 ids) and the
 * engine's outputs (OUT.out0 logits, OUT.out1 probabilities); and prints the engine ops
 * of the nodes that reach the logits, one per line ("op conv"), for coverage checks. */
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/onnx.h"
#include "io/file.h"
#include "refdump.h"

static int die(const char *m) {
    fprintf(stderr, "onnx_dump: error: %s\n", m);
    return 1;
}

/* The cfg of KEY=VALUE arguments through the space's own reader (a packed {"cfg": {...}}). */
static int read_cfg(const space_t *S, int n, char **kv, space_cfg_t *c, int *B) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int m = 0;
    for (int i = 0; i < n; i++) m += strncmp(kv[i], "B=", 2) != 0;
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "cfg", 3);
    msgpack_pack_map(&pk, (size_t)m);
    for (int i = 0; i < n; i++) {
        char *eq = strchr(kv[i], '=');
        if (!eq) return -1;
        if (!strncmp(kv[i], "B=", 2)) {
            *B = atoi(eq + 1);
            continue;
        }
        msgpack_pack_str_with_body(&pk, kv[i], (size_t)(eq - kv[i]));
        msgpack_pack_int(&pk, atoi(eq + 1));
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char err[256];
    int rc = msgpack_unpack_next(&u, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS
                 ? space_cfg_read(S, c, &u.data, err, sizeof err)
                 : -1;
    if (rc) fprintf(stderr, "onnx_dump: cfg: %s\n", err);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Every BN/LN scale and shift, bias and running statistic moved off its initial value. */
static void perturb(params_t *P, rng_t *r) {
    for (int i = 0; i < P->n; i++) {
        int k = P->v[i].kind;
        if (k == PK_BN_GAMMA || k == PK_BN_BETA || k == PK_BIAS)
            for (size_t j = 0; j < P->v[i].n; j++)
                P->w[P->v[i].off + j] += (float)(0.3 * rng_normal(r));
    }
    rd_perturb_state(P, r, 0.2);
}

static int save(const char *out, const char *ext, const void *p, size_t n) {
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s.%s", out, ext);
    if (io_save(path, p, n, err, sizeof err)) return die(err);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: onnx_dump OUT SPACE ARCH [KEY=VALUE ...]\n");
        return 2;
    }
    const char *out = argv[1];
    const space_t *S = space_find(argv[2]);
    space_cfg_t c;
    arch_t a;
    char err[512];
    int B = 5;
    if (!S) return die("unknown space");
    if (read_cfg(S, argc - 4, argv + 4, &c, &B) || B < 1) return die("bad KEY=VALUE");
    if (S->parse(argv[3], &a, err, sizeof err)) return die(err);
    params_t P;
    net_t net;
    rng_t r;
    if (rd_build("onnx_dump", S, &c, &a, B, 7, &P, &net, &r)) return 1;
    perturb(&P, &r);
    const node_t *in = &net.nodes[net.input];
    int clicks = S->data_kind == SPACE_DATA_CLICKS, row = in->C * in->H * in->W;
    int nd = clicks ? c.extra[SPACE_CFG_DENSE] : 0, ns = row - nd, rows = c.extra[SPACE_CFG_ROWS];
    float *x = malloc(sizeof(float) * (size_t)B * row), *xe = malloc(sizeof(float) * (size_t)B * row);
    float *dense = malloc(sizeof(float) * (size_t)B * row);
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)B * row);
    float mean[64], sd[64];
    if (!x || !xe || !dense || !ids || in->C > 64) return die("out of memory");
    for (int ch = 0; ch < in->C; ch++) mean[ch] = 0.2f + 0.1f * ch, sd[ch] = 0.3f - 0.05f * ch;
    if (in->C > 1) sd[in->C - 1] = 0.0f; /* a constant channel: centred only */
    size_t hw = (size_t)in->H * in->W;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < row; j++) {
            size_t at = (size_t)b * row + j;
            if (!clicks) { /* pixels in [0,1], normalized as feed_batch does */
                x[at] = (float)rng_uniform(&r);
                int ch = (int)(j / hw);
                xe[at] = (x[at] - mean[ch]) * (sd[ch] > 0 ? 1.0f / sd[ch] : 1.0f);
            } else if (j < nd) {
                dense[(size_t)b * nd + j] = xe[at] = (float)rng_normal(&r);
            } else { /* ids in [0,rows), one in 16 outside (a zero embedding) */
                int64_t v = (int64_t)rng_below(&r, (uint64_t)rows);
                if (rng_below(&r, 16) == 0) v = rng_below(&r, 2) ? -1 : rows + 3;
                ids[(size_t)b * ns + j - nd] = v;
                xe[at] = (float)v;
            }
        }
    net.bn_mode = BN_EVAL;
    net_forward(&net, xe, NULL);
    const node_t *L = &net.nodes[net.logits];
    int K = L->C * L->H * L->W;
    float *prob = malloc(sizeof(float) * (size_t)B * K);
    if (!prob) return die("out of memory");
    for (int b = 0; b < B; b++) { /* softmax (or sigmoid) in double */
        const float *z = L->y + (size_t)b * K;
        double mx = z[0], s = 0;
        for (int k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
        for (int k = 0; k < K; k++) s += exp(z[k] - mx);
        for (int k = 0; k < K; k++)
            prob[(size_t)b * K + k] = clicks ? (float)(1 / (1 + exp(-(double)z[k])))
                                             : (float)(exp(z[k] - mx) / s);
    }
    onnx_opts_t o = {.clicks = clicks, .n_dense = nd, .n_norm = clicks ? 0 : in->C,
                     .mean = mean, .std = sd, .doc = argv[3]};
    uint8_t *buf;
    size_t n;
    if (onnx_export(&net, &o, &buf, &n, err, sizeof err)) return die(err);
    if (save(out, "onnx", buf, n) ||
        (clicks ? save(out, "in0", dense, sizeof(float) * (size_t)B * nd) ||
                      save(out, "in1", ids, sizeof(int64_t) * (size_t)B * ns)
                : save(out, "in0", x, sizeof(float) * (size_t)B * row)) ||
        save(out, "out0", L->y, sizeof(float) * (size_t)B * K) ||
        save(out, "out1", prob, sizeof(float) * (size_t)B * K))
        return 1;
    char js[1024];
    if (clicks)
        snprintf(js, sizeof js, "{\"inputs\": [[\"dense\", \"float32\", [%d, %d]], [\"ids\", \"int64\", "
                 "[%d, %d]]], \"outputs\": [\"logit\", \"prob\"]}\n", B, nd, B, ns);
    else
        snprintf(js, sizeof js, "{\"inputs\": [[\"x\", \"float32\", [%d, %d, %d, %d]]], "
                 "\"outputs\": [\"logits\", \"probs\"]}\n", B, in->C, in->H, in->W);
    if (save(out, "json", js, strlen(js))) return 1;
    unsigned char *live = calloc((size_t)net.n, 1);
    live[net.logits] = 1;
    for (int i = net.logits; i >= 0; i--)
        for (int j = 0; live[i] && j < net.nodes[i].n_in; j++) live[net.nodes[i].in[j]] = 1;
    for (int i = 0; i < net.n; i++)
        printf("op %s%s\n", net_ops[net.nodes[i].op]->name, live[i] ? "" : " dead");
    printf("bytes %zu\n", n);
    free(live), free(buf), free(prob), free(x), free(xe), free(dense), free(ids);
    net_free(&net);
    params_free(&P);
    return 0;
}
