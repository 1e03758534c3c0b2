/*
 * gif_write.c: GIF encoder (giflib for LZW and framing, our quantizer for the palette).
 *
 * GIF alpha is 1 bit: a pixel is opaque when its alpha is >= opts->gif_threshold (THRESHOLD) or above an 8x8
 * ordered-dither threshold (DITHER, the pattern fixed to the canvas so it does not crawl between frames). Opaque
 * pixels with partial alpha are first composited over opts->matte. One global palette of up to 255 colours is built
 * from all frames (exact when they have that few colours), plus one transparent index when any pixel is
 * transparent; colours map to the nearest entry without dithering, which keeps frames stable. Every frame uses
 * disposal 2 (restore to background: the canvas is transparent again before the next frame), so each frame is
 * written as the bounding box of its opaque pixels. Delays are rounded to centiseconds, at least 2 (browsers play
 * shorter ones at 100 ms). The loop count (plays) is written as a NETSCAPE2.0 extension: 0 = forever, N > 1 as
 * N - 1 repeats, and 1 (play once) as no extension.
 *
 * Fails with ILDIFF_ERR_ARG for a bad threshold or a canvas over 65535, ILDIFF_ERR_NOMEM, ILDIFF_ERR_INTERNAL when
 * giflib fails.
 */
#include "io.h"
#include "quantize.h"

#include <gif_lib.h>
#include <string.h>

typedef struct gifbuf {
    uint8_t *data;
    size_t size, cap;
} gifbuf;

static int on_write(GifFileType *gif, const GifByteType *bytes, int n)
{
    gifbuf *b = gif->UserData;
    if (n <= 0) return 0;
    if ((size_t)n > b->cap - b->size) {
        size_t cap = b->cap ? b->cap : 65536;
        while ((size_t)n > cap - b->size) cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->size, bytes, (size_t)n);
    b->size += (size_t)n;
    return n;
}

static const uint8_t bayer8[8][8] = {
    {0, 32, 8, 40, 2, 34, 10, 42},  {48, 16, 56, 24, 50, 18, 58, 26}, {12, 44, 4, 36, 14, 46, 6, 38},
    {60, 28, 52, 20, 62, 30, 54, 22}, {3, 35, 11, 43, 1, 33, 9, 41},  {51, 19, 59, 27, 49, 17, 57, 25},
    {15, 47, 7, 39, 13, 45, 5, 37}, {63, 31, 55, 23, 61, 29, 53, 21},
};

/* One row with alpha reduced to 0 or 255 and partial alpha composited over the matte. */
static void prepare_row(uint8_t *dst, const uint8_t *src, size_t w, size_t y, const ildiff_write_options *o)
{
    for (size_t x = 0; x < w; x++) {
        const uint8_t *s = src + x * 4;
        uint8_t *d = dst + x * 4;
        uint32_t a = s[3];
        bool opaque = o->gif_alpha == ILDIFF_GIF_ALPHA_DITHER ? a * 64 > (uint32_t)bayer8[y & 7][x & 7] * 255 + 127
                                                              : a >= (uint32_t)o->gif_threshold;
        if (!opaque) {
            memset(d, 0, 4);
            continue;
        }
        for (int c = 0; c < 3; c++) d[c] = (uint8_t)((s[c] * a + o->matte[c] * (255 - a) + 127) / 255);
        d[3] = 255;
    }
}

typedef struct gif_plan {
    ild_palette pal;
    bool transparent; /* some pixel is transparent: index pal.count is the transparent one */
    ColorMapObject *map;
} gif_plan;

/* Builds the palette from every frame. */
static ildiff_status plan_palette(const ildiff_anim *a, const ildiff_write_options *o, uint8_t *row, gif_plan *plan)
{
    ild_histogram *h;
    ildiff_status st = ild_histogram_new(&h);
    if (st != ILDIFF_OK) return st;
    size_t W = (size_t)a->width;
    plan->transparent = false;
    for (int32_t i = 0; i < a->frame_count; i++)
        for (size_t y = 0; y < (size_t)a->height; y++) {
            prepare_row(row, ildiff_anim_frame(a, i) + y * W * 4, W, y, o);
            ild_histogram_add(h, row, W);
            for (size_t x = 0; x < W && !plan->transparent; x++) plan->transparent = row[x * 4 + 3] == 0;
        }
    ild_histogram_palette(h, plan->transparent ? 255 : 256, &plan->pal);
    ild_histogram_free(h);
    int entries = plan->pal.count + (plan->transparent ? 1 : 0), size = 2;
    while (size < entries) size *= 2;
    plan->map = GifMakeMapObject(size, NULL);
    if (!plan->map) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the GIF palette");
    for (int i = 0; i < size; i++) {
        const uint8_t *c = i < plan->pal.count ? plan->pal.rgb[i] : o->matte;
        plan->map->Colors[i] = (GifColorType){c[0], c[1], c[2]};
    }
    return ILDIFF_OK;
}

