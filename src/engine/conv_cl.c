/* conv_cl.c — the NB201 3x3 convolutions on channel-last copies, channels in the vector
 * lanes: stride 1 as a fused Winograd F(4x4,3x3), stride 2 directly (end of the file).
 *
 * Stride 1: each 4x4 output tile is A^T [ sum_c U[c] (.) V[c] ] A with V = B^T d B of the
 * 6x6 input patch d and U = G g G^T of the 3x3 kernel g: 36 products per tile and channel
 * pair instead of 144 (4x fewer; F(2x2,3x3), tried first, saves 2.25x and lost at 8
 * channels to its transforms, docs/engine.md). Images are copied into zero-bordered
 * channel-last buffers (8x8 transposes), so every transform works on vectors of 8
 * channels; a block of tiles (across images when they are small) goes through input
 * transform, the 36 per-position products (a register-blocked kernel: tiles x 8-16
 * output channels) and output transform while it is in L1/L2.
 *
 *   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;
 *          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0 4  0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1]
 *
 * The input gradient is the same conv of dy with the flipped, transposed kernel. The
 * weight gradient is the exact adjoint: dU[pos] (C,OC) += V[pos]^T dM[pos] over the tiles,
 * dM = A dY A^T from each 4x4 tile of dy, then dw += G^T dU G. Tiles past an edge read
 * zero borders and write nowhere. Summation orders are fixed: results are deterministic
 * and differ from the other paths in the last bits (Winograd's own rounding, ~1e-5
 * relative at 8-64 channels). */
#include "engine/conv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CONVW_BUILT 1
#define TGT __attribute__((target("avx2,fma,avx512f,avx512vl")))
#else
#define CONVW_BUILT 0
#endif

int lay_winograd = -1;

#define NP 36 /* positions of a 6x6 transformed tile */

/* Geometry of one call: chunks of NI images, each copied into its own bordered buffer of
 * RP rows x PW columns; tiles numbered across the chunk's images. */
typedef struct {
    int TH, TW, T;       /* tiles: TH x TW = T per image */
    int PW, RP;          /* bordered width 4*TW+2 and height 4*TH+2 */
    int NI;              /* images per chunk: at least TB tiles */
    int TB;              /* tiles per block, a multiple of 12 */
} wgeo;

static wgeo wgeo_of(int C, int H, int W, int OC) {
    wgeo g;
    int cm = C > OC ? C : OC;
    g.TH = (H + 3) / 4, g.TW = (W + 3) / 4, g.T = g.TH * g.TW;
    g.PW = 4 * g.TW + 2, g.RP = 4 * g.TH + 2;
    g.TB = cm <= 16 ? 24 : 12; /* V and M of a block near 27 KB each */
    g.NI = (g.TB + g.T - 1) / g.T;
    return g;
}

/* Floats of one image's bordered copy with c channels. */
static size_t padded(const wgeo *g, int c) { return (size_t)g->RP * g->PW * c; }

/* The workspace, cut into 64-byte aligned pieces. */
typedef struct {
    float *U, *dU;   /* NP x C x OC: transformed kernel, its gradient */
    float *xp, *dyp; /* bordered channel-last x and dy of a chunk */
    float *V, *M;    /* one block of tiles: NP x TB x max(C, OC) each */
    float *out;      /* a chunk's channel-last output, 4TH x 4TW x max(C, OC) per image */
    size_t n;        /* floats used, from the aligned start */
} wspace;

static size_t up16(size_t n) { return (n + 15) / 16 * 16; }

static wspace carve(float *ws, const wgeo *g, int C, int OC) {
    wspace w;
    size_t cm = C > OC ? C : OC, u = up16((size_t)NP * C * OC);
    size_t blk = up16((size_t)NP * g->TB * cm);
    float *p = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    w.U = p, w.dU = w.U + u, w.xp = w.dU + u;
    w.dyp = w.xp + up16(padded(g, C) * g->NI);
    w.V = w.dyp + up16(padded(g, OC) * g->NI), w.M = w.V + blk, w.out = w.M + blk;
    w.n = (size_t)(w.out - p) + (size_t)16 * g->T * cm * g->NI;
    return w;
}

size_t convw_ws_floats(int C, int H, int W, int OC) {
    wgeo g = wgeo_of(C, H, W, OC);
    return carve(NULL, &g, C, OC).n + 16;
}

int convw_use(int C, int OC) {
    if (lay_winograd < 0) {
        const char *e = getenv("SIGEO_WINOGRAD");
#if CONVW_BUILT
        __builtin_cpu_init();
        lay_winograd = !(e && e[0] == '0') && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
#else
        (void)e;
        lay_winograd = 0;
#endif
    }
    return lay_winograd && C % 8 == 0 && OC % 8 == 0;
}

#if CONVW_BUILT

/* ---- filter transforms, 8 output channels per vector ----------------------------------- */

