/* recset.c — records held as packed bytes (see recset.h). */
#include "io/recset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/stats.h"
#include "base/util.h"
#include "io/file.h"
#include "io/json.h"
#include "io/rec.h"
#include "io/reckeys.h"

int recset_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q, *cap = c;
    return 0;
}

void recset_init(recset_t *s, int n_vals) {
    memset(s, 0, sizeof *s);
    s->n_vals = n_vals;
    msgpack_sbuffer_init(&s->sb);
    msgpack_unpacked_init(&s->u);
}

void recset_free(recset_t *s) {
    free(s->arena), free(s->it), free(s->vals);
    for (size_t i = 0; i < s->n_col; i++) free(s->col[i].name), free(s->col[i].v);
    free(s->col);
    msgpack_sbuffer_destroy(&s->sb);
    msgpack_unpacked_destroy(&s->u);
    memset(s, 0, sizeof *s);
}

static int pack(recset_t *s, const msgpack_object *o) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s->sb, msgpack_sbuffer_write);
    msgpack_sbuffer_clear(&s->sb);
    return msgpack_pack_object(&pk, *o) ? -1 : 0;
}

int recset_add(recset_t *s, const msgpack_object *o, double key, double truth, const double *vals) {
    size_t nv = (size_t)s->n_vals;
    if (pack(s, o) || recset_grow((void **)&s->arena, &s->cap_arena, s->n_arena + s->sb.size, 1) ||
        recset_grow((void **)&s->it, &s->cap, s->n + 1, sizeof *s->it) ||
        (nv && recset_grow((void **)&s->vals, &s->cap_vals, (s->n_rows + 1) * nv, sizeof *s->vals)))
        return -1;
    memcpy(s->arena + s->n_arena, s->sb.data, s->sb.size);
    if (nv) memcpy(s->vals + s->n_rows * nv, vals, nv * sizeof *vals);
    s->it[s->n++] = (recset_item_t){s->n_arena, s->sb.size, s->n_rows++, key, truth};
    s->n_arena += s->sb.size;
    return 0;
}

static int before(const recset_item_t *a, const recset_item_t *b, int asc) {
    if (isnan(a->key) || isnan(b->key)) return !isnan(a->key) && isnan(b->key);
    return asc ? a->key < b->key : a->key > b->key;
}

static void merge_sort(recset_item_t *v, recset_item_t *tmp, size_t n, int asc) {
    if (n < 2) return;
    size_t h = n / 2, i = 0, j = h, k = 0;
    merge_sort(v, tmp, h, asc);
    merge_sort(v + h, tmp, n - h, asc);
    while (i < h && j < n) tmp[k++] = before(&v[j], &v[i], asc) ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

int recset_sort(recset_t *s, int asc) {
    recset_item_t *tmp = malloc((s->n ? s->n : 1) * sizeof *tmp);
    if (!tmp) return -1;
    merge_sort(s->it, tmp, s->n, asc);
    free(tmp);
    return 0;
}

int recset_keep_top(recset_t *s, size_t k, int asc) {
    char *arena = malloc(s->cap_arena ? s->cap_arena : 1);
    if (!arena || recset_sort(s, asc)) {
        free(arena);
        return -1;
    }
    size_t off = 0;
    for (size_t i = 0; i < k && i < s->n; i++) {
        memcpy(arena + off, s->arena + s->it[i].off, s->it[i].len);
        s->it[i].off = off;
        off += s->it[i].len;
    }
    free(s->arena);
    s->arena = arena, s->n_arena = off;
    if (s->n > k) s->n = k;
    return 0;
}

void recset_filter(recset_t *s, const unsigned char *keep) {
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++)
        if (keep[i]) s->it[m++] = s->it[i];
    s->n = m;
}

const msgpack_object *recset_get(recset_t *s, size_t i) {
    size_t off = 0;
    if (msgpack_unpack_next(&s->u, s->arena + s->it[i].off, s->it[i].len, &off) != MSGPACK_UNPACK_SUCCESS)
        return NULL;
    return &s->u.data;
}

