/* test_optim.c — learning-rate schedules against their closed forms. */
#include <math.h>
#include <stdio.h>

#include "engine/optim.h"

static int fails;
static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    fails += !ok;
}

int main(void) {
    optim_sched_t c = {OPTIM_CONSTANT, 0.1, 0, 100, 0};
    check(optim_lr(&c, 0) == 0.1 && optim_lr(&c, 99) == 0.1, "constant");
    optim_sched_t s = {OPTIM_COSINE, 0.1, 0, 100, 0};
    check(fabs(optim_lr(&s, 0) - 0.1) < 1e-12, "cosine starts at lr");
    check(fabs(optim_lr(&s, 50) - 0.05) < 1e-12, "cosine halfway at lr/2");
    check(optim_lr(&s, 99) > 0 && optim_lr(&s, 99) < 1e-3, "cosine ends near 0");
    int mono = 1;
    for (long i = 1; i < 100; i++) mono &= optim_lr(&s, i) < optim_lr(&s, i - 1);
    check(mono, "cosine decreases");
    optim_sched_t w = {OPTIM_COSINE, 0.2, 0.02, 110, 10};
    check(fabs(optim_lr(&w, 0) - 0.02) < 1e-12 && fabs(optim_lr(&w, 9) - 0.2) < 1e-12,
          "linear warm-up to lr");
    check(fabs(optim_lr(&w, 10) - 0.2) < 1e-12 && fabs(optim_lr(&w, 60) - 0.11) < 1e-12 &&
              fabs(optim_lr(&w, 110) - 0.02) < 1e-12,
          "cosine after warm-up, floor lr_min");
    check(optim_kind_parse("cosine") == OPTIM_COSINE && optim_kind_parse("constant") == OPTIM_CONSTANT &&
              optim_kind_parse("step") == -1,
          "kind names");
    printf("%s\n", fails ? "FAILED" : "all ok");
    return fails != 0;
}
