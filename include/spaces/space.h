/* space.h — the search-space interface. A space encodes, samples and mutates candidate
 * architectures and builds their networks; each space is one source file (nb201.c,
 * nasrec.c) behind this table, so the tools never special-case a space. */
#ifndef SIGEO_SPACE_H
#define SIGEO_SPACE_H

#include <stddef.h>
#include <stdint.h>
#include "data/data.h"
#include "engine/net.h"
#include "io/rec.h"
#include "base/util.h"

#define ARCH_MAX_GENES 64

/* A candidate: a tuple of small integers whose meaning belongs to the space. */
typedef struct {
    int n;
    int g[ARCH_MAX_GENES];
} arch_t;

/* Space parameters: the network size a record and a supernet must agree on.
 * NB201 uses C, N, in_ch, H, W, classes. Other spaces use the generic slots
 * (documented in their source file and docs/). */
typedef struct {
    int C, N, in_ch, H, W, classes;
    int extra[16];
} space_cfg_t;

/* The extra[] slot where a click space (SPACE_DATA_CLICKS) keeps the hash buckets per
 * categorical feature, which the tools pass to the Criteo reader. */
#define SPACE_CFG_ROWS 1
/* The extra[] slot where a click space keeps how many of the in_ch input columns are dense
 * (the rest are categorical); the tools set it from the data (feed.h dense). */
#define SPACE_CFG_DENSE 3

/* What data a space's networks read (the tools load it accordingly). */
enum {
    SPACE_DATA_IMAGES = DATA_IMAGES, /* images, integer class labels */
    SPACE_DATA_CLICKS = DATA_CLICKS  /* click rows: dense + categorical columns, 0/1 labels */
};

typedef struct space {
    const char *name;
    int64_t n_arch; /* size of the space if enumerable, else -1 */
    const char *no_enum; /* why it is not enumerable (sample-arch --all), or NULL */
    /* The cfg: its defaults, its record keys with their bounds (space_cfg_key_t, below) and
     * a rule across keys beyond their bounds (NULL if none; 0, or -1 with err). The
     * space_cfg_* functions below read, check and write every space's cfg through these. */
    space_cfg_t cfg_defaults;
    const struct space_cfg_key *cfg_keys;
    int n_cfg_keys;
    int (*cfg_rule)(const space_cfg_t *c, char *err, size_t n_err);
    int (*parse)(const char *s, arch_t *a, char *err, size_t n_err);
    int (*format)(const arch_t *a, char *buf, size_t n);
    int64_t (*to_index)(const arch_t *a);        /* -1 if not enumerable */
    int (*from_index)(int64_t i, arch_t *a);     /* 0 or -1 */
    void (*sample)(rng_t *r, arch_t *a);
    void (*mutate)(rng_t *r, const arch_t *parent, arch_t *child);
    /* Add the candidate's nodes (input to loss) to an empty net. 0 or -1. */
    int (*build)(net_t *net, const space_cfg_t *c, const arch_t *a);
    /* Declare every parameter of the weight-sharing supernet into P (not allocated). */
    int (*declare_supernet)(params_t *P, const space_cfg_t *c);
    /* Path sampling for supernet training (uniform single path unless the space says
     * otherwise). */
    void (*sample_path)(rng_t *r, arch_t *a);
    int data_kind; /* SPACE_DATA_IMAGES or SPACE_DATA_CLICKS */
    /* Optional (NULL: sample / sample_path / mutate are used): the same for spaces whose
     * candidates depend on the space parameters (nasrec: number of blocks, widths). Call
     * them through space_sample, space_sample_path and space_mutate. */
    void (*sample_cfg)(rng_t *r, const space_cfg_t *c, arch_t *a);
    void (*sample_path_cfg)(rng_t *r, const space_cfg_t *c, arch_t *a);
    void (*mutate_cfg)(rng_t *r, const space_cfg_t *c, const arch_t *parent, arch_t *child);
    /* Default sigeo weights (l1, l2, l3, l4) that warmup-supernet writes into a checkpoint:
     * [0] for an untrained supernet, [1] after a warm-up. Chosen per space, since the terms
     * rank differently in different spaces (docs/quality.md, docs/nasrec.md). */
    double lambda[2][4];
    /* The warm-up share lambda[1] was chosen at (0: not tuned for a share). A checkpoint
     * records it, and score-sigeo warns when a supernet's share is far from it. */
    double lambda_fraction;
    /* Optional (NULL: none): a key equal for two candidates whose networks compute the
     * same thing from the input to the loss with the same inherited weights, because they
     * differ only in operations whose output never reaches the loss (NB201: edges into a
     * node with no path to the cell output). score-sigeo scores such candidates once for
     * the proxies that read only that part of the network (proxy.h live_only). -1: no key. */
    int64_t (*live_key)(const arch_t *a);
    /* The optimizer its networks train with (engine/optim.h OPTIMIZER_*; 0 is SGD), in
     * the warm-up and in train-arch, so the tools need not know the space. */
    int optimizer;
    /* Choices per gene of a supernet path when every gene has the same number (NB201: the
     * five ops of an edge), which fair sampling needs; 0: the space has no fair sampling. */
    int path_choices;
    /* Optional (NULL: the space has no sandwich sampling): its largest and smallest
     * supernet paths for c, which sandwich sampling trains at every step (NB201: every
     * edge nor_conv_3x3, and every edge skip_connect; docs/warmup.md). */
    void (*path_ends)(const space_cfg_t *c, arch_t *largest, arch_t *smallest);
    /* Optional (NULL: numbers only): the names of those path_choices choices (NB201: the
     * op names), which options such as warmup-supernet --fix accept. */
    const char *const *choice_names;
    /* What the tools do with this space when not told otherwise, set to the best ranking
     * measured (docs/quality.md, "Defaults, as shipped"): the score `rank` sorts by (NULL:
     * sigeo), and whether warmup-supernet's default is no warm-up (--fraction 0) instead
     * of 1%. Read them through space_rank_key and space_default_fraction. */
    const char *rank_key;
    int zero_shot;
} space_t;