static const float Gm[6][3] = {{1.0f / 4, 0, 0},
                               {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                               {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                               {1.0f / 24, 1.0f / 12, 1.0f / 6},
                               {1.0f / 24, -1.0f / 12, 1.0f / 6},
                               {0, 0, 1}};

/* U[pos][i][o] = (G g G^T)[pos] for the conv from NI to NO channels. Forward: g =
 * w[o][i]; flipped (the input gradient, w is (NI,NO,3,3)): g = w[i][o] rotated 180. Run
 * for every call (and thread part), so vectorized: at 32 channels the scalar loop took
 * ~90 us, ~2 ms per training step. */
TGT static void filter_tf(float *U, const float *w, int NO, int NI, int flipped) {
    for (int i = 0; i < NI; i++)
        for (int o0 = 0; o0 < NO; o0 += 8) {
            /* lane l reads kernel o0+l: w[o][i] at stride NI*9, or w[i][o] at stride 9 */
            int base = flipped ? (i * NO + o0) * 9 : (o0 * NI + i) * 9;
            __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                              _mm256_set1_epi32(flipped ? 9 : NI * 9));
            __m256 g[3][3], t[6][3];
            for (int k = 0; k < 9; k++)
                g[k / 3][k % 3] = _mm256_i32gather_ps(w + base + (flipped ? 8 - k : k), idx, 4);
            for (int a = 0; a < 6; a++)
                for (int x = 0; x < 3; x++) {
                    __m256 v = _mm256_mul_ps(_mm256_set1_ps(Gm[a][0]), g[0][x]);
                    v = _mm256_fmadd_ps(_mm256_set1_ps(Gm[a][1]), g[1][x], v);
                    t[a][x] = _mm256_fmadd_ps(_mm256_set1_ps(Gm[a][2]), g[2][x], v);
                }
            for (int a = 0; a < 6; a++)
                for (int b = 0; b < 6; b++) {
                    __m256 v = _mm256_mul_ps(t[a][0], _mm256_set1_ps(Gm[b][0]));
                    v = _mm256_fmadd_ps(t[a][1], _mm256_set1_ps(Gm[b][1]), v);
                    v = _mm256_fmadd_ps(t[a][2], _mm256_set1_ps(Gm[b][2]), v);
                    _mm256_storeu_ps(U + ((size_t)(a * 6 + b) * NI + i) * NO + o0, v);
                }
        }
}

/* dw[o][c] += G^T dU[.][c][o] G. */
TGT static void filter_grad(float *dw, const float *dU, int OC, int C) {
    for (int c = 0; c < C; c++)
        for (int o0 = 0; o0 < OC; o0 += 8) {
            __m256 u[6][6], t[3][6];
            for (int p = 0; p < NP; p++)
                u[p / 6][p % 6] = _mm256_loadu_ps(dU + ((size_t)p * C + c) * OC + o0);
            for (int y = 0; y < 3; y++)
                for (int b = 0; b < 6; b++) {
                    __m256 v = _mm256_mul_ps(_mm256_set1_ps(Gm[0][y]), u[0][b]);
                    for (int k = 1; k < 6; k++)
                        v = _mm256_fmadd_ps(_mm256_set1_ps(Gm[k][y]), u[k][b], v);
                    t[y][b] = v;
                }
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++) {
                    __m256 v = _mm256_mul_ps(t[y][0], _mm256_set1_ps(Gm[0][x]));
                    for (int k = 1; k < 6; k++)
                        v = _mm256_fmadd_ps(t[y][k], _mm256_set1_ps(Gm[k][x]), v);
                    float r[8];
                    _mm256_storeu_ps(r, v);
                    for (int l = 0; l < 8; l++) dw[((size_t)(o0 + l) * C + c) * 9 + y * 3 + x] += r[l];
                }
        }
}

/* ---- layout: NCHW planes <-> channel-last pixels, by 8x8 transposes --------------------- */

TGT static inline void tr8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20), r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20), r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31), r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31), r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* Pixel p = (h,w) of an (H,W) plane lives at ((h+b)*pw + w+b)*cs of a channel-last
 * buffer of width pw and border b; stepping through p without divisions. */
typedef struct {
    int w, W, skip; /* column, plane width, cs*(pw-W): the jump at the end of a row */
    size_t off, cs;
} cl_walk;

static inline cl_walk cl_start(int W, int pw, int b, int cs) {
    cl_walk k = {0, W, cs * (pw - W), ((size_t)b * pw + b) * cs, (size_t)cs};
    return k;
}

static inline size_t cl_next(cl_walk *k) {
    size_t o = k->off;
    k->off += k->cs;
    if (++k->w == k->W) k->w = 0, k->off += k->skip;
    return o;
}

/* dst (channel-last, C channels per pixel, width pw, border b) <- x (C,H,W). */
TGT static void to_cl(float *dst, int pw, int b, const float *x, int C, int H, int W) {
    int hw = H * W;
    for (int c0 = 0; c0 < C; c0 += 8) {
        const float *s = x + (size_t)c0 * hw;
        float *d = dst + c0;
        cl_walk k = cl_start(W, pw, b, C);
        int p = 0;
        for (; p + 8 <= hw; p += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + (size_t)i * hw + p);
            tr8(r);
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(d + cl_next(&k), r[i]);
        }
        for (; p < hw; p++) {
            float *q = d + cl_next(&k);
            for (int i = 0; i < 8; i++) q[i] = s[(size_t)i * hw + p];
        }
    }
}