/* Re-packs every record into a new arena. */
int recset_set_f64(recset_t *s, const char *key, const double *v) {
    char *arena = NULL;
    size_t n_arena = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < s->n && !rc; i++) {
        const msgpack_object *o = recset_get(s, i);
        rec_t e;
        if ((rc = !o || rec_edit_begin(&e, o))) break;
        rc = rec_set_f64(&e, key, v[i]) || pack(s, &e.root) ||
             recset_grow((void **)&arena, &cap, n_arena + s->sb.size, 1);
        rec_edit_end(&e);
        if (rc) break;
        memcpy(arena + n_arena, s->sb.data, s->sb.size);
        s->it[i].off = n_arena, s->it[i].len = s->sb.size;
        n_arena += s->sb.size;
    }
    if (rc) {
        free(arena);
        return -1;
    }
    free(s->arena);
    s->arena = arena, s->n_arena = n_arena, s->cap_arena = cap;
    return 0;
}

static int col_set(recset_col_t *c, size_t i, double v) {
    if (recset_grow((void **)&c->v, &c->cap, i + 1, sizeof *c->v)) return -1;
    while (c->n <= i) c->v[c->n++] = NAN;
    c->v[i] = v;
    return 0;
}

int recset_collect(recset_t *s, const msgpack_object *o, const char *under) {
    const msgpack_object *sc = rec_lookup(o, under);
    if (!s->n_rows || !sc || sc->type != MSGPACK_OBJECT_MAP) return 0;
    size_t row = s->n_rows - 1;
    for (uint32_t j = 0; j < sc->via.map.size; j++) {
        const msgpack_object_kv *kv = &sc->via.map.ptr[j];
        double v;
        if (kv->key.type != MSGPACK_OBJECT_STR || rec_get_num(&kv->val, NULL, &v) != REC_OK) continue;
        size_t c = 0, kn = kv->key.via.str.size;
        while (c < s->n_col && !(strlen(s->col[c].name) == kn && !memcmp(s->col[c].name, kv->key.via.str.ptr, kn)))
            c++;
        if (c == s->n_col) {
            recset_col_t *nc = realloc(s->col, (s->n_col + 1) * sizeof *nc);
            if (!nc) return -1;
            s->col = nc;
            memset(&nc[c], 0, sizeof nc[c]);
            if (!(nc[c].name = malloc(kn + 1))) return -1;
            memcpy(nc[c].name, kv->key.via.str.ptr, kn);
            nc[c].name[kn] = 0;
            s->n_col++;
        }
        if (col_set(&s->col[c], row, v)) return -1;
    }
    return 0;
}

/* The numbers first .. first+m-1 of every item, in item order: n * m, row-major. NULL out
 * of memory; the caller frees it. */
static double *item_vals(const recset_t *s, int first, int m) {
    double *v = malloc((s->n ? s->n : 1) * (size_t)m * sizeof *v);
    for (size_t i = 0; v && i < s->n; i++)
        memcpy(v + i * (size_t)m, s->vals + s->it[i].row * (size_t)s->n_vals + first, (size_t)m * sizeof *v);
    return v;
}

int recset_pareto(recset_t *s, int first, int m) {
    double *v = item_vals(s, first, m);
    unsigned char *keep = malloc(s->n ? s->n : 1);
    int rc = !v || !keep || stats_pareto_front(v, s->n, m, keep) ? -1 : 0;
    if (!rc) recset_filter(s, keep);
    free(v), free(keep);
    return rc;
}

int recset_aggregate(recset_t *s, int first, int m, int use_log, const char *key) {
    size_t n = s->n;
    double **col = calloc((size_t)m, sizeof *col), *agg = malloc((n ? n : 1) * sizeof *agg);
    int rc = !col || !agg;
    for (int j = 0; !rc && j < m; j++)
        if (!(col[j] = malloc((n ? n : 1) * sizeof **col))) rc = -1;
        else
            for (size_t i = 0; i < n; i++) col[j][i] = s->vals[s->it[i].row * (size_t)s->n_vals + first + j];
    rc = rc || stats_rank_aggregate(col, m, n, use_log, agg) || (key && recset_set_f64(s, key, agg));
    for (size_t i = 0; !rc && i < n; i++) s->it[i].key = agg[i];
    for (int j = 0; col && j < m; j++) free(col[j]);
    free(col), free(agg);
    return rc ? -1 : 0;
}

