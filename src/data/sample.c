/*
 * sample.c: one corpus sample as tar entries: <id>/000.png ... (straight RGBA, lossless), <id>/mask_000.png ...
 * (8-bit grey part ids, 0 = background) and <id>/meta.json (timing, captions, trigger words, keyframe, source,
 * licence, tags). The manifest line is the same JSON on one line.
 */
#include "dataset.h"
#include "../io/io.h"

#include <cjson/cJSON.h>
#include <string.h>

static cJSON *meta_json(const ild_sources *src, const ild_plan *p, int32_t size, const char *id, int32_t parts,
                        const ild_sample_tags *tags)
{
    cJSON *m = cJSON_CreateObject();
    char seed[20];
    snprintf(seed, sizeof seed, "%016llx", (unsigned long long)p->seed);
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddNumberToObject(m, "index", (double)p->index);
    cJSON_AddStringToObject(m, "seed", seed);
    cJSON_AddStringToObject(m, "split", ild_split_name(p->split));
    cJSON_AddNumberToObject(m, "width", size);
    cJSON_AddNumberToObject(m, "height", size);
    cJSON_AddNumberToObject(m, "frame_count", p->frame_count);
    cJSON_AddNumberToObject(m, "fps", p->fps);
    cJSON *d = cJSON_AddArrayToObject(m, "durations_ms");
    for (int32_t f = 0; f < p->frame_count; f++) cJSON_AddItemToArray(d, cJSON_CreateNumber(p->duration_ms));
    cJSON_AddNumberToObject(m, "keyframe", p->keyframe);
    cJSON_AddStringToObject(m, "caption_en", p->caption_en);
    cJSON_AddStringToObject(m, "caption_zh", p->caption_zh);
    int vc;
    const ild_word *v = ild_vocab(&vc);
    cJSON *w = cJSON_AddArrayToObject(m, "trigger_words"), *wz = cJSON_AddArrayToObject(m, "trigger_words_zh");
    for (int32_t i = 0; i < p->word_count; i++) {
        cJSON_AddItemToArray(w, cJSON_CreateString(v[p->words[i]].en));
        cJSON_AddItemToArray(wz, cJSON_CreateString(v[p->words[i]].zh));
    }
    cJSON *objs = cJSON_AddArrayToObject(m, "objects");
    for (int i = 0; i < p->object_count; i++) {
        const ild_icon_set *set = &src->sets[p->obj[i].ref.set];
        const ild_icon *ic = &set->icons[p->obj[i].ref.icon];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "set", set->prefix);
        cJSON_AddStringToObject(o, "source", set->version);
        cJSON_AddStringToObject(o, "icon", ic->name);
        if (ic->name_zh) cJSON_AddStringToObject(o, "name_zh", ic->name_zh);
        cJSON_AddStringToObject(o, "license", set->license_spdx[0] ? set->license_spdx : set->license);
        cJSON_AddStringToObject(o, "license_url", set->license_url);
        cJSON_AddStringToObject(o, "author", set->author);
        cJSON_AddStringToObject(o, "author_url", set->author_url);
        cJSON_AddStringToObject(o, "motion", ild_motion_name(p->obj[i].motion));
        cJSON_AddNumberToObject(o, "parts", p->obj[i].parts.count);
        cJSON_AddItemToArray(objs, o);
    }
    cJSON_AddStringToObject(m, "part_motion", ild_part_motion_name(p->part_motion));
    int32_t before = 0; /* the subject is drawn last: its parts' ids follow the companions' */
    for (int i = 1; i < p->object_count; i++) before += p->obj[i].parts.count;
    cJSON_AddNumberToObject(m, "moving_part", p->part_index < 0 ? 0 : before + p->part_index + 1);
    cJSON_AddStringToObject(m, "effect", ild_effect_name(p->effect));
    cJSON_AddBoolToObject(m, "outline", p->outline);
    cJSON_AddNumberToObject(m, "part_count", parts);
    cJSON *t = cJSON_AddObjectToObject(m, "tags");
    cJSON_AddBoolToObject(t, "semi_open", tags->semi_open);
    cJSON_AddBoolToObject(t, "white_parts", tags->white_parts);
    cJSON_AddBoolToObject(t, "soft_alpha", tags->soft_alpha);
    return m;
}

ildiff_status ild_sample_write(const ild_sources *src, const ild_plan *p, int32_t size, const char *id, ild_buf *tar,
                               char **meta_line)
{
    *meta_line = NULL;
    uint8_t *rgba = NULL, *masks = NULL;
    int32_t parts = 0;
    ild_sample_tags tags;
    ildiff_status st = ild_render_sample(src, p, size, &rgba, &masks, &parts, &tags);
    if (st != ILDIFF_OK) return st;
    size_t n = (size_t)size * size;
    char name[100];
    for (int32_t f = 0; f < p->frame_count && st == ILDIFF_OK; f++) {
        uint8_t *png = NULL;
        size_t png_size = 0;
        st = ild_png_encode_rgba(rgba + (size_t)f * n * 4, size, size, &png, &png_size);
        snprintf(name, sizeof name, "%s/%03d.png", id, f);
        if (st == ILDIFF_OK) st = ild_tar_add(tar, name, png, png_size);
        free(png);
        png = NULL;
        if (st == ILDIFF_OK) st = ild_png_encode_grey(masks + (size_t)f * n, size, size, &png, &png_size);
        snprintf(name, sizeof name, "%s/mask_%03d.png", id, f);
        if (st == ILDIFF_OK) st = ild_tar_add(tar, name, png, png_size);
        free(png);
    }
    free(rgba);
    free(masks);
    if (st != ILDIFF_OK) return st;
    cJSON *m = meta_json(src, p, size, id, parts, &tags);
    char *pretty = m ? cJSON_Print(m) : NULL, *line = m ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    if (!pretty || !line) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory writing the metadata of %s", id);
    snprintf(name, sizeof name, "%s/meta.json", id);
    if (st == ILDIFF_OK) st = ild_tar_add(tar, name, (const uint8_t *)pretty, strlen(pretty));
    free(pretty);
    if (st != ILDIFF_OK) {
        free(line);
        return st;
    }
    *meta_line = line;
    return ILDIFF_OK;
}