/* y (C,H,W) = (add: +=) src (channel-last, width pw, border b). */
TGT static void from_cl(float *y, int add, const float *src, int pw, int b, int C, int H,
                        int W) {
    int hw = H * W;
    for (int c0 = 0; c0 < C; c0 += 8) {
        float *d = y + (size_t)c0 * hw;
        const float *s = src + c0;
        cl_walk k = cl_start(W, pw, b, C);
        int p = 0;
        for (; p + 8 <= hw; p += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + cl_next(&k));
            tr8(r);
            for (int i = 0; i < 8; i++) {
                float *q = d + (size_t)i * hw + p;
                _mm256_storeu_ps(q, add ? _mm256_add_ps(_mm256_loadu_ps(q), r[i]) : r[i]);
            }
        }
        for (; p < hw; p++) {
            const float *q = s + cl_next(&k);
            for (int i = 0; i < 8; i++) {
                float *e = d + (size_t)i * hw + p;
                *e = add ? *e + q[i] : q[i];
            }
        }
    }
}

/* ---- tile transforms, 8 channels per vector -------------------------------------------- */

/* Tile t of a chunk: image, tile row and column, stepped without divisions. */
typedef struct {
    int img, ty, tx;
} tpos;

static inline tpos tile_at(const wgeo *g, int t) {
    tpos p = {t / g->T, t % g->T / g->TW, t % g->TW};
    return p;
}

static inline void tile_next(const wgeo *g, tpos *p) {
    if (++p->tx == g->TW) {
        p->tx = 0;
        if (++p->ty == g->TH) p->ty = 0, p->img++;
    }
}

/* o = B^T d (one 1D pass over 6 vectors). */
TGT static inline void bt6(__m256 o[6], const __m256 d[6]) {
    const __m256 k2 = _mm256_set1_ps(2), k4 = _mm256_set1_ps(4), k5 = _mm256_set1_ps(5);
    __m256 a = _mm256_add_ps(d[1], d[2]), b = _mm256_add_ps(d[3], d[4]);
    __m256 c = _mm256_sub_ps(d[1], d[2]), e = _mm256_sub_ps(d[4], d[3]);
    __m256 f = _mm256_sub_ps(d[4], d[2]), h = _mm256_sub_ps(d[3], d[1]);
    o[0] = _mm256_fmadd_ps(k4, d[0], _mm256_fnmadd_ps(k5, d[2], d[4]));
    o[1] = _mm256_fnmadd_ps(k4, a, b);
    o[2] = _mm256_fmadd_ps(k4, c, e);
    o[3] = _mm256_fmadd_ps(k2, h, f);
    o[4] = _mm256_fnmadd_ps(k2, h, f);
    o[5] = _mm256_fmadd_ps(k4, d[1], _mm256_fnmadd_ps(k5, d[3], d[5]));
}

/* y = A^T m (6 vectors to 4). */
TGT static inline void at6(__m256 y[4], const __m256 m[6]) {
    const __m256 k2 = _mm256_set1_ps(2), k4 = _mm256_set1_ps(4), k8 = _mm256_set1_ps(8);
    __m256 p = _mm256_add_ps(m[1], m[2]), q = _mm256_sub_ps(m[1], m[2]);
    __m256 r = _mm256_add_ps(m[3], m[4]), s = _mm256_sub_ps(m[3], m[4]);
    y[0] = _mm256_add_ps(_mm256_add_ps(m[0], p), r);
    y[1] = _mm256_fmadd_ps(k2, s, q);
    y[2] = _mm256_fmadd_ps(k4, r, p);
    y[3] = _mm256_add_ps(_mm256_fmadd_ps(k8, s, q), m[5]);
}

/* m = A y (4 vectors to 6: the adjoint of at6). */
TGT static inline void a6(__m256 m[6], const __m256 y[4]) {
    const __m256 k2 = _mm256_set1_ps(2), k4 = _mm256_set1_ps(4), k8 = _mm256_set1_ps(8);
    __m256 e = _mm256_add_ps(y[0], y[2]), o = _mm256_add_ps(y[1], y[3]);
    __m256 e2 = _mm256_fmadd_ps(k4, y[2], y[0]);
    __m256 o2 = _mm256_fmadd_ps(k2, y[1], _mm256_mul_ps(k8, y[3]));
    m[0] = y[0], m[1] = _mm256_add_ps(e, o), m[2] = _mm256_sub_ps(e, o);
    m[3] = _mm256_add_ps(e2, o2), m[4] = _mm256_sub_ps(e2, o2), m[5] = y[3];
}

/* V[pos][j][c] = (B^T d B)[pos] for tiles t0+j, j < nt, of the chunk's bordered inputs
 * src (cs channels). */
