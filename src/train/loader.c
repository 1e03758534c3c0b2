/*
 * loader.c: clips from a corpus folder for training (loader.h). Shards are read with stdio: their tar headers are
 * walked once (offsets of each sample's entries, ended by its meta.json), then a sample's bytes are read alone.
 */
#include "train/loader.h"

#include "base/base.h"
#include "data/dataset.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LOADER_MAX_FRAMES 256
#define LOADER_MAX_SAMPLE_BYTES ((int64_t)1 << 31)

typedef struct entry {
    char id[32];
    int64_t line;    /* position in manifest.jsonl (the corpus order) */
} entry;

typedef struct shard_index {
    bool done;
    int64_t count;   /* samples found */
    int64_t *start;  /* (count + 1) byte offsets: sample k is [start[k], start[k + 1]) */
} shard_index;

typedef struct decoded {
    int64_t pos;     /* sample position, -1 when the slot is empty */
    uint64_t used;   /* LRU clock */
    int32_t frames, side;
    uint8_t *rgba;   /* (frames, side, side, 4) straight */
    uint8_t *ids;    /* (frames, side, side) */
} decoded;

struct ild_loader {
    ild_loader_cfg cfg;
    char dir[4096];
    entry *e;
    int64_t n;
    int64_t shard_size, shards;
    shard_index *idx;
    decoded *cache;
    uint64_t clock;
    int64_t perm_epoch;
    int64_t *perm;   /* (n) the current epoch's order */
    float *tmp;      /* (T, S, 4) premultiplied resized frames */
    uint8_t *rgba8, *rgb8, *bg8;
};