/* Maps frame i to palette indices (H, W) and returns the bounding box of its opaque pixels in r (x, y, w, h). */
static void map_frame(const ildiff_anim *a, int32_t i, const ildiff_write_options *o, const gif_plan *plan,
                      ild_colormap *cm, uint8_t *row, GifPixelType *idx, int r[4])
{
    size_t W = (size_t)a->width, H = (size_t)a->height;
    int x0 = (int)W, y0 = (int)H, x1 = -1, y1 = -1;
    for (size_t y = 0; y < H; y++) {
        prepare_row(row, ildiff_anim_frame(a, i) + y * W * 4, W, y, o);
        for (size_t x = 0; x < W; x++) {
            const uint8_t *p = row + x * 4;
            if (p[3] == 0) {
                idx[y * W + x] = (GifPixelType)plan->pal.count;
                continue;
            }
            idx[y * W + x] = ild_colormap_index(cm, p[0], p[1], p[2]);
            x0 = ILD_MIN(x0, (int)x), x1 = ILD_MAX(x1, (int)x), y0 = ILD_MIN(y0, (int)y), y1 = ILD_MAX(y1, (int)y);
        }
    }
    if (!plan->transparent) {
        r[0] = r[1] = 0, r[2] = (int)W, r[3] = (int)H;
    } else if (x1 < 0) { /* nothing opaque: one transparent pixel */
        r[0] = r[1] = 0, r[2] = r[3] = 1;
    } else {
        r[0] = x0, r[1] = y0, r[2] = x1 - x0 + 1, r[3] = y1 - y0 + 1;
    }
}

static bool put_loop(GifFileType *gif, int32_t plays)
{
    if (plays == 1) return true;
    int32_t n = plays == 0 ? 0 : ILD_MIN(plays - 1, 65535);
    uint8_t sub[3] = {1, (uint8_t)(n & 0xff), (uint8_t)(n >> 8)};
    return EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) != GIF_ERROR &&
           EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") != GIF_ERROR && EGifPutExtensionBlock(gif, 3, sub) != GIF_ERROR &&
           EGifPutExtensionTrailer(gif) != GIF_ERROR;
}

static bool put_frame(GifFileType *gif, const ildiff_anim *a, int32_t i, const gif_plan *plan, GifPixelType *idx,
                      const int r[4])
{
    GraphicsControlBlock gcb = {
        .DisposalMode = DISPOSE_BACKGROUND,
        .UserInputFlag = false,
        .DelayTime = (int)ILD_CLAMP(((int64_t)a->durations_ms[i] + 5) / 10, 2, 65535),
        .TransparentColor = plan->transparent ? plan->pal.count : NO_TRANSPARENT_COLOR,
    };
    GifByteType ext[4];
    size_t n = EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, (int)n, ext) == GIF_ERROR) return false;
    if (EGifPutImageDesc(gif, r[0], r[1], r[2], r[3], false, NULL) == GIF_ERROR) return false;
    for (int y = 0; y < r[3]; y++)
        if (EGifPutLine(gif, idx + (size_t)(r[1] + y) * (size_t)a->width + (size_t)r[0], r[2]) == GIF_ERROR) return false;
    return true;
}

ildiff_status ild_gif_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    if (anim->width > 65535 || anim->height > 65535)
        return ild_fail(ILDIFF_ERR_ARG, "GIF is limited to 65535x65535, got %dx%d", anim->width, anim->height);
    if (opts->gif_alpha == ILDIFF_GIF_ALPHA_THRESHOLD && (opts->gif_threshold < 1 || opts->gif_threshold > 255))
        return ild_fail(ILDIFF_ERR_ARG, "GIF alpha threshold %d is outside 1..255", opts->gif_threshold);
    size_t W = (size_t)anim->width, H = (size_t)anim->height;
    uint8_t *row = malloc(W * 4);
    GifPixelType *idx = malloc(W * H);
    gif_plan plan = {0};
    ild_colormap *cm = NULL;
    ildiff_status st = row && idx ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory encoding GIF");
    if (st == ILDIFF_OK) st = plan_palette(anim, opts, row, &plan);
    if (st == ILDIFF_OK) st = ild_colormap_new(&plan.pal, &cm);
    gifbuf buf = {0};
    GifFileType *gif = NULL;
    if (st == ILDIFF_OK) {
        int err = 0;
        gif = EGifOpen(&buf, on_write, &err);
        if (!gif) st = ild_fail(ILDIFF_ERR_INTERNAL, "giflib: %s", GifErrorString(err));
    }
    if (st == ILDIFF_OK) {
        EGifSetGifVersion(gif, true);
        bool ok = EGifPutScreenDesc(gif, (int)W, (int)H, 8, plan.transparent ? plan.pal.count : 0, plan.map) != GIF_ERROR &&
                  put_loop(gif, ild_effective_loop(anim, opts));
        for (int32_t i = 0; ok && i < anim->frame_count; i++) {
            int r[4];
            map_frame(anim, i, opts, &plan, cm, row, idx, r);
            ok = put_frame(gif, anim, i, &plan, idx, r);
        }
        if (!ok) st = ild_fail(ILDIFF_ERR_INTERNAL, "giflib: %s", GifErrorString(gif->Error));
        int err = 0;
        if (EGifCloseFile(gif, &err) == GIF_ERROR && st == ILDIFF_OK)
            st = ild_fail(ILDIFF_ERR_INTERNAL, "giflib: %s", GifErrorString(err));
    }
    GifFreeMapObject(plan.map);
    ild_colormap_free(cm);
    free(row);
    free(idx);
    if (st != ILDIFF_OK) {
        free(buf.data);
        return st;
    }
    *out = buf.data;
    *out_size = buf.size;
    return ILDIFF_OK;
}
