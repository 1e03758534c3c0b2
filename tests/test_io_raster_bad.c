/* test_io_raster_bad.c: the raster readers on hand-made, truncated, corrupted and oversized input: GIF
 * composition rules on a hand-built file (disposal 1/2/3, offsets clipped to the canvas, local palettes,
 * out-of-range indices, interlace, delays, loop counts), APNG structure errors, every truncation of small files,
 * byte flips (no crash; PNG's CRCs must catch every one), and the size limits of each reader. */
#include "raster_util.h"

static const uint8_t pal4[4][3] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
static const uint8_t lct2[2][3] = {{255, 255, 255}, {255, 255, 0}};

/* The hand-made GIF described in test_gif_compose (6x4, 4 frames). */
static bytes crafted_gif(bool with_loop)
{
    bytes b = {0};
    gif_screen(&b, 6, 4, pal4, 4);
    if (with_loop) gif_loop(&b, 2);
    uint8_t full[24];
    memset(full, 1, sizeof full);
    gif_gce(&b, 1, 0, -1);
    gif_image(&b, 0, 0, 6, 4, false, NULL, 0, full); /* red canvas; keep */
    gif_gce(&b, 3, 1, 0);
    gif_image(&b, 2, 1, 2, 2, false, lct2, 2, (const uint8_t[]){0, 1, 1, 0}); /* local palette; restore after */
    gif_gce(&b, 2, 7, 3);
    /* 4x3 at (4,2): clipped to 2x2; interlaced, so file rows are 0, 2, 1 */
    gif_image(&b, 4, 2, 4, 3, true, NULL, 0, (const uint8_t[]){3, 2, 2, 2, 1, 1, 1, 1, 200, 2, 2, 2});
    gif_image(&b, 0, 0, 1, 1, false, NULL, 0, (const uint8_t[]){2}); /* no GCE */
    put8(&b, 0x3b);
    return b;
}

static void expect_px(const ildiff_anim *a, int f, int x, int y, const uint8_t *rgb, uint8_t alpha)
{
    const uint8_t *p = ildiff_anim_frame(a, f) + ((size_t)y * a->width + x) * 4;
    if (alpha == 0) CHECK_MSG(p[3] == 0, "frame %d (%d,%d) alpha %d, expected transparent", f, x, y, p[3]);
    else
        CHECK_MSG(p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2] && p[3] == 255,
                  "frame %d (%d,%d) = %d,%d,%d,%d expected %d,%d,%d", f, x, y, p[0], p[1], p[2], p[3], rgb[0], rgb[1], rgb[2]);
}

static void test_gif_compose(void)
{
    bytes b = crafted_gif(true);
    ildiff_anim *a = NULL;
    CHECK_OK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    if (!a || a->frame_count != 4) {
        CHECK_MSG(0, "crafted GIF: %s", ildiff_last_error());
        ildiff_anim_free(a);
        free(b.d);
        return;
    }
    static const uint8_t red[3] = {255, 0, 0}, green[3] = {0, 255, 0}, yellow[3] = {255, 255, 0};
    CHECK(a->durations_ms[0] == 100 && a->durations_ms[1] == 100 && a->durations_ms[2] == 70 && a->durations_ms[3] == 100);
    CHECK(a->loop_count == 3 && a->source_has_alpha);
    expect_px(a, 0, 5, 3, red, 255);
    expect_px(a, 1, 2, 1, red, 255); /* transparent index: red shows through */
    expect_px(a, 1, 3, 1, yellow, 255);
    expect_px(a, 1, 2, 2, yellow, 255);
    expect_px(a, 2, 3, 1, red, 255); /* disposal 3 restored */
    expect_px(a, 2, 4, 2, red, 255); /* transparent index */
    expect_px(a, 2, 5, 2, green, 255);
    expect_px(a, 2, 4, 3, red, 255); /* index 200 is outside the palette: nothing drawn */
    expect_px(a, 2, 5, 3, green, 255); /* interlaced row 1 */
    expect_px(a, 3, 0, 0, green, 255);
    expect_px(a, 3, 4, 2, NULL, 0); /* disposal 2 cleared the clipped rectangle */
    expect_px(a, 3, 5, 3, NULL, 0);
    expect_px(a, 3, 3, 3, red, 255);
    ildiff_anim_free(a);
    free(b.d);
    b = crafted_gif(false);
    CHECK_OK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, NULL, &a));
    CHECK(a && a->loop_count == 1); /* no NETSCAPE extension: play once */
    ildiff_anim_free(a);
    free(b.d);
}

