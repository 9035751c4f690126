/* darts_dump.c — writes a reference file for tests/darts_check.py: a DARTS network's
 * configuration, genotype, weights and batch, and the engine's loss, logits, input
 * gradient and every parameter gradient after one forward/backward pass (BN in training
 * mode).
 *
 * usage: darts_dump FILE [GENOTYPE [C N H B [THREADS]]]
 * Layout (little-endian): "SGDD" u32 version=1; i32 C N in_ch H W classes B; i32 len,
 * genotype; then the step (refdump.h: x, labels, loss, logits, dx, the views with their
 * gradients). */
#include "refdump.h"
#include "spaces/darts.h"

static const char *const darts_v2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: darts_dump FILE [GENOTYPE [C N H B [THREADS]]]\n");
        return 2;
    }
    const char *geno = argc > 2 ? argv[2] : darts_v2;
    space_cfg_t c;
    space_cfg_default(&space_darts, &c);
    c.C = argc > 3 ? atoi(argv[3]) : 4;
    c.N = argc > 4 ? atoi(argv[4]) : 5;
    c.H = c.W = argc > 5 ? atoi(argv[5]) : 8;
    int B = argc > 6 ? atoi(argv[6]) : 4;
    lay_set_threads(argc > 7 ? atoi(argv[7]) : 1);
    c.in_ch = 3, c.classes = 5;
    arch_t a;
    char err[256], canon[1024];
    if (space_darts.parse(geno, &a, err, sizeof err) || space_darts.format(&a, canon, sizeof canon)) {
        fprintf(stderr, "darts_dump: error: %s\n", err);
        return 1;
    }
    params_t P;
    net_t net;
    rng_t r;
    if (rd_build("darts_dump", &space_darts, &c, &a, B, 11, &P, &net, &r)) return 1;
    rd_perturb_affine(&P, &r); /* BN parameters and biases, so every term is exercised */
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fwrite("SGDD", 1, 4, f);
    wi(f, 1);
    int hdr[7] = {c.C, c.N, c.in_ch, c.H, c.W, c.classes, B};
    for (int i = 0; i < 7; i++) wi(f, hdr[i]);
    wname(f, canon);
    if (rd_step(f, &net, &P, &r, (size_t)B * c.in_ch * c.H * c.W, c.classes, NULL)) return perror("darts_dump"), 1;
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    net_free(&net);
    params_free(&P);
    return 0;
}
