/*
 * lottie.c: ild_lottie_read: a Lottie animation (JSON, or TGS = gzip'ed JSON) rendered frame by frame by
 * librlottie into straight RGBA at the animation's own size.
 *
 * Hostile input is stopped before rlottie sees it: gzip output is capped (LOTTIE_MAX_JSON bytes, so a gzip bomb
 * is rejected), the JSON must parse (cJSON) as an object with numeric w/h/fr/ip/op in sane ranges and a layers
 * array, size and frame count must pass the limits, and image assets must be embedded (no file paths: rlottie
 * would read them from disk). rlottie's output is ARGB32 premultiplied; it is un-premultiplied here.
 * Frame i lasts round((i+1) * 1000/fr) - round(i * 1000/fr) ms, so the total matches the Lottie's duration.
 */
#include "io.h"
#include "premultiply.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <rlottie_capi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define LOTTIE_MAX_JSON ((size_t)64 << 20) /* inflated TGS / JSON size cap */
#define LOTTIE_MAX_FPS 1000.0
#define LOTTIE_MAX_FRAME 1e7               /* |ip|, |op| */

/* Inflates gzip `data` into a new NUL-terminated buffer *json of *json_size bytes (not counting the NUL).
 * Fails with FORMAT for corrupt/truncated gzip, LIMIT when the output would exceed `cap`, NOMEM. */
static ildiff_status gunzip(const uint8_t *data, size_t size, size_t cap, char **json, size_t *json_size)
{
    *json = NULL;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return ild_fail(ILDIFF_ERR_INTERNAL, "zlib inflateInit2 failed");
    size_t alloc = ILD_MIN(ILD_MAX(size * 4, (size_t)4096), cap) + 1, used = 0;
    char *buf = malloc(alloc);
    ildiff_status st = buf ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory inflating TGS");
    const uint8_t *in = data;
    size_t in_left = size;
    int zr = Z_OK;
    while (st == ILDIFF_OK && zr != Z_STREAM_END) {
        if (used + 1 == alloc) { /* full (one byte kept for the NUL) */
            if (alloc - 1 >= cap) {
                st = ild_fail(ILDIFF_ERR_LIMIT, "TGS inflates to more than %zu MiB (gzip bomb?)", cap >> 20);
                break;
            }
            size_t grown = ILD_MIN((alloc - 1) * 2, cap) + 1;
            char *p = realloc(buf, grown);
            if (!p) {
                st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory inflating TGS");
                break;
            }
            buf = p, alloc = grown;
        }
        uInt in_chunk = (uInt)ILD_MIN(in_left, (size_t)1 << 30), out_chunk = (uInt)ILD_MIN(alloc - 1 - used, (size_t)1 << 30);
        zs.next_in = (Bytef *)in, zs.avail_in = in_chunk;
        zs.next_out = (Bytef *)buf + used, zs.avail_out = out_chunk;
        zr = inflate(&zs, Z_NO_FLUSH);
        in += in_chunk - zs.avail_in, in_left -= in_chunk - zs.avail_in;
        used += out_chunk - zs.avail_out;
        if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_STREAM_ERROR)
            st = ild_fail(ILDIFF_ERR_FORMAT, "corrupt gzip data: %s", zs.msg ? zs.msg : "inflate error");
        else if (zr == Z_MEM_ERROR)
            st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory inflating TGS");
        else if (zr != Z_STREAM_END && in_left == 0 && zs.avail_out != 0)
            st = ild_fail(ILDIFF_ERR_FORMAT, "truncated gzip data");
    }
    inflateEnd(&zs);
    if (st != ILDIFF_OK) {
        free(buf);
        return st;
    }
    buf[used] = 0;
    *json = buf;
    *json_size = used;
    return ILDIFF_OK;
}

/* A finite number member of `o` within [lo, hi], or FORMAT naming the key. */
static ildiff_status json_number(const cJSON *o, const char *key, double lo, double hi, double *v)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(item)) return ild_fail(ILDIFF_ERR_FORMAT, "Lottie has no numeric \"%s\"", key);
    *v = item->valuedouble;
    if (!isfinite(*v) || *v < lo || *v > hi) return ild_fail(ILDIFF_ERR_FORMAT, "Lottie \"%s\" = %g is out of range", key, *v);
    return ILDIFF_OK;
}

