/*
 * export.c: writes the samples of one split of a corpus in the evaluation exchange form (DESIGN.md section 4):
 * out/<id>/input/000.png ... (RGB composited by the clip sampler, stored as opaque PNG), gt_alpha/ (grey),
 * gt_rgba/ (straight RGBA), bg.png (the clean plate) and meta.json ({"tags": [...], "background": {"kind",
 * "color"}, "split", damage, captions, trigger words, keyframe, durations, sources}).
 * Shards are read one at a time in order; each sample's entries are collected until its meta.json, which ends it.
 */
#include "dataset.h"
#include "../io/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define EXPORT_MAX_FRAMES 256

typedef struct export_ctx {
    ild_split split;
    const char *out;
    const uint8_t *frame[EXPORT_MAX_FRAMES]; /* PNG bytes of the current sample's RGBA frames, in the tar */
    size_t frame_size[EXPORT_MAX_FRAMES];
    int32_t frames;
    int64_t exported;
    ildiff_status status;
} export_ctx;

static ildiff_status make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return ild_fail(ILDIFF_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    return ILDIFF_OK;
}

static ildiff_status write_png(const char *dir, const char *sub, int32_t f, const uint8_t *px, int32_t w, int32_t h, bool grey)
{
    char path[4300];
    if (f >= 0) snprintf(path, sizeof path, "%s/%s/%03d.png", dir, sub, f);
    else snprintf(path, sizeof path, "%s/%s", dir, sub);
    uint8_t *png = NULL;
    size_t n = 0;
    ildiff_status st = grey ? ild_png_encode_grey(px, w, h, &png, &n) : ild_png_encode_rgba(px, w, h, &png, &n);
    if (st == ILDIFF_OK) st = ildiff_write_file_atomic(path, png, n, false);
    free(png);
    return st;
}

/* Composites and writes one sample whose RGBA frames are `a`. */
static ildiff_status export_sample(export_ctx *c, const cJSON *meta, const ildiff_anim *a, const char *id)
{
    int32_t w = a->width, h = a->height, T = a->frame_count;
    size_t n = (size_t)w * h;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(meta, "seed");
    uint64_t sd = cJSON_IsString(seed) ? strtoull(seed->valuestring, NULL, 16) : 0;
    uint8_t *rgb = malloc((size_t)T * n * 3), *bg = malloc(n * 3), *tmp = malloc(n * 4);
    ild_clip_info info;
    ildiff_status st = rgb && bg && tmp ? ild_clip_sample(a->rgba, T, w, h, sd, rgb, bg, &info)
                                        : ild_fail(ILDIFF_ERR_NOMEM, "out of memory exporting %s", id);
    char dir[4200], sub[4300];
    snprintf(dir, sizeof dir, "%s/%s", c->out, id);
    struct stat sb;
    if (st == ILDIFF_OK && stat(dir, &sb) == 0) st = ild_fail(ILDIFF_ERR_EXISTS, "%s exists already", dir);
    if (st == ILDIFF_OK) st = make_dir(dir);
    static const char *const subs[] = {"input", "gt_alpha", "gt_rgba"};
    for (int i = 0; i < 3 && st == ILDIFF_OK; i++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
        st = make_dir(sub);
    }
    for (int32_t f = 0; f < T && st == ILDIFF_OK; f++) {
        const uint8_t *src = a->rgba + (size_t)f * n * 4, *in = rgb + (size_t)f * n * 3;
        for (size_t i = 0; i < n; i++) memcpy(tmp + 4 * i, in + 3 * i, 3), tmp[4 * i + 3] = 255;
        st = write_png(dir, "input", f, tmp, w, h, false);
        for (size_t i = 0; i < n && st == ILDIFF_OK; i++) tmp[i] = src[4 * i + 3];
        if (st == ILDIFF_OK) st = write_png(dir, "gt_alpha", f, tmp, w, h, true);
        if (st == ILDIFF_OK) st = write_png(dir, "gt_rgba", f, src, w, h, false);
    }
    if (st == ILDIFF_OK) {
        for (size_t i = 0; i < n; i++) memcpy(tmp + 4 * i, bg + 3 * i, 3), tmp[4 * i + 3] = 255;
        st = write_png(dir, "bg.png", -1, tmp, w, h, false);
    }
    if (st == ILDIFF_OK) {
        cJSON *m = cJSON_Duplicate(meta, true);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(meta, "tags");
        cJSON *tags = cJSON_CreateArray();
        static const char *const keys[][2] = {{"semi_open", "semi-open"}, {"white_parts", "white-parts"}, {"soft_alpha", "soft-alpha"}};
        for (int i = 0; i < 3; i++)
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, keys[i][0]))) cJSON_AddItemToArray(tags, cJSON_CreateString(keys[i][1]));
        cJSON_AddItemToArray(tags, cJSON_CreateString(info.damage == ILD_DAMAGE_NONE ? "clean" : ild_damage_name(info.damage)));
        /* a white sticker outline over a (near-)white background: present in the ground truth, invisible in the
         * input, so no method can see it; the tag lets reports show how much of the error it makes */
        bool near_white = info.bg_rgb[0] >= 240 && info.bg_rgb[1] >= 240 && info.bg_rgb[2] >= 240;
        if (near_white && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "outline")))
            cJSON_AddItemToArray(tags, cJSON_CreateString("outline-on-white"));
        cJSON_ReplaceItemInObjectCaseSensitive(m, "tags", tags);
        cJSON *b = cJSON_CreateObject();
        char col[8];
        snprintf(col, sizeof col, "#%02x%02x%02x", info.bg_rgb[0], info.bg_rgb[1], info.bg_rgb[2]);
        cJSON_AddStringToObject(b, "kind", ild_bg_kind_name(info.background));
        cJSON_AddStringToObject(b, "color", col);
        cJSON_AddItemToObject(m, "background", b);
        cJSON_AddStringToObject(m, "damage", ild_damage_name(info.damage));
        cJSON_AddNumberToObject(m, "jpeg_quality", info.jpeg_quality);
        cJSON_AddNumberToObject(m, "gif_colors", info.gif_colors);
        cJSON_AddNumberToObject(m, "h264_crf", info.h264_crf);
        char *text = cJSON_Print(m);
        cJSON_Delete(m);
        snprintf(sub, sizeof sub, "%s/meta.json", dir);
        st = text ? ildiff_write_file_atomic(sub, (const uint8_t *)text, strlen(text), false) : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        free(text);
    }
    free(rgb);
    free(bg);
    free(tmp);
    return st;
}