TGT static void input_tf(float *V, const float *src, int cs, const wgeo *g, int t0, int nt) {
    size_t ld = (size_t)g->TB * cs, row = (size_t)g->PW * cs, img = padded(g, cs);
    tpos tp = tile_at(g, t0);
    for (int j = 0; j < nt; j++, tile_next(g, &tp)) {
        const float *p = src + tp.img * img + (size_t)4 * tp.ty * row + (size_t)4 * tp.tx * cs;
        float *v = V + (size_t)j * cs;
        for (int c = 0; c < cs; c += 8) {
            __m256 t[6][6]; /* t[b] = column b of B^T d */
            for (int b = 0; b < 6; b++) {
                __m256 d[6];
                for (int a = 0; a < 6; a++) d[a] = _mm256_loadu_ps(p + a * row + b * cs + c);
                bt6(t[b], d);
            }
            for (int a = 0; a < 6; a++) {
                __m256 r[6], o[6];
                for (int b = 0; b < 6; b++) r[b] = t[b][a];
                bt6(o, r);
                for (int b = 0; b < 6; b++) _mm256_storeu_ps(v + (size_t)(a * 6 + b) * ld + c, o[b]);
            }
        }
    }
}

/* out (per image 4TH x 4TW pixels of cs channels) <- A^T M[.][j] A for tiles t0+j. */
TGT static void output_tf(float *out, const float *M, int cs, const wgeo *g, int t0, int nt) {
    size_t ld = (size_t)g->TB * cs, row = (size_t)4 * g->TW * cs, img = (size_t)16 * g->T * cs;
    tpos tp = tile_at(g, t0);
    for (int j = 0; j < nt; j++, tile_next(g, &tp)) {
        float *p = out + tp.img * img + (size_t)4 * tp.ty * row + (size_t)4 * tp.tx * cs;
        const float *m = M + (size_t)j * cs;
        for (int c = 0; c < cs; c += 8) {
            __m256 s[6][4]; /* s[b] = A^T of column b */
            for (int b = 0; b < 6; b++) {
                __m256 x[6];
                for (int a = 0; a < 6; a++) x[a] = _mm256_loadu_ps(m + (size_t)(a * 6 + b) * ld + c);
                at6(s[b], x);
            }
            for (int a = 0; a < 4; a++) {
                __m256 r[6], y[4];
                for (int b = 0; b < 6; b++) r[b] = s[b][a];
                at6(y, r);
                for (int b = 0; b < 4; b++) _mm256_storeu_ps(p + a * row + b * cs + c, y[b]);
            }
        }
    }
}

/* dM[pos][j][c] = (A dY A^T)[pos] for tiles t0+j, dY the 4x4 tile of the chunk's bordered
 * dy (pixel (h,w) at row h+1, column w+1; past an edge the border's zeros). */
TGT static void dout_tf(float *dM, const float *dyp, int cs, const wgeo *g, int t0, int nt) {
    size_t ld = (size_t)g->TB * cs, row = (size_t)g->PW * cs, img = padded(g, cs);
    tpos tp = tile_at(g, t0);
    for (int j = 0; j < nt; j++, tile_next(g, &tp)) {
        const float *p = dyp + tp.img * img + (size_t)(4 * tp.ty + 1) * row +
                         (size_t)(4 * tp.tx + 1) * cs;
        float *m = dM + (size_t)j * cs;
        for (int c = 0; c < cs; c += 8) {
            __m256 t[4][6]; /* t[b] = A of column b */
            for (int b = 0; b < 4; b++) {
                __m256 y[4];
                for (int a = 0; a < 4; a++) y[a] = _mm256_loadu_ps(p + a * row + b * cs + c);
                a6(t[b], y);
            }
            for (int a = 0; a < 6; a++) {
                __m256 r[4], o[6];
                for (int b = 0; b < 4; b++) r[b] = t[b][a];
                a6(o, r);
                for (int b = 0; b < 6; b++) _mm256_storeu_ps(m + (size_t)(a * 6 + b) * ld + c, o[b]);
            }
        }
    }
}

/* ---- the per-position products --------------------------------------------------------- */

/* M (tb,NO) = V (tb,NI) * U (NI,NO) at one position: MR tiles x 8*NV outputs in
 * registers, one broadcast of V per tile and input channel. tb is a multiple of MR. Built
 * for the NB201 channel counts (NI a constant: straight-line inner loop) and any NI. */
#define PRODUCT(MR, NV, NAME, NI)                                                   \
    TGT static void NAME(float *M, const float *V, const float *U, int tb, int ni, int NO) {  \
        (void)ni;                                                                           \
        for (int o0 = 0; o0 < NO; o0 += 8 * NV)                                             \
            for (int t0 = 0; t0 < tb; t0 += MR) {                                           \
                __m256 acc[MR][NV];                                                         \
                _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++)                       \
                    _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[i][v] =        \
                        _mm256_setzero_ps();                                                \
                const float *vr = V + (size_t)t0 * NI, *ur = U + o0;                        \
                _Pragma("GCC unroll 8") for (int c = 0; c < NI; c++, ur += NO) {            \
                    __m256 u[NV];                                                           \
                    _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) u[v] =             \
                        _mm256_loadu_ps(ur + 8 * v);                                        \
                    _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++) {                 \
                        __m256 b = _mm256_broadcast_ss(vr + i * NI + c);                    \
                        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[i][v] =    \
                            _mm256_fmadd_ps(b, u[v], acc[i][v]);                            \
                    }                                                                       \
                }                                                                           \
                _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++)                       \
                    _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                    \
                        _mm256_storeu_ps(M + (size_t)(t0 + i) * NO + o0 + 8 * v, acc[i][v]); \
            }                                                                               \
    }