/* Image assets must carry their data inline ("e": 1 or a data: URL); rlottie would open any other path. */
static ildiff_status check_assets(const cJSON *root)
{
    const cJSON *assets = cJSON_GetObjectItemCaseSensitive(root, "assets");
    if (!assets) return ILDIFF_OK;
    if (!cJSON_IsArray(assets)) return ild_fail(ILDIFF_ERR_FORMAT, "Lottie \"assets\" is not an array");
    const cJSON *asset;
    cJSON_ArrayForEach(asset, assets) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(asset, "p");
        if (!p) continue;
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(asset, "e");
        bool embedded = cJSON_IsNumber(e) && e->valuedouble == 1;
        if (!cJSON_IsString(p) || (!embedded && strncmp(p->valuestring, "data:", 5) != 0))
            return ild_fail(ILDIFF_ERR_UNSUPPORTED, "Lottie references an external image file");
    }
    return ILDIFF_OK;
}

/* librlottie rasterises a path at its full transformed size before clipping it to the canvas, so a huge
 * coordinate or scale (fuzz/regressions/lottie/: a scale of 200100 % took minutes per frame) stalls it. Real
 * stickers stay far inside these bounds: every number within +-1e5, and each transform's scale ("s" of a
 * "ks" or "tr") within +-LOTTIE_MAX_SCALE percent. `depth` bounds the walk (cJSON's own nesting limit is 1000). */
#define LOTTIE_MAX_NUMBER 1e5
#define LOTTIE_MAX_SCALE 2000.0

static bool numbers_within(const cJSON *node, double bound)
{
    if (cJSON_IsNumber(node)) return fabs(node->valuedouble) <= bound;
    const cJSON *child;
    cJSON_ArrayForEach(child, node) if (!numbers_within(child, bound)) return false;
    return true;
}

static ildiff_status check_magnitudes(const cJSON *node, int depth)
{
    if (depth > 1000) return ild_fail(ILDIFF_ERR_FORMAT, "Lottie JSON nested too deeply");
    if (cJSON_IsNumber(node) && !(fabs(node->valuedouble) <= LOTTIE_MAX_NUMBER))
        return ild_fail(ILDIFF_ERR_UNSUPPORTED, "Lottie number %g is out of range (|x| <= %g)", node->valuedouble,
                        LOTTIE_MAX_NUMBER);
    const cJSON *child;
    cJSON_ArrayForEach(child, node) {
        bool transform = child->string && strcmp(child->string, "ks") == 0;
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(child, "ty");
        transform = transform || (cJSON_IsString(ty) && strcmp(ty->valuestring, "tr") == 0);
        const cJSON *scale = transform ? cJSON_GetObjectItemCaseSensitive(child, "s") : NULL;
        if (scale && !numbers_within(scale, LOTTIE_MAX_SCALE))
            return ild_fail(ILDIFF_ERR_UNSUPPORTED, "Lottie scale over %g %% is not supported", LOTTIE_MAX_SCALE);
        ildiff_status st = check_magnitudes(child, depth + 1);
        if (st != ILDIFF_OK) return st;
    }
    return ILDIFF_OK;
}

/* Checks the JSON before rlottie parses it; *fps is its frame rate. */
static ildiff_status validate_json(const char *json, size_t size, const ildiff_limits *lim, double *fps)
{
    cJSON *root = cJSON_ParseWithLength(json, size);
    if (!root) return ild_fail(ILDIFF_ERR_FORMAT, "invalid Lottie JSON");
    double w, h, fr, ip, op;
    ildiff_status st = cJSON_IsObject(root) ? ILDIFF_OK : ild_fail(ILDIFF_ERR_FORMAT, "Lottie JSON is not an object");
    if (st == ILDIFF_OK) st = json_number(root, "w", 1, HUGE_VAL, &w);
    if (st == ILDIFF_OK) st = json_number(root, "h", 1, HUGE_VAL, &h);
    if (st == ILDIFF_OK) st = json_number(root, "fr", 1e-3, LOTTIE_MAX_FPS, &fr);
    if (st == ILDIFF_OK) st = json_number(root, "ip", -LOTTIE_MAX_FRAME, LOTTIE_MAX_FRAME, &ip);
    if (st == ILDIFF_OK) st = json_number(root, "op", -LOTTIE_MAX_FRAME, LOTTIE_MAX_FRAME, &op);
    if (st == ILDIFF_OK && !(op > ip)) st = ild_fail(ILDIFF_ERR_FORMAT, "Lottie has no frames (ip %g, op %g)", ip, op);
    if (st == ILDIFF_OK && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "layers")))
        st = ild_fail(ILDIFF_ERR_FORMAT, "Lottie has no \"layers\" array");
    if (st == ILDIFF_OK) st = check_assets(root);
    if (st == ILDIFF_OK) st = ild_check_dims(lim, (int64_t)fmin(w, 1e15), (int64_t)fmin(h, 1e15), (int64_t)ceil(op - ip));
    if (st == ILDIFF_OK) st = check_magnitudes(root, 0);
    cJSON_Delete(root);
    *fps = fr;
    return st;
}

