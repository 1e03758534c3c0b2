/* test_transform.c: resize / fit / retime exactness, the preset table, and the fitting search (driven by a fake
 * encoder whose size is a known function of the settings, so the search's choices can be checked exactly). */
#include "check.h"
#include "ildiff.h"
#include "io/preset.h"

#include <math.h>
#include <string.h>

static void set_px(ildiff_anim *a, int32_t f, int32_t x, int32_t y, uint8_t r, uint8_t g, uint8_t b, uint8_t al)
{
    uint8_t *p = ildiff_anim_frame(a, f) + ((size_t)y * (size_t)a->width + (size_t)x) * 4;
    p[0] = r, p[1] = g, p[2] = b, p[3] = al;
}

static const uint8_t *px(const ildiff_anim *a, int32_t f, int32_t x, int32_t y)
{
    return ildiff_anim_frame(a, f) + ((size_t)y * (size_t)a->width + (size_t)x) * 4;
}

/* A w x h frame-count animation of pseudo-random pixels (alpha anywhere in 0..255). */
static ildiff_anim *noise(int32_t w, int32_t h, int32_t n, int32_t dur, uint32_t seed)
{
    ildiff_anim *a;
    if (ildiff_anim_new(w, h, n, dur, &a) != ILDIFF_OK) return NULL;
    size_t bytes = (size_t)w * h * n * 4;
    for (size_t i = 0; i < bytes; i++) {
        seed = seed * 1664525u + 1013904223u;
        a->rgba[i] = (uint8_t)(seed >> 24);
    }
    return a;
}

static void test_resize_identity_is_exact(void)
{
    ildiff_anim *a = noise(7, 5, 2, 40, 1), *b;
    a->loop_count = 3;
    CHECK_OK(ildiff_anim_resize(a, 7, 5, &b));
    for (size_t i = 0; i < (size_t)7 * 5 * 2 * 4; i++) {
        /* fully transparent pixels keep no colour; the rest are unchanged */
        size_t p = i / 4 * 4;
        if (a->rgba[p + 3] == 0 && i % 4 != 3) CHECK(b->rgba[i] == 0);
        else CHECK(b->rgba[i] == a->rgba[i]);
    }
    CHECK(b->loop_count == 3 && b->durations_ms[1] == 40);
    ildiff_anim_free(a);
    ildiff_anim_free(b);
}

static void test_resize_integer_factor_is_exact(void)
{
    /* blow up a 5x4 image by 3 (nearest), shrink by 3: the original comes back bit-exact */
    ildiff_anim *a = noise(5, 4, 1, 10, 7), *big, *back;
    for (size_t i = 0; i < (size_t)5 * 4; i++) a->rgba[i * 4 + 3] |= 1; /* colour is defined where alpha > 0 */
    CHECK_OK(ildiff_anim_new(15, 12, 1, 10, &big));
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 15; x++) memcpy(big->rgba + (y * 15 + x) * 4, px(a, 0, x / 3, y / 3), 4);
    CHECK_OK(ildiff_anim_resize(big, 5, 4, &back));
    CHECK(memcmp(back->rgba, a->rgba, (size_t)5 * 4 * 4) == 0);
    ildiff_anim_free(a);
    ildiff_anim_free(big);
    ildiff_anim_free(back);
}

static void test_resize_premultiplied(void)
{
    /* transparent red next to opaque blue: the average is half-transparent pure blue, not purple */
    ildiff_anim *a, *b;
    CHECK_OK(ildiff_anim_new(2, 1, 1, 10, &a));
    set_px(a, 0, 0, 0, 255, 0, 0, 0);
    set_px(a, 0, 1, 0, 0, 0, 255, 255);
    CHECK_OK(ildiff_anim_resize(a, 1, 1, &b));
    const uint8_t *p = px(b, 0, 0, 0);
    CHECK(p[0] == 0 && p[1] == 0 && p[2] == 255 && p[3] == 128);
    ildiff_anim_free(b);
    /* 3 -> 2 area: out0 = (2*p0 + p1) / 3, out1 = (p1 + 2*p2) / 3 */
    ildiff_anim_free(a);
    CHECK_OK(ildiff_anim_new(3, 1, 1, 10, &a));
    set_px(a, 0, 0, 0, 0, 0, 0, 255);
    set_px(a, 0, 1, 0, 90, 90, 90, 255);
    set_px(a, 0, 2, 0, 255, 255, 255, 0);
    CHECK_OK(ildiff_anim_resize(a, 2, 1, &b));
    CHECK(px(b, 0, 0, 0)[0] == 30 && px(b, 0, 0, 0)[3] == 255);
    CHECK(px(b, 0, 1, 0)[0] == 90 && px(b, 0, 1, 0)[3] == 85); /* (255 + 0 + 0) / 3 */
    ildiff_anim_free(a);
    ildiff_anim_free(b);
}

