/* par.h — the engine's threads and its one GEMM: every layer and conv path runs its
 * parallel loops through lay_par and its matrix products through lay_gemm. */
#ifndef SIGEO_PAR_H
#define SIGEO_PAR_H

#include <stddef.h>

/* The one GEMM of the code base (row-major, over cblas_sgemm):
 * C (M,N) = beta * C + op(A) * op(B), op(A) (M,K), op(B) (K,N); ta/tb transpose A/B as
 * stored; lda/ldb/ldc are the row strides as stored (blocks of wider matrices allowed).
 * beta is 1 to accumulate (backward) or 0 to overwrite (forward). */
void lay_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc);

/* Threads of the engine's own loops (1 by default). Each layer splits its work into
 * lay_threads contiguous parts (images, channels or elements), fixed by the thread count
 * alone, so a run is bit-reproducible for a given count. Only the weight gradient of a
 * conv depends on it (each part sums its images into its own buffer; the buffers are
 * added in part order); everything else gives the same bits with any count.
 * lay_set_threads also pins OpenBLAS to one thread: the engine's GEMMs are per image and
 * run inside its own parallel loops, and lay_gemm splits a large GEMM called outside
 * them. Set it before net_finalize, which sizes the per-thread workspaces. */
#define LAY_MAX_THREADS 64
extern int lay_threads;
void lay_set_threads(int threads);

/* OpenBLAS (0.3.21) maps a ~128 MB buffer for each thread that runs a large GEMM and, when
 * the mapping fails, retries forever: under a tight address-space limit (ulimit -v) that is
 * a hang, not an error. Tools call this once their data is loaded, before the work: 0 when
 * no limit is set or lay_threads such buffers (plus a margin) fit now; otherwise -1 with
 * the reason in err. */
int lay_blas_room(char *err, size_t n_err);

/* Run f(arg, t, lo, hi) for t in [0, T), T = min(T, lay_threads, units), on part t of
 * [0, n) cut in multiples of align (the last part takes the remainder); in parallel when
 * built with OpenMP, in order otherwise (same results). */
typedef void (*lay_part_fn)(void *arg, int t, size_t lo, size_t hi);
void lay_par(int T, size_t n, size_t align, lay_part_fn f, void *arg);

/* For the memory-bound elementwise loops (BN, ReLU, pooling, sums): two builds chosen at
 * run time, AVX2 where the CPU has it and the baseline otherwise. Same operations per
 * element (no FMA contraction in ISO C mode) and the same lane order in the reductions,
 * so the same bits either way. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(SIGEO_NO_CLONES)
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

/* d[0..n) += s[0..n); restrict so the loop vectorizes. */
static inline void vadd(float *restrict d, const float *restrict s, int n) {
    for (int i = 0; i < n; i++) d[i] += s[i];
}

#endif