/* Tar walker: collects frame PNGs; at meta.json decodes and exports the sample if it is in the split. */
static int on_entry(const char *name, const uint8_t *data, size_t size, void *user)
{
    export_ctx *c = user;
    const char *slash = strchr(name, '/');
    if (!slash) return 0;
    const char *base = slash + 1;
    if (strncmp(base, "mask_", 5) != 0 && strstr(base, ".png")) {
        if (c->frames == EXPORT_MAX_FRAMES) {
            c->status = ild_fail(ILDIFF_ERR_LIMIT, "%s: more than %d frames", name, EXPORT_MAX_FRAMES);
            return 1;
        }
        c->frame[c->frames] = data;
        c->frame_size[c->frames++] = size;
        return 0;
    }
    if (strcmp(base, "meta.json") != 0) return 0;
    char id[100];
    snprintf(id, sizeof id, "%.*s", (int)(slash - name), name);
    cJSON *meta = cJSON_ParseWithLength((const char *)data, size);
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(meta, "split");
    ildiff_status st = ILDIFF_OK;
    if (!cJSON_IsString(sp)) st = ild_fail(ILDIFF_ERR_FORMAT, "%s: no split", name);
    else if (ild_split_from_name(sp->valuestring) == (int)c->split && c->frames > 0) {
        ildiff_anim *all = NULL;
        for (int32_t f = 0; f < c->frames && st == ILDIFF_OK; f++) {
            ildiff_anim *one = NULL;
            st = ildiff_anim_read_memory(c->frame[f], c->frame_size[f], ILDIFF_FORMAT_PNG, NULL, &one);
            if (st == ILDIFF_OK && f == 0) st = ildiff_anim_new(one->width, one->height, c->frames, 100, &all);
            if (st == ILDIFF_OK && (one->width != all->width || one->height != all->height))
                st = ild_fail(ILDIFF_ERR_FORMAT, "%s: frames differ in size", id);
            if (st == ILDIFF_OK) memcpy(ildiff_anim_frame(all, f), one->rgba, (size_t)all->width * all->height * 4);
            ildiff_anim_free(one);
        }
        if (st == ILDIFF_OK) st = export_sample(c, meta, all, id);
        ildiff_anim_free(all);
        if (st == ILDIFF_OK) c->exported++;
    }
    cJSON_Delete(meta);
    c->frames = 0;
    if (st != ILDIFF_OK) {
        c->status = st;
        return 1;
    }
    return 0;
}

ildiff_status ild_corpus_export(const char *dir, ild_split split, const char *out, int64_t *exported)
{
    *exported = 0;
    export_ctx c = {.split = split, .out = out};
    ildiff_status st = make_dir(out);
    for (int64_t k = 0; st == ILDIFF_OK; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/shard-%05lld.tar", dir, (long long)k);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            if (k == 0) st = ild_fail(ILDIFF_ERR_IO, "%s: no shard-00000.tar (not a corpus folder?)", dir);
            break;
        }
        uint8_t *data = NULL;
        size_t size = 0;
        st = ildiff_read_file(path, (int64_t)1 << 36, &data, &size);
        c.frames = 0;
        c.status = ILDIFF_OK;
        if (st == ILDIFF_OK) st = ild_tar_each(data, size, on_entry, &c);
        if (st == ILDIFF_OK && c.status != ILDIFF_OK) st = c.status;
        if (st != ILDIFF_OK) st = ild_fail_in(st, path);
        free(data);
    }
    *exported = c.exported;
    return st;
}