static void test_resize_bilinear_up(void)
{
    ildiff_anim *a, *b;
    CHECK_OK(ildiff_anim_new(2, 1, 1, 10, &a));
    set_px(a, 0, 0, 0, 0, 0, 0, 255);
    set_px(a, 0, 1, 0, 255, 255, 255, 255);
    CHECK_OK(ildiff_anim_resize(a, 4, 3, &b)); /* x: centres at -0.25, 0.25, 0.75, 1.25 -> 0, 64, 191, 255 */
    const int want[4] = {0, 64, 191, 255};
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++) CHECK(px(b, 0, x, y)[1] == want[x] && px(b, 0, x, y)[3] == 255);
    ildiff_anim_free(a);
    ildiff_anim_free(b);
    ildiff_anim *c;
    CHECK(ildiff_anim_resize(b = noise(3, 3, 1, 10, 2), 0, 5, &c) == ILDIFF_ERR_ARG && c == NULL);
    ildiff_anim_free(b);
}

static void test_fit(void)
{
    ildiff_anim *a, *b;
    CHECK_OK(ildiff_anim_new(200, 100, 2, 10, &a));
    memset(a->rgba, 255, (size_t)200 * 100 * 2 * 4);
    CHECK_OK(ildiff_anim_fit(a, 512, 512, 512, 512, &b));
    CHECK(b->width == 512 && b->height == 512 && b->frame_count == 2);
    CHECK(px(b, 1, 10, 127)[3] == 0 && px(b, 1, 10, 128)[3] == 255 && px(b, 1, 10, 383)[3] == 255 && px(b, 1, 10, 384)[3] == 0);
    ildiff_anim_free(b);
    CHECK_OK(ildiff_anim_fit(a, 512, 512, 0, 0, &b));
    CHECK(b->width == 512 && b->height == 256);
    ildiff_anim_free(b);
    CHECK_OK(ildiff_anim_fit(a, 320, 270, 0, 0, &b));
    CHECK(b->width == 320 && b->height == 160);
    ildiff_anim_free(b);
    CHECK(ildiff_anim_fit(a, 512, 512, 100, 100, &b) == ILDIFF_ERR_ARG && b == NULL);
    ildiff_anim_free(a);
}

/* An animation whose frame i has pixel value i, durations given. */
static ildiff_anim *numbered(const int32_t *durs, int32_t n)
{
    ildiff_anim *a;
    if (ildiff_anim_new(1, 1, n, 1, &a) != ILDIFF_OK) return NULL;
    for (int32_t i = 0; i < n; i++) {
        a->durations_ms[i] = durs[i];
        a->rgba[i * 4] = (uint8_t)i;
        a->rgba[i * 4 + 3] = 255;
    }
    return a;
}

static void test_retime_caps_fps_and_keeps_time(void)
{
    int32_t d[30];
    for (int i = 0; i < 30; i++) d[i] = 10; /* 100 fps, 300 ms */
    ildiff_anim *a = numbered(d, 30), *b;
    CHECK_OK(ildiff_anim_retime(a, 30, 0, &b));
    CHECK(ildiff_anim_duration_ms(b) == 300);
    CHECK(b->frame_count == 9); /* slots at 0, 33, 67, ... 267 */
    int64_t t = 0;
    for (int32_t i = 0; i < b->frame_count; i++) {
        CHECK(b->durations_ms[i] >= 33);
        CHECK(b->rgba[i * 4] == t / 10); /* the frame visible at the slot start */
        t += b->durations_ms[i];
    }
    ildiff_anim_free(b);
    /* already slower than the cap: unchanged */
    CHECK_OK(ildiff_anim_retime(a, 200, 0, &b));
    CHECK(b->frame_count == 30 && b->durations_ms[7] == 10);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
    int32_t grid[6] = {33, 34, 33, 33, 34, 33}; /* on the 30 fps grid: kept */
    a = numbered(grid, 6);
    CHECK_OK(ildiff_anim_retime(a, 30, 0, &b));
    CHECK(b->frame_count == 6 && memcmp(b->durations_ms, grid, sizeof grid) == 0);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
}