/* Renders every frame of a parsed animation into a new ildiff_anim. */
static ildiff_status render_all(Lottie_Animation *la, double fps, const ildiff_limits *lim, ildiff_anim **out)
{
    size_t w = 0, h = 0, frames = lottie_animation_get_totalframe(la);
    lottie_animation_get_size(la, &w, &h);
    ildiff_status st = ild_check_dims(lim, (int64_t)ILD_MIN(w, (size_t)INT32_MAX), (int64_t)ILD_MIN(h, (size_t)INT32_MAX),
                                      (int64_t)ILD_MIN(frames, (size_t)INT32_MAX));
    if (st != ILDIFF_OK) return st;
    ildiff_anim *a;
    st = ildiff_anim_new((int32_t)w, (int32_t)h, (int32_t)frames, 1, &a);
    if (st != ILDIFF_OK) return st;
    uint32_t *argb = malloc(w * h * sizeof *argb); /* (h, w) */
    if (!argb) {
        ildiff_anim_free(a);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a %zux%zu Lottie frame", w, h);
    }
    for (int32_t i = 0; i < a->frame_count; i++) {
        memset(argb, 0, w * h * sizeof *argb);
        lottie_animation_render(la, (size_t)i, argb, w, h, w * sizeof *argb);
        ild_argb32_premul_to_rgba(ildiff_anim_frame(a, i), argb, w * h);
        int64_t t0 = llround(i * 1000.0 / fps), t1 = llround((i + 1) * 1000.0 / fps);
        a->durations_ms[i] = (int32_t)ILD_CLAMP(t1 - t0, 1, INT32_MAX);
    }
    free(argb);
    *out = a;
    return ILDIFF_OK;
}

ildiff_status ild_lottie_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    const ildiff_limits *lim = ild_limits_or_default(limits);
    bool tgs = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    size_t cap = LOTTIE_MAX_JSON;
    if (lim->max_file_bytes > 0) cap = ILD_MIN(cap, (size_t)lim->max_file_bytes);
    char *json = NULL;
    size_t json_size = 0;
    ildiff_status st;
    if (tgs) {
        st = gunzip(data, size, cap, &json, &json_size);
        if (st != ILDIFF_OK) return st;
    } else {
        if (size > cap) return ild_fail(ILDIFF_ERR_LIMIT, "Lottie JSON of %zu bytes exceeds %zu MiB", size, cap >> 20);
        json = malloc(size + 1);
        if (!json) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for Lottie JSON");
        memcpy(json, data, size);
        json[size] = 0;
        json_size = size;
    }
    double fps = 0;
    st = memchr(json, 0, json_size) ? ild_fail(ILDIFF_ERR_FORMAT, "NUL byte inside Lottie JSON") : ILDIFF_OK;
    if (st == ILDIFF_OK) st = validate_json(json, json_size, lim, &fps);
    if (st != ILDIFF_OK) {
        free(json);
        return st;
    }
    /* rlottie caches parsed models by key and returns a cached one for a known key: every call gets its own. */
    static atomic_uint_fast64_t next_key;
    char key[48];
    snprintf(key, sizeof key, "ildiff-lottie-%llu", (unsigned long long)atomic_fetch_add(&next_key, 1));
    Lottie_Animation *la = lottie_animation_from_data(json, key, "");
    free(json);
    if (!la) return ild_fail(ILDIFF_ERR_FORMAT, "rlottie cannot load this Lottie");
    st = render_all(la, fps, lim, out);
    lottie_animation_destroy(la);
    if (st != ILDIFF_OK) return st;
    (*out)->source = tgs ? ILDIFF_FORMAT_TGS : ILDIFF_FORMAT_LOTTIE;
    (*out)->source_has_alpha = true;
    return ILDIFF_OK;
}
