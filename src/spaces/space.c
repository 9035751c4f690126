/* space.c — finding a space by name and reading a candidate out of a record (the spaces
 * themselves are listed in table.c). */
#include "spaces/space.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t space_no_index(const arch_t *a) {
    (void)a;
    return -1;
}

int space_no_from_index(int64_t i, arch_t *a) {
    (void)i, (void)a;
    return -1;
}

const space_t *space_find(const char *name) {
    for (int i = 0; space_all[i]; i++)
        if (strcmp(space_all[i]->name, name) == 0) return space_all[i];
    return NULL;
}

const char *space_rank_key(const space_t *S) {
    return S && S->rank_key ? S->rank_key : "scores.sigeo";
}

double space_default_fraction(const space_t *S) {
    return S->zero_shot ? 0 : 0.01;
}

int space_read_record(const msgpack_object *rec, const space_t **sp, arch_t *a, space_cfg_t *c, char *err,
                      size_t n_err) {
    char name[32], s[1024];
    if (rec->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n_err, "record is not a map");
        return -1;
    }
    int ret = rec_get_str(rec, "space", name, sizeof name);
    if (ret == REC_MISSING) snprintf(name, sizeof name, "nb201");
    else if (ret != REC_OK) {
        snprintf(err, n_err, "\"space\" is not a short string");
        return -1;
    }
    const space_t *S = space_find(name);
    if (!S) {
        snprintf(err, n_err, "unknown space \"%s\"", name);
        return -1;
    }
    /* "arch" is authoritative; "index" alone is accepted for enumerable spaces, and when
     * both are present they must agree (a stale index after a hand edit is an error). */
    int64_t idx = -1;
    int have_idx = 0;
    ret = rec_get_int(rec, "index", &idx);
    if (ret == REC_WRONG_TYPE) {
        snprintf(err, n_err, "\"index\" is not an integer");
        return -1;
    }
    have_idx = ret == REC_OK;
    ret = rec_get_str(rec, "arch", s, sizeof s);
    if (ret == REC_OK) {
        if (S->parse(s, a, err, n_err)) return -1;
        if (have_idx && S->n_arch > 0 && S->to_index(a) != idx) {
            snprintf(err, n_err, "\"index\" %lld does not match \"arch\" (index %lld)", (long long)idx,
                     (long long)S->to_index(a));
            return -1;
        }
    } else if (ret == REC_MISSING && have_idx && S->n_arch > 0) {
        if (S->from_index(idx, a)) {
            snprintf(err, n_err, "\"index\" %lld out of range 0..%lld", (long long)idx, (long long)S->n_arch - 1);
            return -1;
        }
    } else {
        const msgpack_object *o = rec_lookup(rec, "arch");
        if (ret == REC_MISSING)
            snprintf(err, n_err, "missing key \"arch\"");
        else if (o->type != MSGPACK_OBJECT_STR)
            snprintf(err, n_err, "\"arch\" is not a string");
        else if (o->via.str.size >= sizeof s)
            snprintf(err, n_err, "\"arch\" is too long (%u bytes; at most %zu)",
                     (unsigned)o->via.str.size, sizeof s - 1);
        else
            snprintf(err, n_err, "\"arch\" holds a NUL byte");
        return -1;
    }
    if (space_cfg_read(S, c, rec, err, n_err)) return -1;
    if (sp) *sp = S;
    return 0;
}

int space_cfg_equal(const space_cfg_t *a, const space_cfg_t *b) {
    if (a->C != b->C || a->N != b->N || a->in_ch != b->in_ch || a->H != b->H || a->W != b->W ||
        a->classes != b->classes)
        return 0;
    return memcmp(a->extra, b->extra, sizeof a->extra) == 0;
}

void space_sample(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *a) {
    if (S->sample_cfg) S->sample_cfg(r, c, a);
    else S->sample(r, a);
}

void space_sample_path(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *a) {
    if (S->sample_path_cfg) S->sample_path_cfg(r, c, a);
    else S->sample_path(r, a);
}

int space_fair_paths(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *paths) {
    int m = S->path_choices;
    if (m <= 0 || m > ARCH_MAX_GENES) return 0;
    arch_t a;
    space_sample_path(S, r, c, &a); /* the path's length */
    int perm[ARCH_MAX_GENES];
    for (int k = 0; k < m; k++) paths[k].n = a.n;
    for (int g = 0; g < a.n; g++) {
        for (int k = 0; k < m; k++) perm[k] = k;
        rng_shuffle(r, perm, m);
        for (int k = 0; k < m; k++) paths[k].g[g] = perm[k];
    }
    return m;
}

int space_sandwich_paths(const space_t *S, rng_t *r, const space_cfg_t *c, arch_t *paths) {
    if (!S->path_ends) return 0;
    int m = 2 + SPACE_SANDWICH_RANDOM;
    S->path_ends(c, &paths[0], &paths[m - 1]);
    for (int k = 1; k < m - 1; k++) space_sample_path(S, r, c, &paths[k]);
    return m;
}

int space_path_genes(const space_t *S, const space_cfg_t *c) {
    rng_t r;
    arch_t a;
    rng_seed(&r, 1); /* any path: only its length is read */
    space_sample_path(S, &r, c, &a);
    return a.n;
}

int space_fix_valid(const space_t *S, const space_cfg_t *c, int64_t gene, int64_t choice) {
    return S->path_choices > 0 && gene >= 0 && gene < space_path_genes(S, c) && choice >= 0 &&
           choice < S->path_choices;
}