static void test_retime_min_frame(void)
{
    int32_t d[7] = {3, 5, 1, 20, 7, 2, 9}; /* WhatsApp: every frame >= 8 ms */
    ildiff_anim *a = numbered(d, 7), *b;
    CHECK_OK(ildiff_anim_retime(a, 1000.0 / 8, 0, &b));
    CHECK(ildiff_anim_duration_ms(b) == 47);
    for (int32_t i = 0; i < b->frame_count; i++) CHECK_MSG(b->durations_ms[i] >= 8, "frame %d: %d ms", i, b->durations_ms[i]);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
}

static void test_retime_cut(void)
{
    int32_t d[10] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 100};
    ildiff_anim *a = numbered(d, 10), *b;
    CHECK_OK(ildiff_anim_retime(a, 0, 350, &b));
    CHECK(b->frame_count == 4 && b->durations_ms[3] == 50 && ildiff_anim_duration_ms(b) == 350);
    ildiff_anim_free(b);
    CHECK_OK(ildiff_anim_retime(a, 30, 3000, &b)); /* 10 fps under a 30 fps cap, 1 s under 3 s: unchanged */
    CHECK(b->frame_count == 10 && ildiff_anim_duration_ms(b) == 1000);
    ildiff_anim_free(b);
    CHECK(ildiff_anim_retime(a, -1, 0, &b) == ILDIFF_ERR_ARG && b == NULL);
    CHECK(ildiff_anim_retime(a, NAN, 0, &b) == ILDIFF_ERR_ARG);
    ildiff_anim_free(a);
}

static void test_preset_table(void)
{
    int n = 0;
    for (const ildiff_preset *p = ildiff_presets(); p->name; p++, n++) {
        CHECK(p->description && p->max_bytes > 0);
        CHECK(ildiff_preset_find(p->name) == p);
    }
    CHECK(n == 6);
    CHECK(ildiff_preset_find("myspace") == NULL);
    const ildiff_preset *t = ildiff_preset_find("telegram");
    CHECK(t->format == ILDIFF_FORMAT_WEBM && t->max_side == 512 && t->one_side_exact && t->max_fps == 30 &&
          t->max_duration_ms == 3000 && t->max_bytes <= 256 * 1024);
    const ildiff_preset *w = ildiff_preset_find("whatsapp");
    CHECK(w->format == ILDIFF_FORMAT_WEBP && w->canvas_w == 512 && w->canvas_h == 512 && w->min_frame_ms == 8 &&
          w->max_duration_ms == 10000 && w->max_bytes <= 500 * 1024);
}

static void test_preset_prepare(void)
{
    ildiff_anim *a = noise(300, 200, 50, 20, 3), *b; /* 50 fps, 1 s */
    CHECK_OK(ild_preset_prepare(a, ildiff_preset_find("telegram"), &b));
    CHECK(b->width == 512 && b->height == 342 && b->loop_count == 0);
    for (int32_t i = 0; i < b->frame_count; i++) CHECK(b->durations_ms[i] >= 33);
    CHECK(ildiff_anim_duration_ms(b) == 1000);
    ildiff_anim_free(b);
    CHECK_OK(ild_preset_prepare(a, ildiff_preset_find("whatsapp"), &b));
    CHECK(b->width == 512 && b->height == 512 && b->frame_count == 50);
    ildiff_anim_free(b);
    CHECK_OK(ild_preset_prepare(a, ildiff_preset_find("line"), &b)); /* 5..20 frames, whole seconds, <= 4 plays */
    CHECK(b->width == 320 && b->height == 213 && b->frame_count >= 5 && b->frame_count <= 20);
    CHECK(ildiff_anim_duration_ms(b) == 1000 && b->loop_count == 4);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
    a = noise(10, 10, 1, 2500, 4); /* one still frame: LINE needs 5 frames and 3 s */
    CHECK_OK(ild_preset_prepare(a, ildiff_preset_find("line"), &b));
    CHECK(b->frame_count == 5 && ildiff_anim_duration_ms(b) == 3000 && b->loop_count == 1);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
}