void space_sample(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *a);
void space_sample_path(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *a);
void space_mutate(const space_t *S, rng_t *r, const space_cfg_t *c, const arch_t *parent,
                  arch_t *child);
/* Fair sampling (FairNAS, Chu et al. 2021): S->path_choices paths that together use every
 * choice of every gene exactly once (each gene's choices in a random order across the
 * paths), into paths[0..path_choices). Returns their number, 0 if the space has none. */
int space_fair_paths(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *paths);
/* Uniformly sampled paths in a sandwich step, besides the largest and the smallest. */
#define SPACE_SANDWICH_RANDOM 2
/* Sandwich sampling (BigNAS, Yu et al. 2020): the largest path, SPACE_SANDWICH_RANDOM
 * uniformly sampled ones (space_sample_path), then the smallest, into paths[0..returned).
 * Returns their number, 0 if the space has no path_ends. */
int space_sandwich_paths(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *paths);
/* Genes of a supernet path for c (NB201: 6 edges). */
int space_path_genes(const space_t *S, const space_cfg_t *c);
/* "G=OP" (gene G, 0-based, and a choice by name or number) into *gene and *choice, for
 * few-shot supernets whose paths all take one choice at one gene (warmup-supernet --fix);
 * only in spaces with path_choices. 0, or -1 with err giving the ranges and names. */
int space_fix_parse(const space_t *S, const space_cfg_t *c, const char *s, int *gene, int *choice,
                    char *err, size_t n_err);
/* Non-zero if S has few-shot splits and gene, choice name one of c's paths' genes and one
 * of its choices (what space_fix_parse accepts). */
int space_fix_valid(const space_t *S, const space_cfg_t *c, int64_t gene, int64_t choice);
/* Choice k's name (its number in buf when the space names none). */
const char *space_choice_name(const space_t *S, int k, char *buf, size_t n);

/* One integer of a space's "cfg" map: its record key, where it lives in space_cfg_t, and
 * its bounds. Spaces describe their cfg with a table of these. */
typedef struct space_cfg_key {
    const char *key;
    size_t off;
    int lo, hi;
} space_cfg_key_t;

/* c = the space's defaults. */
void space_cfg_default(const struct space *S, space_cfg_t *c);
/* Read rec's "cfg" map (keys absent there take the defaults; out of bounds or not an
 * integer is an error), then check it. 0, or -1 with err. */
int space_cfg_read(const struct space *S, space_cfg_t *c, const msgpack_object *rec, char *err, size_t n_err);
/* 0 if the space builds networks and supernets for c and space_cfg_read would read it
 * back; else -1 with err naming the parameter and the range or rule it breaks. A tool that
 * builds a cfg from options calls it before declaring. */
int space_cfg_check(const struct space *S, const space_cfg_t *c, char *err, size_t n_err);
/* The tools' size options over c: --channels C, --cells N, --classes K where > 0, and
 * --input "CxHxW" where not NULL. 0, or -1 with err (a malformed --input). */
int space_cfg_options(space_cfg_t *c, long channels, long cells, long classes, const char *input, char *err,
                      size_t n_err);
/* Write c as the map at path (normally "cfg"). 0 or -1. */
int space_cfg_write(const struct space *S, const space_cfg_t *c, rec_t *e, const char *path);

/* NULL if no space has that name. */
const space_t *space_find(const char *name);
/* The dotted key `rank` sorts S's records by unless told ("scores.sigeo" for S NULL). */
const char *space_rank_key(const space_t *S);
/* warmup-supernet's --fraction unless told: 0 or 0.01. */
double space_default_fraction(const space_t *S);
/* to_index and from_index of a space whose architectures are not numbered: -1. */
int64_t space_no_index(const arch_t *a);
int space_no_from_index(int64_t i, arch_t *a);
/* NULL-terminated table of all spaces. */
extern const space_t *const space_all[];

/* Reads a record's "space" (default "nb201"), "arch" and "cfg" into the outputs.
 * Returns 0, or -1 with a message in err naming what is wrong. */
int space_read_record(const msgpack_object *rec, const space_t **sp, arch_t *a,
                      space_cfg_t *c, char *err, size_t n_err);
/* Non-zero if two configurations are equal. */
int space_cfg_equal(const space_cfg_t *a, const space_cfg_t *b);

#endif
