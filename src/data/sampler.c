/*
 * sampler.c: the clip sampler: turns a transparent sticker (RGBA frames) into the RGB clip a model meets in the
 * wild. Backgrounds: pure white (55%), another solid colour (15%), a near-solid gradient (15%), light noise over
 * a light colour (15%). Damage: none (30%), JPEG re-encoding at quality 40-95 (30%), a GIF palette of 32-256
 * colours with 1-bit alpha edges before compositing (15%), GIF then JPEG (10%), H.264 at CRF 23-38 (15%,
 * h264.c). Everything is drawn from one
 * seed, so a clip is reproducible. JPEG uses libjpeg in memory with a longjmp error handler (never exit()).
 */
#include "dataset.h"
#include "../io/quantize.h"

#include <jpeglib.h>
#include <math.h>
#include <setjmp.h>
#include <string.h>

const char *ild_bg_kind_name(ild_bg_kind k)
{
    static const char *const names[ILD_BG_COUNT] = {"white", "solid", "gradient", "noise"};
    return (unsigned)k < ILD_BG_COUNT ? names[k] : "unknown";
}

const char *ild_damage_name(ild_damage d)
{
    static const char *const names[ILD_DAMAGE_COUNT] = {"none", "jpeg", "gif", "gif+jpeg", "h264"};
    return (unsigned)d < ILD_DAMAGE_COUNT ? names[d] : "unknown";
}

static uint8_t clamp8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5); }

static void background(ild_rng *rng, int32_t w, int32_t h, uint8_t *bg, ild_clip_info *info)
{
    static const double kind_w[ILD_BG_COUNT] = {55, 15, 15, 15};
    info->background = (ild_bg_kind)ild_rng_pick(rng, kind_w, ILD_BG_COUNT);
    double c0[3] = {255, 255, 255}, c1[3];
    bool pastel = ild_rng_unit(rng) < 0.5;
    if (info->background != ILD_BG_WHITE)
        for (int c = 0; c < 3; c++) c0[c] = pastel || info->background != ILD_BG_SOLID ? ild_rng_range(rng, 200, 256) : ild_rng_range(rng, 0, 256);
    for (int c = 0; c < 3; c++) c1[c] = c0[c] + ild_rng_range(rng, -24, 24);
    double angle = ild_rng_range(rng, 0, 6.283185307179586), ca = cos(angle), sa = sin(angle);
    double noise = ild_rng_range(rng, 2, 8);
    for (int c = 0; c < 3; c++) info->bg_rgb[c] = clamp8(c0[c]);
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            uint8_t *p = bg + ((size_t)y * w + x) * 3;
            double u = 0.5 + ((x - w / 2.0) * ca + (y - h / 2.0) * sa) / (w + h);
            double n = info->background == ILD_BG_NOISE ? (ild_rng_unit(rng) + ild_rng_unit(rng) - 1) * noise * 2 : 0;
            for (int c = 0; c < 3; c++)
                p[c] = info->background == ILD_BG_GRADIENT ? clamp8(c0[c] + (c1[c] - c0[c]) * u) : clamp8(c0[c] + n);
        }
}

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
} jerr;

static void on_jpeg_error(j_common_ptr c) { longjmp(((jerr *)c->err)->jump, 1); }

/* Re-encodes one (h, w, 3) frame as JPEG at `quality` and decodes it back in place. */
static ildiff_status jpeg_roundtrip(uint8_t *rgb, int32_t w, int32_t h, int quality)
{
    struct jpeg_compress_struct cc;
    struct jpeg_decompress_struct dc;
    jerr e;
    unsigned char *buf = NULL;
    unsigned long size = 0;
    cc.err = jpeg_std_error(&e.mgr);
    dc.err = cc.err;
    e.mgr.error_exit = on_jpeg_error;
    volatile int stage = 0;
    if (setjmp(e.jump)) {
        if (stage >= 1) jpeg_destroy_compress(&cc);
        if (stage >= 2) jpeg_destroy_decompress(&dc);
        free(buf);
        return ild_fail(ILDIFF_ERR_INTERNAL, "libjpeg failed re-encoding a frame");
    }
    jpeg_create_compress(&cc);
    stage = 1;
    jpeg_mem_dest(&cc, &buf, &size);
    cc.image_width = (JDIMENSION)w;
    cc.image_height = (JDIMENSION)h;
    cc.input_components = 3;
    cc.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cc);
    jpeg_set_quality(&cc, quality, TRUE);
    jpeg_start_compress(&cc, TRUE);
    while (cc.next_scanline < cc.image_height) {
        JSAMPROW row = rgb + (size_t)cc.next_scanline * w * 3;
        jpeg_write_scanlines(&cc, &row, 1);
    }
    jpeg_finish_compress(&cc);
    jpeg_create_decompress(&dc);
    stage = 2;
    jpeg_mem_src(&dc, buf, size);
    jpeg_read_header(&dc, TRUE);
    dc.out_color_space = JCS_RGB;
    jpeg_start_decompress(&dc);
    while (dc.output_scanline < dc.output_height) {
        JSAMPROW row = rgb + (size_t)dc.output_scanline * w * 3;
        jpeg_read_scanlines(&dc, &row, 1);
    }
    jpeg_finish_decompress(&dc);
    jpeg_destroy_decompress(&dc);
    jpeg_destroy_compress(&cc);
    free(buf);
    return ILDIFF_OK;
}