const char *space_choice_name(const space_t *S, int k, char *buf, size_t n) {
    if (S->choice_names && k >= 0 && k < S->path_choices) return S->choice_names[k];
    snprintf(buf, n, "%d", k);
    return buf;
}

/* The choices' names for messages: "0 (none), 1 (skip_connect), ..." or "0..4". */
static void choice_list(const space_t *S, char *buf, size_t n) {
    size_t l = 0;
    buf[0] = 0;
    if (!S->choice_names) {
        snprintf(buf, n, "0..%d", S->path_choices - 1);
        return;
    }
    for (int k = 0; k < S->path_choices && l < n; k++)
        l += (size_t)snprintf(buf + l, n - l, "%s%d (%s)", k ? ", " : "", k, S->choice_names[k]);
}

int space_fix_parse(const space_t *S, const space_cfg_t *c, const char *s, int *gene, int *choice,
                    char *err, size_t n_err) {
    if (S->path_choices <= 0) {
        snprintf(err, n_err, "the %s space has no few-shot split (its genes differ in their "
                 "choices)", S->name);
        return -1;
    }
    int n_genes = space_path_genes(S, c), m = S->path_choices;
    char list[512], *end;
    choice_list(S, list, sizeof list);
    const char *eq = strchr(s, '=');
    long g = eq ? strtol(s, &end, 10) : -1;
    if (!eq || end != eq || eq == s || g < 0 || g >= n_genes) {
        snprintf(err, n_err, "'%s': want GENE=OP with GENE in 0..%d (the %s arch string's order) "
                 "and OP one of %s", s, n_genes - 1, S->name, list);
        return -1;
    }
    long k = -1;
    for (int i = 0; S->choice_names && i < m; i++)
        if (strcmp(eq + 1, S->choice_names[i]) == 0) k = i;
    if (k < 0 && eq[1]) {
        k = strtol(eq + 1, &end, 10);
        if (*end || k >= m) k = -1;
    }
    if (k < 0) {
        snprintf(err, n_err, "'%s': unknown op '%s'; one of %s", s, eq + 1, list);
        return -1;
    }
    *gene = (int)g, *choice = (int)k;
    return 0;
}

void space_mutate(const space_t *S, rng_t *r, const space_cfg_t *c, const arch_t *parent,
                  arch_t *child) {
    if (S->mutate_cfg) S->mutate_cfg(r, c, parent, child);
    else S->mutate(r, parent, child);
}

void space_cfg_default(const space_t *S, space_cfg_t *c) {
    *c = S->cfg_defaults;
}

static int read_keys(space_cfg_t *c, const msgpack_object *rec, const space_cfg_key_t *keys, int n_keys,
                     char *err, size_t n_err) {
    const msgpack_object *m = rec_lookup(rec, "cfg");
    if (!m) return 0;
    if (m->type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n_err, "\"cfg\" is not a map");
        return -1;
    }
    for (int k = 0; k < n_keys; k++) {
        int64_t v;
        int ret = rec_get_int(m, keys[k].key, &v);
        if (ret == REC_MISSING) continue;
        if (ret != REC_OK || v < keys[k].lo || v > keys[k].hi) {
            snprintf(err, n_err, "\"cfg.%s\" must be an integer in %d..%d", keys[k].key,
                     keys[k].lo, keys[k].hi);
            return -1;
        }
        *(int *)((char *)c + keys[k].off) = (int)v;
    }
    return 0;
}

int space_cfg_check(const space_t *S, const space_cfg_t *c, char *err, size_t n_err) {
    const space_cfg_key_t *keys = S->cfg_keys;
    for (int k = 0; k < S->n_cfg_keys; k++) {
        int v = *(const int *)((const char *)c + keys[k].off);
        if (v < keys[k].lo || v > keys[k].hi) {
            snprintf(err, n_err, "cfg %s is %d; the space takes %d..%d", keys[k].key, v,
                     keys[k].lo, keys[k].hi);
            return -1;
        }
    }
    return S->cfg_rule ? S->cfg_rule(c, err, n_err) : 0;
}

int space_cfg_read(const space_t *S, space_cfg_t *c, const msgpack_object *rec, char *err, size_t n_err) {
    space_cfg_default(S, c);
    if (read_keys(c, rec, S->cfg_keys, S->n_cfg_keys, err, n_err)) return -1;
    return space_cfg_check(S, c, err, n_err);
}

int space_cfg_write(const space_t *S, const space_cfg_t *c, rec_t *e, const char *path) {
    const space_cfg_key_t *keys = S->cfg_keys;
    char key[128];
    for (int k = 0; k < S->n_cfg_keys; k++) {
        if (snprintf(key, sizeof key, "%s.%s", path, keys[k].key) >= (int)sizeof key) return -1;
        if (rec_set_i64(e, key, *(const int *)((const char *)c + keys[k].off))) return -1;
    }
    return 0;
}

int space_cfg_options(space_cfg_t *c, long channels, long cells, long classes, const char *input, char *err,
                      size_t n_err) {
    if (channels > 0) c->C = (int)channels;
    if (cells > 0) c->N = (int)cells;
    if (classes > 0) c->classes = (int)classes;
    if (!input) return 0;
    int ci, h, w;
    char tail;
    if (sscanf(input, "%dx%dx%d%c", &ci, &h, &w, &tail) != 3 || ci < 1 || ci > 64 || h < 4 || h > 4096 || w < 4 ||
        w > 4096) {
        snprintf(err, n_err, "bad --input '%s' (want CxHxW, e.g. 3x32x32)", input);
        return -1;
    }
    c->in_ch = ci, c->H = h, c->W = w;
    return 0;
}