static int64_t json_int(const cJSON *o, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static ildiff_status read_manifest(ild_loader *l)
{
    char path[4200];
    uint8_t *text = NULL;
    size_t size = 0;
    snprintf(path, sizeof path, "%s/corpus.json", l->dir);
    ildiff_status st = ildiff_read_file(path, 1 << 24, &text, &size);
    if (st != ILDIFF_OK) return ild_fail(ILDIFF_ERR_IO, "%s: not a corpus folder (no corpus.json)", l->dir);
    cJSON *c = cJSON_ParseWithLength((const char *)text, size);
    l->shard_size = json_int(c, "shard_size", 0);
    cJSON_Delete(c);
    free(text);
    if (l->shard_size < 1) return ild_fail(ILDIFF_ERR_FORMAT, "%s: no shard_size", path);
    snprintf(path, sizeof path, "%s/manifest.jsonl", l->dir);
    if (ildiff_read_file(path, (int64_t)1 << 32, &text, &size) != ILDIFF_OK)
        return ild_fail(ILDIFF_ERR_IO, "%s: no manifest.jsonl (corpus not finished?)", l->dir);
    int64_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
    l->e = calloc((size_t)lines + 1, sizeof *l->e);
    if (!l->e) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory reading %s", path);
    int64_t line = 0;
    for (size_t b = 0; st == ILDIFF_OK && b < size; line++) {
        size_t e = b;
        while (e < size && text[e] != '\n') e++;
        cJSON *m = cJSON_ParseWithLength((const char *)text + b, e - b);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id"), *sp = cJSON_GetObjectItemCaseSensitive(m, "split");
        if (!cJSON_IsString(id) || !cJSON_IsString(sp) || strlen(id->valuestring) >= sizeof l->e->id)
            st = ild_fail(ILDIFF_ERR_FORMAT, "%s: line %lld is not a sample", path, (long long)line + 1);
        else if (strcmp(sp->valuestring, l->cfg.split) == 0) {
            snprintf(l->e[l->n].id, sizeof l->e->id, "%s", id->valuestring);
            l->e[l->n++].line = line;
        }
        cJSON_Delete(m);
        b = e + 1;
    }
    free(text);
    l->shards = (line + l->shard_size - 1) / l->shard_size;
    return st;
}

ildiff_status ild_loader_open(const ild_loader_cfg *cfg, ild_loader **out)
{
    *out = NULL;
    if (!cfg->dir || !cfg->split || (strcmp(cfg->split, "train") != 0 && strcmp(cfg->split, "val") != 0))
        return ild_fail(ILDIFF_ERR_ARG, "the loader reads the train or val split only");
    if (cfg->size < 8 || cfg->size > 4096 || cfg->frames < 1 || cfg->frames > LOADER_MAX_FRAMES || cfg->cache < 1)
        return ild_fail(ILDIFF_ERR_ARG, "bad loader settings (size 8..4096, frames 1..%d, cache >= 1)",
                        LOADER_MAX_FRAMES);
    ild_loader *l = calloc(1, sizeof *l);
    if (!l) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    l->cfg = *cfg;
    snprintf(l->dir, sizeof l->dir, "%s", cfg->dir);
    l->cfg.dir = l->dir;
    l->perm_epoch = -1;
    ildiff_status st = read_manifest(l);
    size_t S = (size_t)cfg->size * cfg->size, T = (size_t)cfg->frames;
    if (st == ILDIFF_OK) {
        l->idx = calloc((size_t)l->shards + 1, sizeof *l->idx);
        l->cache = calloc((size_t)cfg->cache, sizeof *l->cache);
        l->perm = malloc(((size_t)l->n + 1) * sizeof *l->perm);
        l->tmp = malloc(T * S * 4 * sizeof(float));
        l->rgba8 = malloc(T * S * 4), l->rgb8 = malloc(T * S * 3), l->bg8 = malloc(S * 3);
        if (!l->idx || !l->cache || !l->perm || !l->tmp || !l->rgba8 || !l->rgb8 || !l->bg8)
            st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        for (int32_t i = 0; st == ILDIFF_OK && i < cfg->cache; i++) l->cache[i].pos = -1;
    }
    if (st != ILDIFF_OK) {
        ild_loader_free(l);
        return st;
    }
    *out = l;
    return ILDIFF_OK;
}

void ild_loader_free(ild_loader *l)
{
    if (!l) return;
    for (int64_t k = 0; l->idx && k < l->shards; k++) free(l->idx[k].start);
    for (int32_t i = 0; l->cache && i < l->cfg.cache; i++) free(l->cache[i].rgba), free(l->cache[i].ids);
    free(l->idx), free(l->cache), free(l->e), free(l->perm), free(l->tmp);
    free(l->rgba8), free(l->rgb8), free(l->bg8);
    free(l);
}

int64_t ild_loader_count(const ild_loader *l) { return l->n; }

int64_t ild_loader_pick(ild_loader *l, int64_t cursor)
{
    int64_t epoch = cursor / l->n;
    if (epoch != l->perm_epoch) {
        ild_rng r = ild_rng_new(l->cfg.seed ^ ild_mix64((uint64_t)epoch + 0x5eedULL));
        for (int64_t i = 0; i < l->n; i++) l->perm[i] = i;
        for (int64_t i = l->n - 1; i > 0; i--) {
            int64_t j = ild_rng_int(&r, i + 1), t = l->perm[i];
            l->perm[i] = l->perm[j], l->perm[j] = t;
        }
        l->perm_epoch = epoch;
    }
    return l->perm[cursor % l->n];
}

/* Walks the tar headers of shard k once: each sample ends after its <id>/meta.json entry. */
static ildiff_status index_shard(ild_loader *l, int64_t k, const char *path)
{
    shard_index *x = &l->idx[k];
    FILE *f = fopen(path, "rb");
    if (!f) return ild_fail(ILDIFF_ERR_IO, "%s: cannot open", path);
    int64_t cap = l->shard_size + 1, off = 0;
    x->start = calloc((size_t)cap, sizeof *x->start);
    ildiff_status st = x->start ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    uint8_t h[512];
    while (st == ILDIFF_OK && fseeko(f, (off_t)off, SEEK_SET) == 0 && fread(h, 1, 512, f) == 512 && h[0] != 0) {
        uint64_t len = 0;
        for (int i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++) len = len * 8 + (uint64_t)(h[i] - '0');
        off += 512 + (int64_t)((len + 511) / 512 * 512);
        char name[101];
        memcpy(name, h, 100);
        name[100] = 0;
        const char *slash = strchr(name, '/');
        if (slash && strcmp(slash + 1, "meta.json") == 0) {
            if (x->count + 1 >= cap) {
                st = ild_fail(ILDIFF_ERR_FORMAT, "%s: more samples than the shard size", path);
                break;
            }
            x->start[++x->count] = off;
        }
    }
    fclose(f);
    x->done = st == ILDIFF_OK;
    return st;
}

typedef struct collect {
    const uint8_t *png[2][LOADER_MAX_FRAMES]; /* frames, masks */
    size_t len[2][LOADER_MAX_FRAMES];
    int32_t count[2];
    ildiff_status st;
} collect;

static int on_entry(const char *name, const uint8_t *data, size_t size, void *user)
{
    collect *c = user;
    const char *slash = strchr(name, '/');
    if (!slash || !strstr(slash, ".png")) return 0;
    int kind = strncmp(slash + 1, "mask_", 5) == 0;
    if (c->count[kind] == LOADER_MAX_FRAMES) {
        c->st = ild_fail(ILDIFF_ERR_LIMIT, "%s: more than %d frames", name, LOADER_MAX_FRAMES);
        return 1;
    }
    c->png[kind][c->count[kind]] = data;
    c->len[kind][c->count[kind]++] = size;
    return 0;
}

/* Decodes the PNGs of one sample's bytes into d. */
static ildiff_status decode(decoded *d, const uint8_t *data, size_t size, const char *where)
{
    collect c = {.st = ILDIFF_OK};
    ildiff_status st = ild_tar_each(data, size, on_entry, &c);
    if (st == ILDIFF_OK) st = c.st;
    if (st == ILDIFF_OK && (c.count[0] < 1 || c.count[0] != c.count[1]))
        st = ild_fail(ILDIFF_ERR_FORMAT, "%s: %d frames but %d masks", where, c.count[0], c.count[1]);
    for (int32_t f = 0; st == ILDIFF_OK && f < 2 * c.count[0]; f++) {
        int kind = f >= c.count[0];
        int32_t i = f - kind * c.count[0];
        ildiff_anim *a = NULL;
        st = ildiff_anim_read_memory(c.png[kind][i], c.len[kind][i], ILDIFF_FORMAT_PNG, NULL, &a);
        if (st == ILDIFF_OK && f == 0) {
            if (a->width != a->height) st = ild_fail(ILDIFF_ERR_FORMAT, "%s: frames are not square", where);
            d->side = a->width, d->frames = c.count[0];
            size_t S = (size_t)d->side * d->side;
            d->rgba = malloc((size_t)d->frames * S * 4), d->ids = malloc((size_t)d->frames * S);
            if (st == ILDIFF_OK && (!d->rgba || !d->ids)) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        }
        if (st == ILDIFF_OK && (a->width != d->side || a->height != d->side))
            st = ild_fail(ILDIFF_ERR_FORMAT, "%s: frames differ in size", where);
        size_t S = (size_t)d->side * d->side;
        if (st == ILDIFF_OK && !kind) memcpy(d->rgba + (size_t)i * S * 4, a->rgba, S * 4);
        for (size_t p = 0; st == ILDIFF_OK && kind && p < S; p++) d->ids[(size_t)i * S + p] = a->rgba[4 * p];
        ildiff_anim_free(a);
    }
    if (st != ILDIFF_OK) free(d->rgba), free(d->ids), d->rgba = NULL, d->ids = NULL;
    return st == ILDIFF_OK ? st : ild_fail_in(st, where);
}

/* The decoded sample `pos`, from the cache or the shard. */
static ildiff_status fetch(ild_loader *l, int64_t pos, decoded **out)
{
    decoded *slot = &l->cache[0];
    for (int32_t i = 0; i < l->cfg.cache; i++) {
        decoded *d = &l->cache[i];
        if (d->pos == pos) {
            d->used = ++l->clock;
            *out = d;
            return ILDIFF_OK;
        }
        if (d->pos < 0 || d->used < slot->used) slot = d;
    }
    int64_t line = l->e[pos].line, k = line / l->shard_size, in = line % l->shard_size;
    char path[4200];
    snprintf(path, sizeof path, "%s/shard-%05lld.tar", l->dir, (long long)k);
    ildiff_status st = l->idx[k].done ? ILDIFF_OK : index_shard(l, k, path);
    if (st != ILDIFF_OK) return st;
    shard_index *x = &l->idx[k];
    if (in >= x->count) return ild_fail(ILDIFF_ERR_FORMAT, "%s: sample %s missing", path, l->e[pos].id);
    int64_t len = x->start[in + 1] - x->start[in];
    if (len <= 0 || len > LOADER_MAX_SAMPLE_BYTES) return ild_fail(ILDIFF_ERR_FORMAT, "%s: bad sample size", path);
    uint8_t *data = malloc((size_t)len);
    FILE *f = fopen(path, "rb");
    if (!data || !f) st = data ? ild_fail(ILDIFF_ERR_IO, "%s: cannot open", path) : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK && (fseeko(f, (off_t)x->start[in], SEEK_SET) != 0 || fread(data, 1, (size_t)len, f) != (size_t)len))
        st = ild_fail(ILDIFF_ERR_FORMAT, "%s: truncated at sample %s", path, l->e[pos].id);
    if (f) fclose(f);
    free(slot->rgba), free(slot->ids);
    *slot = (decoded){.pos = -1};
    if (st == ILDIFF_OK) st = decode(slot, data, (size_t)len, path);
    free(data);
    if (st != ILDIFF_OK) return st;
    slot->pos = pos, slot->used = ++l->clock;
    *out = slot;
    return ILDIFF_OK;
}