int recset_correlate(const recset_t *s, int c, int asc, size_t k, recset_corr_t *r) {
    size_t n = s->n, m = 0;
    double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    if (!a || !b) return free(a), free(b), -1;
    for (size_t i = 0; i < n; i++) {
        const recset_item_t *t = &s->it[i];
        double v = c < 0 ? t->key : t->row < s->col[c].n ? s->col[c].v[t->row] : NAN;
        v = asc ? -v : v; /* larger = ranked better */
        if (!isnan(v) && !isnan(t->truth)) a[m] = v, b[m] = t->truth, m++;
    }
    r->n = m;
    r->k = k > m ? m : k; /* the hit rate is over the pairs that remain */
    r->kendall_tau_b = stats_kendall_tau_b(a, b, m);
    r->spearman_rho = stats_spearman(a, b, m);
    r->topk_hit = stats_topk_hit(a, b, m, k);
    free(a), free(b);
    return 0;
}

static void table_row(const msgpack_object *o, size_t i, const char *key, const char *truth) {
    char a[32], b[32] = "", idx[32], arch[1024] = "-";
    rec_num_text(o, key, a, sizeof a);
    if (truth) rec_num_text(o, truth, b, sizeof b);
    rec_num_text(o, "index", idx, sizeof idx);
    const msgpack_object *ar = rec_lookup(o, "arch");
    if (ar && ar->type == MSGPACK_OBJECT_STR) /* no terminal escapes from records */
        util_escape(ar->via.str.ptr, ar->via.str.size, arch, sizeof arch);
    if (truth) printf("%4zu  %14s  %14s  %6s  %s\n", i + 1, a, b, idx, arch);
    else printf("%4zu  %14s  %6s  %s\n", i + 1, a, idx, arch);
}

int recset_write(recset_t *s, size_t n, int fmt, const char *key, const char *truth, char *err, size_t n_err) {
    if (n > s->n) n = s->n;
    if (fmt == RECSET_TABLE && truth) printf("%4s  %14s  %14s  %6s  %s\n", "rank", key, truth, "index", "arch");
    else if (fmt == RECSET_TABLE) printf("%4s  %14s  %6s  %s\n", "rank", key, "index", "arch");
    for (size_t i = 0; i < n && !ferror(stdout); i++) {
        if (fmt == RECSET_MSGPACK) {
            if (io_write_all(STDOUT_FILENO, s->arena + s->it[i].off, s->it[i].len)) return -1;
            continue;
        }
        const msgpack_object *o = recset_get(s, i);
        char jerr[200];
        if (!o) return -3;
        if (fmt == RECSET_TABLE) table_row(o, i, key, truth);
        else if (json_write(stdout, o, jerr, sizeof jerr) == -2)
            return snprintf(err, n_err, "%s (ranked record %zu)", jerr, i + 1), -2;
        else putchar('\n');
    }
    return 0;
}

int recset_report(const recset_t *s, const char *by, const char *truth, int asc, size_t k, int records) {
    size_t n_cols = by ? 1 : s->n_col;
    rec_writer_t *w = records ? rec_writer_new(STDOUT_FILENO) : NULL;
    if (records && !w) return -3;
    if (!by && n_cols == 0) util_msg("no numeric keys under \"scores\"");
    int rc = 0;
    for (size_t c = 0; !rc && c < n_cols; c++) {
        char name[256];
        snprintf(name, sizeof name, "%s%s", by ? "" : "scores.", by ? by : s->col[c].name);
        recset_corr_t r;
        if (recset_correlate(s, by ? -1 : (int)c, asc, k, &r)) {
            rc = -3;
            break;
        }
        util_msg("%s vs %s: n=%zu kendall_tau_b=%.4f spearman_rho=%.4f top%zu_hit=%.4f%s", name, truth, r.n,
                 r.kendall_tau_b, r.spearman_rho, r.k, r.topk_hit, asc ? " (ascending)" : "");
        if (!w) continue;
        rec_t e;
        int bad = rec_new(&e) || rec_set_str(&e, "kind", "rank_stats") || rec_set_str(&e, "by", name) ||
                  rec_set_str(&e, "truth", truth) || rec_set_bool(&e, "ascending", asc) ||
                  rec_set_i64(&e, "n", (int64_t)r.n) || rec_set_i64(&e, "k", (int64_t)r.k) ||
                  rec_set_f64(&e, "kendall_tau_b", r.kendall_tau_b) || rec_set_f64(&e, "spearman_rho", r.spearman_rho) ||
                  rec_set_f64(&e, "topk_hit", r.topk_hit);
        if (bad) rc = -3;
        else if (rec_write(w, &e.root)) util_err("write: %s", strerror(errno)), rc = -1;
        rec_edit_end(&e);
    }
    rec_writer_free(w);
    return rc;
}