/* Fake encoder: bytes = pixels * frames * (quality + 10) / 100, independent of content. */
static ildiff_status fake_encode(const ildiff_anim *a, ildiff_format f, const ildiff_write_options *o, uint8_t **out, size_t *n)
{
    *n = (size_t)((double)a->width * a->height * a->frame_count * (o->lossless ? 200 : o->quality + 10) / 100);
    *out = malloc(1);
    return ILDIFF_OK;
}

static void test_preset_search(void)
{
    ildiff_anim *a = noise(64, 64, 30, 33, 5); /* ~1 s at 30 fps */
    ildiff_preset p = *ildiff_preset_find("whatsapp");
    ildiff_write_options wo = ildiff_write_options_default();
    uint8_t *data;
    size_t size;
    ildiff_fit_report rep;
    /* 512*512*30 * (90+10)/100 = 7.9 MB at q90; a limit of 4 MB needs quality ~40 */
    p.max_bytes = 4000000;
    CHECK_OK(ild_preset_encode_with(a, &p, &wo, fake_encode, &data, &size, &rep));
    CHECK(rep.reduced && size <= 4000000 && rep.frame_count == 30 && rep.quality >= 38 && rep.quality <= 41);
    CHECK(rep.bytes == size && rep.width == 512 && rep.attempts <= 10);
    free(data);
    /* lossless over the limit: the search goes lossy */
    wo.lossless = true;
    CHECK_OK(ild_preset_encode_with(a, &p, &wo, fake_encode, &data, &size, &rep));
    CHECK(rep.reduced && size <= 4000000 && rep.quality >= 38 && rep.quality <= 41);
    free(data);
    wo.lossless = false;
    /* plenty of room: first try, not reduced */
    p.max_bytes = 100000000;
    CHECK_OK(ild_preset_encode_with(a, &p, &wo, fake_encode, &data, &size, &rep));
    CHECK(!rep.reduced && rep.attempts == 1 && rep.quality == 90);
    free(data);
    /* only a lower frame rate fits: 512*512*15*0.15 = 590k at q5 and 15 fps */
    p.max_bytes = 700000;
    CHECK_OK(ild_preset_encode_with(a, &p, &wo, fake_encode, &data, &size, &rep));
    CHECK(rep.reduced && size <= 700000 && rep.fps < 16 && rep.width == 512);
    free(data);
    /* WhatsApp's size is fixed: nothing fits, and the reason says so */
    p.max_bytes = 1000;
    CHECK(ild_preset_encode_with(a, &p, &wo, fake_encode, &data, &size, &rep) == ILDIFF_ERR_NOFIT && data == NULL);
    CHECK(strstr(ildiff_last_error(), "cannot fit") != NULL);
    /* Signal may shrink: a small limit is met by a smaller square */
    ildiff_preset s = *ildiff_preset_find("signal");
    s.max_bytes = 100000;
    CHECK_OK(ild_preset_encode_with(a, &s, &wo, fake_encode, &data, &size, &rep));
    CHECK(rep.reduced && size <= 100000 && rep.width == rep.height && rep.width < 512 && rep.width >= 128);
    free(data);
    ildiff_anim_free(a);
}

int main(void)
{
    ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    RUN(test_resize_identity_is_exact);
    RUN(test_resize_integer_factor_is_exact);
    RUN(test_resize_premultiplied);
    RUN(test_resize_bilinear_up);
    RUN(test_fit);
    RUN(test_retime_caps_fps_and_keeps_time);
    RUN(test_retime_min_frame);
    RUN(test_retime_cut);
    RUN(test_preset_table);
    RUN(test_preset_prepare);
    RUN(test_preset_search);
    return check_done();
}