PRODUCT(12, 1, prod_12_1_8, 8)
PRODUCT(12, 1, prod_12_1_16, 16)
PRODUCT(12, 1, prod_12_1_32, 32)
PRODUCT(12, 1, prod_12_1, ni)
PRODUCT(6, 2, prod_6_2_8, 8)
PRODUCT(6, 2, prod_6_2_16, 16)
PRODUCT(6, 2, prod_6_2_32, 32)
PRODUCT(6, 2, prod_6_2, ni)

TGT static void product(float *M, const float *V, const float *U, int nt, int NI, int NO) {
    int tb = (nt + 5) / 6 * 6;
    if (NO % 16 == 0)
        switch (NI) {
        case 8: prod_6_2_8(M, V, U, tb, NI, NO); return;
        case 16: prod_6_2_16(M, V, U, tb, NI, NO); return;
        case 32: prod_6_2_32(M, V, U, tb, NI, NO); return;
        default: prod_6_2(M, V, U, tb, NI, NO); return;
        }
    tb = (nt + 11) / 12 * 12;
    switch (NI) {
    case 8: prod_12_1_8(M, V, U, tb, NI, NO); return;
    case 16: prod_12_1_16(M, V, U, tb, NI, NO); return;
    case 32: prod_12_1_32(M, V, U, tb, NI, NO); return;
    default: prod_12_1(M, V, U, tb, NI, NO); return;
    }
}

/* dU (NI,NO) += V (nt,NI)^T dM (nt,NO) at one position: 8 input channels x 8*NV outputs
 * in registers (two sets over even and odd tiles when NV is 1, for enough FMAs in
 * flight), summed in a fixed order. */
TGT static void wgrad(float *dU, const float *V, const float *dM, int nt, int NI, int NO) {
    for (int c0 = 0; c0 < NI; c0 += 8)
        if (NO % 16 == 0)
            for (int o0 = 0; o0 < NO; o0 += 16) {
                __m256 a0[8], a1[8];
                for (int i = 0; i < 8; i++) a0[i] = a1[i] = _mm256_setzero_ps();
                for (int t = 0; t < nt; t++) {
                    const float *v = V + (size_t)t * NI + c0;
                    __m256 d0 = _mm256_loadu_ps(dM + (size_t)t * NO + o0);
                    __m256 d1 = _mm256_loadu_ps(dM + (size_t)t * NO + o0 + 8);
                    for (int i = 0; i < 8; i++) {
                        __m256 b = _mm256_broadcast_ss(v + i);
                        a0[i] = _mm256_fmadd_ps(b, d0, a0[i]);
                        a1[i] = _mm256_fmadd_ps(b, d1, a1[i]);
                    }
                }
                for (int i = 0; i < 8; i++) {
                    float *q = dU + (size_t)(c0 + i) * NO + o0;
                    _mm256_storeu_ps(q, _mm256_add_ps(_mm256_loadu_ps(q), a0[i]));
                    _mm256_storeu_ps(q + 8, _mm256_add_ps(_mm256_loadu_ps(q + 8), a1[i]));
                }
            }
        else
            for (int o0 = 0; o0 < NO; o0 += 8) {
                __m256 a0[8], a1[8];
                for (int i = 0; i < 8; i++) a0[i] = a1[i] = _mm256_setzero_ps();
                int t = 0;
                for (; t + 2 <= nt; t += 2) {
                    const float *v = V + (size_t)t * NI + c0;
                    __m256 d0 = _mm256_loadu_ps(dM + (size_t)t * NO + o0);
                    __m256 d1 = _mm256_loadu_ps(dM + (size_t)(t + 1) * NO + o0);
                    for (int i = 0; i < 8; i++) {
                        a0[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(v + i), d0, a0[i]);
                        a1[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(v + NI + i), d1, a1[i]);
                    }
                }
                if (t < nt) {
                    const float *v = V + (size_t)t * NI + c0;
                    __m256 d0 = _mm256_loadu_ps(dM + (size_t)t * NO + o0);
                    for (int i = 0; i < 8; i++)
                        a0[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(v + i), d0, a0[i]);
                }
                for (int i = 0; i < 8; i++) {
                    float *q = dU + (size_t)(c0 + i) * NO + o0;
                    _mm256_storeu_ps(q, _mm256_add_ps(_mm256_loadu_ps(q),
                                                      _mm256_add_ps(a0[i], a1[i])));
                }
            }
}

/* ---- one chunk ------------------------------------------------------------------------- */

/* out = conv of the chunk's n bordered images src (NI channels) with U, block by block. */
TGT static void conv_chunk(float *out, const float *src, const float *U, float *V, float *M,
                           int n, int NI, int NO, const wgeo *g) {
    size_t un = (size_t)NI * NO;
    for (int t0 = 0; t0 < n * g->T; t0 += g->TB) {
        int nt = n * g->T - t0 < g->TB ? n * g->T - t0 : g->TB;
        input_tf(V, src, NI, g, t0, nt);
        for (int pos = 0; pos < NP; pos++)
            product(M + (size_t)pos * g->TB * NO, V + (size_t)pos * g->TB * NI, U + pos * un, nt,
                    NI, NO);
        output_tf(out, M, NO, g, t0, nt);
    }
}