/* A global palette over all composited frames, then each pixel mapped to its nearest entry. */
static ildiff_status palette_quantize(uint8_t *rgb, size_t pixels, int colors)
{
    ild_histogram *hist = NULL;
    ild_colormap *map = NULL;
    uint8_t *tmp = malloc(4096 * 4);
    ildiff_status st = tmp ? ild_histogram_new(&hist) : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < pixels && st == ILDIFF_OK; i += 4096) {
        size_t n = ILD_MIN((size_t)4096, pixels - i);
        for (size_t k = 0; k < n; k++) {
            memcpy(tmp + 4 * k, rgb + 3 * (i + k), 3);
            tmp[4 * k + 3] = 255;
        }
        ild_histogram_add(hist, tmp, n);
    }
    ild_palette pal;
    if (st == ILDIFF_OK) {
        ild_histogram_palette(hist, colors, &pal);
        st = ild_colormap_new(&pal, &map);
    }
    for (size_t i = 0; i < pixels && st == ILDIFF_OK; i++) {
        uint8_t *p = rgb + 3 * i, k = ild_colormap_index(map, p[0], p[1], p[2]);
        memcpy(p, pal.rgb[k], 3);
    }
    ild_colormap_free(map);
    ild_histogram_free(hist);
    free(tmp);
    return st;
}

ildiff_status ild_clip_sample(const uint8_t *rgba, int32_t frames, int32_t w, int32_t h, uint64_t seed,
                              uint8_t *rgb_out, uint8_t *bg_out, ild_clip_info *info)
{
    memset(info, 0, sizeof *info);
    ild_rng rng = ild_rng_new(seed ^ 0x636c6970ULL); /* "clip" */
    background(&rng, w, h, bg_out, info);
    static const double damage_w[ILD_DAMAGE_COUNT] = {30, 30, 15, 10, 15};
    info->damage = (ild_damage)ild_rng_pick(&rng, damage_w, ILD_DAMAGE_COUNT);
    bool gif = info->damage == ILD_DAMAGE_GIF || info->damage == ILD_DAMAGE_GIF_JPEG;
    bool jpeg = info->damage == ILD_DAMAGE_JPEG || info->damage == ILD_DAMAGE_GIF_JPEG;
    info->gif_colors = gif ? 32 << ild_rng_int(&rng, 4) : 0;
    info->jpeg_quality = jpeg ? 40 + (int)ild_rng_int(&rng, 56) : 0;
    info->h264_crf = info->damage == ILD_DAMAGE_H264 ? 23 + (int)ild_rng_int(&rng, 16) : 0;
    size_t n = (size_t)w * h;
    for (int32_t f = 0; f < frames; f++)
        for (size_t i = 0; i < n; i++) {
            const uint8_t *s = rgba + ((size_t)f * n + i) * 4;
            const uint8_t *b = bg_out + i * 3;
            uint8_t *o = rgb_out + ((size_t)f * n + i) * 3;
            int a = gif ? (s[3] >= 128 ? 255 : 0) : s[3];
            for (int c = 0; c < 3; c++) o[c] = (uint8_t)((s[c] * a + b[c] * (255 - a) + 127) / 255);
        }
    ildiff_status st = ILDIFF_OK;
    if (gif) st = palette_quantize(rgb_out, n * (size_t)frames, info->gif_colors);
    for (int32_t f = 0; f < frames && jpeg && st == ILDIFF_OK; f++)
        st = jpeg_roundtrip(rgb_out + (size_t)f * n * 3, w, h, info->jpeg_quality);
    if (st == ILDIFF_OK && info->h264_crf) st = ild_h264_roundtrip(rgb_out, frames, w, h, info->h264_crf);
    return st;
}
