/*
 * frames.c: renders a plan into RGBA frames and part masks, and measures the tags of the result.
 *
 * Per frame: the composite (the average of 3 sub-frame renders for motion blur), then each drawn part alone for
 * the mask (a pixel belongs to the topmost part whose own alpha > 0.5), then the effects on premultiplied floats:
 * white die-cut outline (its own part id), fade in, drop shadow, glow. Shadow and glow pixels are background (0)
 * in the masks; outline pixels are the outline's id.
 */
#include "dataset.h"

#include <math.h>
#include <string.h>

typedef struct scratch {
    float *frame, *sub, *plane, *line; /* (S, S, 4) (S, S, 4) (S, S) (S) */
    uint8_t *alpha;                    /* (S, S) */
    ild_buf svg;
} scratch;

static void scratch_free(scratch *s)
{
    free(s->frame);
    free(s->sub);
    free(s->plane);
    free(s->line);
    free(s->alpha);
    ild_buf_free(&s->svg);
}

static ildiff_status composite(const ild_sources *src, const ild_plan *p, double t, int32_t size, scratch *s)
{
    size_t n = (size_t)size * size * 4;
    if (p->effect != ILD_EFFECT_MOTION_BLUR) {
        ildiff_status st = ild_frame_svg(src, p, t, size, -1, &s->svg);
        return st == ILDIFF_OK ? ild_render_svg((const char *)s->svg.data, s->svg.size, size, s->frame) : st;
    }
    memset(s->frame, 0, n * sizeof(float));
    for (int k = 0; k < 3; k++) {
        double tk = t + (k - 1) * 0.5 / p->frame_count;
        tk -= floor(tk);
        ildiff_status st = ild_frame_svg(src, p, tk, size, -1, &s->svg);
        if (st == ILDIFF_OK) st = ild_render_svg((const char *)s->svg.data, s->svg.size, size, s->sub);
        if (st != ILDIFF_OK) return st;
        for (size_t i = 0; i < n; i++) s->frame[i] += s->sub[i] / 3;
    }
    return ILDIFF_OK;
}

static ildiff_status part_mask(const ild_sources *src, const ild_plan *p, double t, int32_t size, int32_t parts,
                               uint8_t *mask, scratch *s)
{
    memset(mask, 0, (size_t)size * size);
    for (int32_t k = 0; k < parts; k++) {
        ildiff_status st = ild_frame_svg(src, p, t, size, k, &s->svg);
        if (st == ILDIFF_OK) st = ild_render_alpha((const char *)s->svg.data, s->svg.size, size, s->alpha);
        if (st != ILDIFF_OK) return st;
        for (size_t i = 0; i < (size_t)size * size; i++)
            if (s->alpha[i] > 127) mask[i] = (uint8_t)(k + 1);
    }
    return ILDIFF_OK;
}

static float smoothstep(float a, float b, float x)
{
    float u = (x - a) / (b - a);
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    return u * u * (3 - 2 * u);
}

/* The frame's alpha, shifted by (dx, dy) pixels, into s->plane. */
static void alpha_plane(const float *frame, int32_t size, int32_t dx, int32_t dy, float *plane)
{
    for (int32_t y = 0; y < size; y++)
        for (int32_t x = 0; x < size; x++) {
            int32_t sx = x - dx, sy = y - dy;
            plane[(size_t)y * size + x] = sx >= 0 && sy >= 0 && sx < size && sy < size ? frame[((size_t)sy * size + sx) * 4 + 3] : 0;
        }
}

static void effects(const ild_plan *p, double t, int32_t size, int32_t outline_id, uint8_t *mask, scratch *s)
{
    size_t n = (size_t)size * size;
    if (p->outline) {
        static const float white[3] = {1, 1, 1};
        alpha_plane(s->frame, size, 0, 0, s->plane);
        ild_blur_plane(s->plane, size, size, ILD_MAX(1, (int32_t)lround(0.016 * size)), s->line);
        for (size_t i = 0; i < n; i++) {
            s->plane[i] = fmaxf(smoothstep(0.02f, 0.12f, s->plane[i]), s->frame[i * 4 + 3]);
            if (mask[i] == 0 && s->plane[i] > 0.5f) mask[i] = (uint8_t)outline_id;
        }
        ild_under_layer(s->frame, s->plane, white, size, size);
    }
    if (p->effect == ILD_EFFECT_FADE) {
        float k = (float)(0.25 + 0.75 * fmin(1.0, t / 0.5));
        for (size_t i = 0; i < n * 4; i++) s->frame[i] *= k;
    }
    if (p->effect == ILD_EFFECT_SHADOW) {
        static const float dark[3] = {0.08f, 0.08f, 0.12f};
        alpha_plane(s->frame, size, (int32_t)lround(0.02 * size), (int32_t)lround(0.035 * size), s->plane);
        ild_blur_plane(s->plane, size, size, ILD_MAX(1, (int32_t)lround(0.02 * size)), s->line);
        for (size_t i = 0; i < n; i++) s->plane[i] *= 0.5f;
        ild_under_layer(s->frame, s->plane, dark, size, size);
    }
    if (p->effect == ILD_EFFECT_GLOW) {
        alpha_plane(s->frame, size, 0, 0, s->plane);
        ild_blur_plane(s->plane, size, size, ILD_MAX(1, (int32_t)lround(0.035 * size)), s->line);
        for (size_t i = 0; i < n; i++) s->plane[i] = fminf(1, s->plane[i] * 1.8f) * 0.85f;
        ild_under_layer(s->frame, s->plane, p->effect_rgb, size, size);
    }
}