void convw_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC) {
    wgeo g = wgeo_of(C, H, W, OC);
    size_t cm = C > OC ? C : OC, hw = (size_t)H * W;
    wspace s = carve(ws, &g, C, OC);
    filter_tf(s.U, w, OC, C, 0);
    memset(s.xp, 0, sizeof(float) * padded(&g, C) * g.NI);
    /* rows of V past a block's last tile feed products nobody reads: keep them finite */
    memset(s.V, 0, sizeof(float) * NP * g.TB * cm);
    for (int b0 = 0; b0 < B; b0 += g.NI) {
        int n = B - b0 < g.NI ? B - b0 : g.NI;
        for (int i = 0; i < n; i++)
            to_cl(s.xp + i * padded(&g, C), g.PW, 1, x + (size_t)(b0 + i) * C * hw, C, H, W);
        conv_chunk(s.out, s.xp, s.U, s.V, s.M, n, C, OC, &g);
        for (int i = 0; i < n; i++)
            from_cl(y + (size_t)(b0 + i) * OC * hw, 0, s.out + (size_t)i * 16 * g.T * OC,
                    4 * g.TW, 0, OC, H, W);
    }
}

void convw_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC) {
    wgeo g = wgeo_of(C, H, W, OC);
    size_t cm = C > OC ? C : OC, hw = (size_t)H * W, un = (size_t)C * OC;
    wspace s = carve(ws, &g, C, OC);
    memset(s.dyp, 0, sizeof(float) * padded(&g, OC) * g.NI);
    memset(s.V, 0, sizeof(float) * NP * g.TB * cm);
    if (dx) filter_tf(s.U, w, C, OC, 1);
    if (dw) {
        memset(s.xp, 0, sizeof(float) * padded(&g, C) * g.NI);
        memset(s.dU, 0, sizeof(float) * NP * un);
    }
    for (int b0 = 0; b0 < B; b0 += g.NI) {
        int n = B - b0 < g.NI ? B - b0 : g.NI;
        for (int i = 0; i < n; i++)
            to_cl(s.dyp + i * padded(&g, OC), g.PW, 1, dy + (size_t)(b0 + i) * OC * hw, OC, H, W);
        if (dx) {
            conv_chunk(s.out, s.dyp, s.U, s.V, s.M, n, OC, C, &g);
            for (int i = 0; i < n; i++)
                from_cl(dx + (size_t)(b0 + i) * C * hw, 1, s.out + (size_t)i * 16 * g.T * C,
                        4 * g.TW, 0, C, H, W);
        }
        if (dw) {
            for (int i = 0; i < n; i++)
                to_cl(s.xp + i * padded(&g, C), g.PW, 1, x + (size_t)(b0 + i) * C * hw, C, H, W);
            for (int t0 = 0; t0 < n * g.T; t0 += g.TB) {
                int nt = n * g.T - t0 < g.TB ? n * g.T - t0 : g.TB;
                input_tf(s.V, s.xp, C, &g, t0, nt);
                dout_tf(s.M, s.dyp, OC, &g, t0, nt);
                for (int pos = 0; pos < NP; pos++)
                    wgrad(s.dU + pos * un, s.V + (size_t)pos * g.TB * C,
                          s.M + (size_t)pos * g.TB * OC, nt, C, OC);
            }
        }
    }
    if (dw) filter_grad(dw, s.dU, OC, C);
}

/* ---- 3x3 stride-2 pad-1: direct ------------------------------------------------------
 *
 * x is copied into a bordered channel-last buffer (row 0 and column 0 the padding, width
 * PW = 2*OW+1); output pixel (oy,ox) then reads the 3x3 window at rows 2oy..2oy+2,
 * columns 2ox..2ox+2. The forward keeps 7 output pixels x 8-16 output channels in
 * registers over the 9*C products of each; the input gradient is the same loop per tap
 * over dy (added into a bordered dx: for one tap, distinct outputs touch distinct
 * inputs); the weight gradient keeps 8 input x 8-16 output channels of one tap over all
 * pixels. im2col for these shapes is mostly a strided gather (docs/engine.md). */

typedef struct {
    int OH, OW, PW, PH;
} s2geo;

static s2geo s2geo_of(int H, int W) {
    s2geo g;
    g.OH = conv2d_out(H, 3, 2, 1), g.OW = conv2d_out(W, 3, 2, 1);
    g.PW = 2 * g.OW + 1, g.PH = 2 * g.OH + 1;
    if (g.PW < W + 1) g.PW = W + 1; /* the copy's interior is the whole plane */
    if (g.PH < H + 1) g.PH = H + 1;
    return g;
}

int convs_use(int C, int OC) { return convw_use(8, 8) && C % 8 == 0 && OC % 8 == 0; }

/* The pieces of the workspace, 64-byte aligned: weights per tap (two layouts), their
 * gradient, bordered x and dx, channel-last y or dy. */