/* Bilinear sample of premultiplied RGBA at (x, y) in source pixels (clamped to the edge) into px[4]. */
static void sample_premul(const uint8_t *rgba, int32_t side, float x, float y, float *px)
{
    x = fminf(fmaxf(x - 0.5f, 0), (float)side - 1), y = fminf(fmaxf(y - 0.5f, 0), (float)side - 1);
    int32_t x0 = (int32_t)x, y0 = (int32_t)y, x1 = ILD_MIN(x0 + 1, side - 1), y1 = ILD_MIN(y0 + 1, side - 1);
    float fx = x - (float)x0, fy = y - (float)y0;
    const int32_t xs[4] = {x0, x1, x0, x1}, ys[4] = {y0, y0, y1, y1};
    const float w[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
    px[0] = px[1] = px[2] = px[3] = 0;
    for (int k = 0; k < 4; k++) {
        const uint8_t *p = rgba + ((size_t)ys[k] * side + xs[k]) * 4;
        float a = p[3] / 255.0f;
        for (int c = 0; c < 3; c++) px[c] += w[k] * a * p[c] / 255.0f;
        px[3] += w[k] * a;
    }
}

ildiff_status ild_loader_clip(ild_loader *l, int64_t pos, uint64_t key, ild_clip *out)
{
    if (pos < 0 || pos >= l->n) return ild_fail(ILDIFF_ERR_ARG, "sample %lld out of range", (long long)pos);
    decoded *d = NULL;
    ildiff_status st = fetch(l, pos, &d);
    if (st != ILDIFF_OK) return st;
    int32_t T = l->cfg.frames, O = l->cfg.size;
    size_t S = (size_t)O * O;
    ild_rng r = ild_rng_new(key);
    int32_t start = (int32_t)ild_rng_int(&r, d->frames);
    float side = (float)d->side * (float)ild_rng_range(&r, 0.7, 1.0);
    float x0 = (float)ild_rng_range(&r, 0, d->side - side), y0 = (float)ild_rng_range(&r, 0, d->side - side);
    bool flip = ild_rng_unit(&r) < 0.5;
    float scale = side / (float)O;
    for (int32_t t = 0; t < T; t++) {
        int32_t f = (start + t) % d->frames;
        const uint8_t *src = d->rgba + (size_t)f * d->side * d->side * 4, *ids = d->ids + (size_t)f * d->side * d->side;
        for (int32_t i = 0; i < O; i++) {
            for (int32_t j = 0; j < O; j++) {
                int32_t jj = flip ? O - 1 - j : j;
                float sx = x0 + ((float)jj + 0.5f) * scale, sy = y0 + ((float)i + 0.5f) * scale;
                size_t p = (size_t)t * S + (size_t)i * O + j;
                float *px = l->tmp + 4 * p;
                sample_premul(src, d->side, sx, sy, px);
                float a = px[3];
                out->alpha[p] = a;
                for (int c = 0; c < 3; c++) {
                    float v = a > 1e-6f ? fminf(px[c] / a, 1) : 0;
                    out->fg[((size_t)t * 3 + c) * S + (size_t)i * O + j] = v;
                    l->rgba8[4 * p + c] = (uint8_t)(v * 255 + 0.5f);
                }
                l->rgba8[4 * p + 3] = (uint8_t)(a * 255 + 0.5f);
                if (out->ids) {
                    int32_t ix = ILD_MIN((int32_t)sx, d->side - 1), iy = ILD_MIN((int32_t)sy, d->side - 1);
                    out->ids[p] = ids[(size_t)iy * d->side + ix];
                }
            }
        }
    }
    ild_clip_info info;
    st = ild_clip_sample(l->rgba8, T, O, O, ild_mix64(key ^ 0xc1b5ULL), l->rgb8, l->bg8, &info);
    if (st != ILDIFF_OK) return st;
    for (int32_t t = 0; t < T; t++)
        for (int c = 0; c < 3; c++)
            for (size_t p = 0; p < S; p++)
                out->rgb[((size_t)t * 3 + c) * S + p] = l->rgb8[((size_t)t * S + p) * 3 + c] / 255.0f;
    return ILDIFF_OK;
}