static void test_gif_bad(void)
{
    ildiff_anim *a = NULL;
    bytes b = crafted_gif(true);
    int wrong = 0;
    for (size_t n = 0; n < b.n; n++) { /* every truncation, including a missing trailer */
        ildiff_status st = ildiff_anim_read_memory(b.d, n, ILDIFF_FORMAT_GIF, NULL, &a);
        if (n > 0 && (st != ILDIFF_ERR_FORMAT || a)) wrong++;
        ildiff_anim_free(a);
    }
    CHECK_MSG(wrong == 0, "%d truncations were not rejected as format errors", wrong);
    ildiff_limits lim = ildiff_limits_default();
    lim.max_frames = 3;
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    lim = ildiff_limits_default();
    lim.max_total_pixels = 6 * 4 * 3;
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    lim = ildiff_limits_default();
    lim.max_height = 3;
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    unsigned seed = 1; /* byte flips: any result, but no crash or leak (the ASan build checks) */
    for (int i = 0; i < 400; i++) {
        uint8_t *c = malloc(b.n);
        memcpy(c, b.d, b.n);
        seed = seed * 1103515245u + 12345u;
        c[(seed >> 8) % b.n] ^= (uint8_t)(1u << (seed >> 4) % 8);
        ildiff_status st = ildiff_anim_read_memory(c, b.n, ILDIFF_FORMAT_GIF, NULL, &a);
        CHECK((st == ILDIFF_OK) == (a != NULL));
        ildiff_anim_free(a);
        free(c);
    }
    free(b.d);
    b = (bytes){0}; /* no colour map anywhere */
    gif_screen(&b, 2, 2, NULL, 0);
    gif_image(&b, 0, 0, 2, 2, false, NULL, 0, (const uint8_t[]){0, 0, 0, 0});
    put8(&b, 0x3b);
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    CHECK(strstr(ildiff_last_error(), "colour map") != NULL);
    free(b.d);
    b = (bytes){0}; /* zero frames */
    gif_screen(&b, 2, 2, pal4, 4);
    put8(&b, 0x3b);
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    free(b.d);
    b = (bytes){0}; /* a 60000x60000 sub-image in a tiny file: refused before anything is allocated */
    gif_screen(&b, 10, 10, pal4, 4);
    put8(&b, 0x2c), put16le(&b, 0), put16le(&b, 0), put16le(&b, 60000), put16le(&b, 60000), put8(&b, 0);
    put8(&b, 8), put8(&b, 2), put8(&b, 0x00), put8(&b, 0x01), put8(&b, 0), put8(&b, 0x3b);
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, NULL, &a) == ILDIFF_ERR_LIMIT && !a);
    free(b.d);
    b = (bytes){0}; /* a 60000x60000 logical screen */
    gif_screen(&b, 60000, 60000, pal4, 4);
    put8(&b, 0x3b);
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_GIF, NULL, &a) == ILDIFF_ERR_LIMIT && !a);
    free(b.d);
}

/* ---- APNG ---- */

typedef struct apng_spec {
    uint32_t actl_frames;
    uint32_t seq1;      /* sequence number of frame 1's fcTL (correct: 1) */
    uint32_t x1;        /* frame 1's x offset (its width is 2, canvas 4) */
} apng_spec;