typedef struct {
    float *wt, *wtt, *dwt, *xp, *dxp, *ycl;
    size_t n;
} s2space;

static s2space s2carve(float *ws, const s2geo *g, int C, int OC) {
    s2space w;
    size_t wk = up16((size_t)9 * C * OC), pp = up16((size_t)g->PH * g->PW * C);
    float *p = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    w.wt = p, w.wtt = p + wk, w.dwt = p + 2 * wk, w.xp = p + 3 * wk, w.dxp = w.xp + pp;
    w.ycl = w.dxp + pp;
    w.n = (size_t)(w.ycl - p) + (size_t)g->OH * g->OW * OC;
    return w;
}

size_t convs_ws_floats(int C, int H, int W, int OC) {
    s2geo g = s2geo_of(H, W);
    return s2carve(NULL, &g, C, OC).n + 16;
}

/* acc[i][v] = sum over taps and NI channels of src[tap(i)][c] * wk[tap][c][o0 + 8v], for
 * MR pixels i (src pixel stride si floats), then stored (add: added) at dst + i*sd. The
 * forward: src = bordered x, taps at (ky*PW + kx)*C; the input gradient: one tap, src =
 * dy. ntap taps with offsets toff[] (floats). */
#define S2K(MR, NV)                                                                         \
    TGT static void s2k_##MR##_##NV(float *dst, size_t sd, int add, const float *src,       \
                                    size_t si, const int *toff, int ntap, int NI,           \
                                    const float *wk, int ldw) {                             \
        __m256 acc[MR][NV];                                                                 \
        _Pragma("GCC unroll 7") for (int i = 0; i < MR; i++)                                \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[i][v] =                \
                _mm256_setzero_ps();                                                        \
        for (int t = 0; t < ntap; t++) {                                                    \
            const float *sr = src + toff[t], *wr = wk + (size_t)t * NI * ldw;               \
            for (int c = 0; c < NI; c++, wr += ldw) {                                       \
                __m256 u[NV];                                                               \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) u[v] =                 \
                    _mm256_loadu_ps(wr + 8 * v);                                            \
                _Pragma("GCC unroll 7") for (int i = 0; i < MR; i++) {                      \
                    __m256 b = _mm256_broadcast_ss(sr + i * si + c);                        \
                    _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[i][v] =        \
                        _mm256_fmadd_ps(b, u[v], acc[i][v]);                                \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 7") for (int i = 0; i < MR; i++)                                \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) {                          \
                float *q = dst + i * sd + 8 * v;                                            \
                _mm256_storeu_ps(q, add ? _mm256_add_ps(_mm256_loadu_ps(q), acc[i][v])      \
                                        : acc[i][v]);                                       \
            }                                                                               \
    }
S2K(7, 2)
S2K(1, 2)
S2K(7, 1)
S2K(1, 1)

/* One row of n output pixels starting at src/dst, all output channels NO (blocks of 16 or
 * 8), 7 pixels at a time. */
TGT static void s2_row(float *dst, size_t sd, int add, const float *src, size_t si,
                       const int *toff, int ntap, int NI, const float *wk, int NO, int n) {
    for (int o0 = 0; o0 < NO;) {
        int wide = NO - o0 >= 16;
        const float *w = wk + o0;
        int i = 0;
        for (; i + 7 <= n; i += 7)
            (wide ? s2k_7_2 : s2k_7_1)(dst + i * sd + o0, sd, add, src + i * si, si, toff, ntap,
                                       NI, w, NO);
        for (; i < n; i++)
            (wide ? s2k_1_2 : s2k_1_1)(dst + i * sd + o0, sd, add, src + i * si, si, toff, ntap,
                                       NI, w, NO);
        o0 += wide ? 16 : 8;
    }
}

/* wt[tap][c][o] = w[o][c][tap]; wtt[tap][o][c] = the same. */
static void s2_pack(float *wt, float *wtt, const float *w, int C, int OC) {
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < 9; k++) {
                float v = w[((size_t)o * C + c) * 9 + k];
                if (wt) wt[((size_t)k * C + c) * OC + o] = v;
                if (wtt) wtt[((size_t)k * OC + o) * C + c] = v;
            }
}

void convs_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC) {
    s2geo g = s2geo_of(H, W);
    s2space s = s2carve(ws, &g, C, OC);
    int toff[9];
    for (int k = 0; k < 9; k++) toff[k] = ((k / 3) * g.PW + k % 3) * C;
    s2_pack(s.wt, NULL, w, C, OC);
    memset(s.xp, 0, sizeof(float) * g.PH * g.PW * C);
    size_t hw = (size_t)H * W, ohw = (size_t)g.OH * g.OW;
    for (int b = 0; b < B; b++) {
        to_cl(s.xp, g.PW, 1, x + (size_t)b * C * hw, C, H, W);
        for (int oy = 0; oy < g.OH; oy++)
            s2_row(s.ycl + (size_t)oy * g.OW * OC, OC, 0, s.xp + (size_t)2 * oy * g.PW * C,
                   2 * C, toff, 9, C, s.wt, OC, g.OW);
        from_cl(y + (size_t)b * OC * ohw, 0, s.ycl, g.OW, 0, OC, g.OH, g.OW);
    }
}

/* dwt[tap][c][o] += sum over pixels of x[tap window][c] dy[pixel][o]: 8 input channels x
 * 8-16 outputs in registers. */
TGT static void s2_wgrad(float *dwt, const float *xp, const float *dy, const s2geo *g, int C,
                         int OC) {
    for (int k = 0; k < 9; k++) {
        const float *xk = xp + ((k / 3) * g->PW + k % 3) * C;
        for (int c0 = 0; c0 < C; c0 += 8)
            for (int o0 = 0; o0 < OC; o0 += 8) {
                int wide = OC - o0 >= 16;
                __m256 a0[8], a1[8];
                for (int i = 0; i < 8; i++) a0[i] = a1[i] = _mm256_setzero_ps();
                for (int oy = 0; oy < g->OH; oy++) {
                    const float *xr = xk + (size_t)2 * oy * g->PW * C + c0;
                    const float *dr = dy + (size_t)oy * g->OW * OC + o0;
                    for (int ox = 0; ox < g->OW; ox++, xr += 2 * C, dr += OC) {
                        __m256 d0 = _mm256_loadu_ps(dr);
                        if (wide) {
                            __m256 d1 = _mm256_loadu_ps(dr + 8);
                            for (int i = 0; i < 8; i++) {
                                __m256 bv = _mm256_broadcast_ss(xr + i);
                                a0[i] = _mm256_fmadd_ps(bv, d0, a0[i]);
                                a1[i] = _mm256_fmadd_ps(bv, d1, a1[i]);
                            }
                        } else {
                            for (int i = 0; i < 8; i++)
                                a0[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + i), d0, a0[i]);
                        }
                    }
                }
                for (int i = 0; i < 8; i++) {
                    float *q = dwt + ((size_t)k * C + c0 + i) * OC + o0;
                    _mm256_storeu_ps(q, _mm256_add_ps(_mm256_loadu_ps(q), a0[i]));
                    if (wide) _mm256_storeu_ps(q + 8, _mm256_add_ps(_mm256_loadu_ps(q + 8), a1[i]));
                }
                if (wide) o0 += 8;
            }
    }
}