/* Premultiplied floats to straight RGBA8. */
static void to_rgba8(const float *f, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        float a = f[4 * i + 3];
        a = a < 0 ? 0 : a > 1 ? 1 : a;
        uint8_t a8 = (uint8_t)lrintf(a * 255);
        out[4 * i + 3] = a8;
        for (int c = 0; c < 3; c++) {
            float v = a8 ? f[4 * i + c] / a : 0;
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            out[4 * i + c] = a8 ? (uint8_t)lrintf(v * 255) : 0;
        }
    }
}

void ild_tags_measure(const uint8_t *rgba, int32_t w, int32_t h, int32_t *queue, ild_sample_tags *tags)
{
    size_t n = (size_t)w * h, head = 0, tail = 0, white = 0, soft = 0, drawn = 0;
    uint8_t *vis = calloc(n, 1);
    if (!vis) return; /* tags are advisory: without memory they stay as they are */
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            uint8_t a = rgba[4 * i + 3];
            if (a > 12) drawn++;
            if (a > 12 && a < 243) soft++;
            if (a > 242 && rgba[4 * i] >= 225 && rgba[4 * i + 1] >= 225 && rgba[4 * i + 2] >= 225) white++;
            if (a <= 12 && (x == 0 || y == 0 || x == w - 1 || y == h - 1)) {
                vis[i] = 1;
                queue[tail++] = (int32_t)i;
            }
        }
    while (head < tail) {
        int32_t i = queue[head++], x = i % w, y = i / w;
        int32_t nb[4] = {x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && !vis[nb[k]] && rgba[4 * (size_t)nb[k] + 3] <= 12) {
                vis[nb[k]] = 1;
                queue[tail++] = nb[k];
            }
    }
    size_t holes = 0;
    for (size_t i = 0; i < n; i++) holes += !vis[i] && rgba[4 * i + 3] <= 12;
    free(vis);
    if (holes >= 16) tags->semi_open = true;
    if (white >= 16) tags->white_parts = true;
    if (drawn && soft * 10 >= drawn) tags->soft_alpha = true;
}

ildiff_status ild_render_sample(const ild_sources *src, const ild_plan *p, int32_t size, uint8_t **rgba_out,
                                uint8_t **masks_out, int32_t *part_count, ild_sample_tags *tags)
{
    *rgba_out = *masks_out = NULL;
    *tags = (ild_sample_tags){0};
    size_t n = (size_t)size * size, T = (size_t)p->frame_count;
    int32_t parts = ild_plan_part_total(p);
    *part_count = parts + (p->outline ? 1 : 0);
    scratch s = {.frame = malloc(n * 4 * sizeof(float)), .sub = malloc(n * 4 * sizeof(float)),
                 .plane = malloc(n * sizeof(float)), .line = malloc((size_t)size * sizeof(float)), .alpha = malloc(n)};
    uint8_t *rgba = malloc(T * n * 4), *masks = malloc(T * n);
    int32_t *queue = malloc(n * sizeof(int32_t));
    ildiff_status st = ILDIFF_OK;
    if (!s.frame || !s.sub || !s.plane || !s.line || !s.alpha || !rgba || !masks || !queue)
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory rendering a %dx%d sample of %zu frames", size, size, T);
    for (size_t f = 0; f < T && st == ILDIFF_OK; f++) {
        double t = (double)f / (double)T;
        st = composite(src, p, t, size, &s);
        if (st == ILDIFF_OK) st = part_mask(src, p, t, size, parts, masks + f * n, &s);
        if (st != ILDIFF_OK) break;
        effects(p, t, size, parts + 1, masks + f * n, &s);
        to_rgba8(s.frame, n, rgba + f * n * 4);
        ild_tags_measure(rgba + f * n * 4, size, size, queue, tags);
    }
    if (p->effect != ILD_EFFECT_NONE) tags->soft_alpha = true;
    scratch_free(&s);
    free(queue);
    if (st != ILDIFF_OK) {
        free(rgba);
        free(masks);
        return st;
    }
    *rgba_out = rgba;
    *masks_out = masks;
    return ILDIFF_OK;
}
