/* recset.c — records held as packed bytes (see recset.h). */
#include "io/recset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/rec.h"

int recset_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q, *cap = c;
    return 0;
}

void recset_init(recset_t *s) {
    memset(s, 0, sizeof *s);
    msgpack_sbuffer_init(&s->sb);
    msgpack_unpacked_init(&s->u);
}

void recset_free(recset_t *s) {
    free(s->arena), free(s->it);
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

int recset_add(recset_t *s, const msgpack_object *o, double key, double truth) {
    if (pack(s, o) || recset_grow((void **)&s->arena, &s->cap_arena, s->n_arena + s->sb.size, 1) ||
        recset_grow((void **)&s->it, &s->cap, s->n + 1, sizeof *s->it))
        return -1;
    memcpy(s->arena + s->n_arena, s->sb.data, s->sb.size);
    s->it[s->n++] = (recset_item_t){s->n_arena, s->sb.size, key, truth};
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

int recset_collect(const msgpack_object *o, const char *under, size_t i, recset_col_t **cols, size_t *n_cols) {
    const msgpack_object *sc = rec_lookup(o, under);
    if (!sc || sc->type != MSGPACK_OBJECT_MAP) return 0;
    for (uint32_t j = 0; j < sc->via.map.size; j++) {
        const msgpack_object_kv *kv = &sc->via.map.ptr[j];
        double v;
        if (kv->key.type != MSGPACK_OBJECT_STR || rec_get_num(&kv->val, NULL, &v) != REC_OK) continue;
        size_t c = 0, kn = kv->key.via.str.size;
        while (c < *n_cols && !(strlen((*cols)[c].name) == kn && !memcmp((*cols)[c].name, kv->key.via.str.ptr, kn)))
            c++;
        if (c == *n_cols) {
            recset_col_t *nc = realloc(*cols, (*n_cols + 1) * sizeof *nc);
            if (!nc) return -1;
            *cols = nc;
            memset(&nc[c], 0, sizeof nc[c]);
            if (!(nc[c].name = malloc(kn + 1))) return -1;
            memcpy(nc[c].name, kv->key.via.str.ptr, kn);
            nc[c].name[kn] = 0;
            (*n_cols)++;
        }
        if (col_set(&(*cols)[c], i, v)) return -1;
    }
    return 0;
}