void convs_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC) {
    s2geo g = s2geo_of(H, W);
    s2space s = s2carve(ws, &g, C, OC);
    size_t hw = (size_t)H * W, ohw = (size_t)g.OH * g.OW, pp = (size_t)g.PH * g.PW * C;
    int zero = 0;
    if (dx) s2_pack(NULL, s.wtt, w, C, OC);
    if (dw) {
        memset(s.xp, 0, sizeof(float) * pp);
        memset(s.dwt, 0, sizeof(float) * 9 * C * OC);
    }
    for (int b = 0; b < B; b++) {
        to_cl(s.ycl, g.OW, 0, dy + (size_t)b * OC * ohw, OC, g.OH, g.OW);
        if (dw) {
            to_cl(s.xp, g.PW, 1, x + (size_t)b * C * hw, C, H, W);
            s2_wgrad(s.dwt, s.xp, s.ycl, &g, C, OC);
        }
        if (dx) {
            memset(s.dxp, 0, sizeof(float) * pp);
            for (int k = 0; k < 9; k++)
                for (int oy = 0; oy < g.OH; oy++)
                    s2_row(s.dxp + ((size_t)(2 * oy + k / 3) * g.PW + k % 3) * C, 2 * C, 1,
                           s.ycl + (size_t)oy * g.OW * OC, OC, &zero, 1, OC,
                           s.wtt + (size_t)k * OC * C, C, g.OW);
            from_cl(dx + (size_t)b * C * hw, 1, s.dxp, g.PW, 1, C, H, W);
        }
    }
    if (dw)
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < 9; k++)
                    dw[((size_t)o * C + c) * 9 + k] += s.dwt[((size_t)k * C + c) * OC + o];
}

#else /* no x86-64 build: convw_use() and convs_use() are always 0 */

int convs_use(int C, int OC) { return (void)C, (void)OC, 0; }
size_t convs_ws_floats(int C, int H, int W, int OC) {
    return (void)C, (void)H, (void)W, (void)OC, 0;
}
void convs_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC) {
    (void)y, (void)x, (void)w, (void)ws, (void)B, (void)C, (void)H, (void)W, (void)OC;
    abort();
}
void convs_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC) {
    (void)dx, (void)dw, (void)dy, (void)x, (void)w, (void)ws, (void)B, (void)C, (void)H,
        (void)W, (void)OC;
    abort();
}

void convw_forward(float *y, const float *x, const float *w, float *ws, int B, int C, int H,
                   int W, int OC) {
    (void)y, (void)x, (void)w, (void)ws, (void)B, (void)C, (void)H, (void)W, (void)OC;
    abort();
}

void convw_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                    float *ws, int B, int C, int H, int W, int OC) {
    (void)dx, (void)dw, (void)dy, (void)x, (void)w, (void)ws, (void)B, (void)C, (void)H,
        (void)W, (void)OC;
    abort();
}

#endif