static bytes crafted_apng(apng_spec s)
{
    uint8_t px[4 * 4 * 4];
    for (int i = 0; i < 16; i++) px[i * 4] = (uint8_t)(i * 16), px[i * 4 + 1] = 7, px[i * 4 + 2] = 9, px[i * 4 + 3] = (uint8_t)(i * 10);
    bytes z0 = idat_of(px, 4, 4), z1 = idat_of(px, 2, 2), b = {0};
    png_start(&b, 4, 4, 6);
    uint8_t actl[8] = {(uint8_t)(s.actl_frames >> 24), (uint8_t)(s.actl_frames >> 16), (uint8_t)(s.actl_frames >> 8),
                       (uint8_t)s.actl_frames, 0, 0, 0, 0};
    png_chunk(&b, "acTL", actl, 8);
    apng_fctl(&b, 0, 4, 4, 0, 0, 1, 10, 0, 0);
    png_chunk(&b, "IDAT", z0.d, z0.n);
    apng_fctl(&b, s.seq1, 2, 2, s.x1, 0, 1, 10, 0, 0);
    apng_fdat(&b, s.seq1 + 1, &z1);
    png_chunk(&b, "IEND", NULL, 0);
    free(z0.d);
    free(z1.d);
    return b;
}

static void test_apng_bad(void)
{
    ildiff_anim *a = NULL;
    bytes b = crafted_apng((apng_spec){2, 1, 2});
    CHECK_OK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    CHECK(a && a->frame_count == 2 && a->loop_count == 0);
    ildiff_anim_free(a);
    int wrong = 0;
    for (size_t n = 0; n < b.n; n++) {
        ildiff_status st = ildiff_anim_read_memory(b.d, n, ILDIFF_FORMAT_APNG, NULL, &a);
        if (n > 0 && (st != ILDIFF_ERR_FORMAT || a)) wrong++;
        ildiff_anim_free(a);
    }
    CHECK_MSG(wrong == 0, "%d truncations were not rejected as format errors", wrong);
    /* every single-bit flip after the signature is caught (CRCs, lengths, chunk order), except in acTL's type
     * (bytes 37..40): a file without acTL is a valid still PNG, as the APNG spec intends */
    int missed = 0;
    CHECK(memcmp(b.d + 37, "acTL", 4) == 0);
    for (size_t i = 8; i < b.n; i++) {
        if (i >= 37 && i <= 40) continue;
        b.d[i] ^= 0x10;
        ildiff_status st = ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_APNG, NULL, &a);
        if (st == ILDIFF_OK || a || (st != ILDIFF_ERR_FORMAT && st != ILDIFF_ERR_UNSUPPORTED && st != ILDIFF_ERR_LIMIT)) {
            missed++;
            printf("  flip at %zu: %s\n", i, st == ILDIFF_OK ? "accepted" : ildiff_last_error());
        }
        ildiff_anim_free(a);
        b.d[i] ^= 0x10;
    }
    CHECK_MSG(missed == 0, "%d byte flips were not rejected", missed);
    ildiff_limits lim = ildiff_limits_default();
    lim.max_frames = 1;
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_APNG, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    lim = ildiff_limits_default();
    lim.max_width = 3;
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_APNG, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    free(b.d);
    b = crafted_apng((apng_spec){2, 1, 3}); /* 2 wide at x 3 on a 4-wide canvas */
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_APNG, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    CHECK(strstr(ildiff_last_error(), "outside") != NULL);
    free(b.d);
    b = crafted_apng((apng_spec){2, 5, 2}); /* sequence numbers skip */
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_APNG, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    CHECK(strstr(ildiff_last_error(), "sequence") != NULL);
    free(b.d);
    b = crafted_apng((apng_spec){3, 1, 2}); /* acTL promises more frames than there are */
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_APNG, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    free(b.d);
    b = crafted_apng((apng_spec){0x7fffffff, 1, 2}); /* a huge frame count is refused before allocating */
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_APNG, NULL, &a) == ILDIFF_ERR_LIMIT && !a);
    free(b.d);
    b = (bytes){0}; /* a PNG whose IHDR claims 100000 x 100000 */
    png_start(&b, 100000, 100000, 6);
    png_chunk(&b, "IEND", NULL, 0);
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_PNG, NULL, &a) == ILDIFF_ERR_LIMIT && !a);
    free(b.d);
    b = (bytes){0}; /* IDAT that is not zlib data */
    png_start(&b, 2, 2, 6);
    png_chunk(&b, "IDAT", (const uint8_t *)"garbage!", 8);
    png_chunk(&b, "IEND", NULL, 0);
    CHECK(ildiff_anim_read_memory(b.d, b.n, ILDIFF_FORMAT_PNG, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    free(b.d);
}

/* ---- WebP ---- */

static void test_webp_bad(void)
{
    ildiff_anim *src = sample_anim(24, 16, false), *a = NULL;
    ildiff_write_options o = ildiff_write_options_default();
    uint8_t *d;
    size_t n;
    CHECK_OK(ildiff_anim_encode(src, ILDIFF_FORMAT_WEBP, &o, &d, &n));
    int wrong = 0;
    for (size_t k = 1; k < n; k += k < 64 ? 1 : 7) {
        ildiff_status st = ildiff_anim_read_memory(d, k, ILDIFF_FORMAT_WEBP, NULL, &a);
        if (st != ILDIFF_ERR_FORMAT || a) wrong++;
        ildiff_anim_free(a);
    }
    CHECK_MSG(wrong == 0, "%d truncations were not rejected as format errors", wrong);
    ildiff_limits lim = ildiff_limits_default();
    lim.max_frames = 3;
    CHECK(ildiff_anim_read_memory(d, n, ILDIFF_FORMAT_WEBP, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    lim = ildiff_limits_default();
    lim.max_width = 23;
    CHECK(ildiff_anim_read_memory(d, n, ILDIFF_FORMAT_WEBP, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    unsigned seed = 7;
    for (int i = 0; i < 300; i++) {
        uint8_t *c = malloc(n);
        memcpy(c, d, n);
        seed = seed * 1103515245u + 12345u;
        c[(seed >> 8) % n] ^= (uint8_t)(1u << (seed >> 4) % 8);
        ildiff_status st = ildiff_anim_read_memory(c, n, ILDIFF_FORMAT_WEBP, NULL, &a);
        CHECK((st == ILDIFF_OK) == (a != NULL));
        ildiff_anim_free(a);
        free(c);
    }
    memcpy(d + 12, "ZZZZ", 4); /* first chunk is no longer VP8X: not a valid container */
    CHECK(ildiff_anim_read_memory(d, n, ILDIFF_FORMAT_WEBP, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    free(d);
    ildiff_anim_free(src);
}

/* GIF and APNG files we wrote, truncated anywhere, are rejected. */
static void test_our_files_truncated(void)
{
    ildiff_anim *src = sample_anim(24, 16, false), *a = NULL;
    ildiff_format fmts[2] = {ILDIFF_FORMAT_GIF, ILDIFF_FORMAT_APNG};
    for (int f = 0; f < 2; f++) {
        uint8_t *d;
        size_t n;
        CHECK_OK(ildiff_anim_encode(src, fmts[f], NULL, &d, &n));
        int wrong = 0;
        for (size_t k = 1; k < n; k += 3) {
            ildiff_status st = ildiff_anim_read_memory(d, k, fmts[f], NULL, &a);
            if (st != ILDIFF_ERR_FORMAT || a) wrong++;
            ildiff_anim_free(a);
        }
        CHECK_MSG(wrong == 0, "%s: %d truncations not rejected", ildiff_format_name(fmts[f]), wrong);
        free(d);
    }
    ildiff_anim_free(src);
}

int main(void)
{
    ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    RUN(test_gif_compose);
    RUN(test_gif_bad);
    RUN(test_apng_bad);
    RUN(test_webp_bad);
    RUN(test_our_files_truncated);
    return check_done();
}
