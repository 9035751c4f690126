/* bench_model.c — the time to load a model file (model_load: read, structure, hash,
 * tensors against the space's network) and to build its network for predict's batch
 * (model_net), median of N runs each, in one process.
 *   make build/bench/bench_model && build/bench/bench_model FILE [N]   (N default 50) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/util.h"
#include "model/model.h"

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_model FILE [N]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 50;
    if (n < 1 || n > 100000) n = 50;
    double *tl = malloc(sizeof(double) * (size_t)n), *tb = malloc(sizeof(double) * (size_t)n);
    static model_t m;
    char err[512];
    for (int i = 0; i < n; i++) {
        double t0 = util_now();
        if (model_load(argv[1], &m, err, sizeof err)) {
            fprintf(stderr, "bench_model: %s\n", err);
            return 1;
        }
        double t1 = util_now();
        net_t net;
        if (model_net(&m, &net, (int)m.recipe.batch, err, sizeof err)) {
            fprintf(stderr, "bench_model: %s\n", err);
            return 1;
        }
        tl[i] = (t1 - t0) * 1e3, tb[i] = (util_now() - t1) * 1e3;
        net_free(&net);
        model_free(&m);
    }
    qsort(tl, (size_t)n, sizeof *tl, cmp_d);
    qsort(tb, (size_t)n, sizeof *tb, cmp_d);
    struct stat st;
    stat(argv[1], &st);
    printf("%s: %lld bytes; model_load %.3f ms, model_net (batch %ld) %.3f ms (median of %d)\n",
           argv[1], (long long)st.st_size, tl[n / 2], m.recipe.batch, tb[n / 2], n);
    free(tl), free(tb);
    return 0;
}
