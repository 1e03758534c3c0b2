/* test_io_raster.c: GIF, WebP, PNG/APNG, JPEG and frame-folder round trips (sizes, frame counts, durations,
 * loop counts, alpha exact where the codec is lossless, within tolerance where lossy), decoding of PNG variants
 * written by libpng and JPEGs written by libjpeg, and APNG composition on a hand-made file. Cross-checks with
 * external tools are in test_io_raster_tools.c; bad input and limits in test_io_raster_bad.c. */
#include "raster_util.h"

#include <jpeglib.h>
#include <png.h>
#include <sys/stat.h>

static ildiff_write_options opts_loop(int32_t loops)
{
    ildiff_write_options o = ildiff_write_options_default();
    o.loop_count = loops;
    return o;
}

/* Encodes with `format` and reads it back. */
static ildiff_anim *roundtrip(const ildiff_anim *a, ildiff_format format, const ildiff_write_options *o, uint8_t **bytes_out,
                              size_t *size_out)
{
    uint8_t *data = NULL;
    size_t n = 0;
    ildiff_anim *b = NULL;
    CHECK_OK(ildiff_anim_encode(a, format, o, &data, &n));
    if (data) CHECK_OK(ildiff_anim_read_memory(data, n, ILDIFF_FORMAT_UNKNOWN, NULL, &b));
    if (bytes_out) {
        *bytes_out = data;
        *size_out = n;
    } else {
        free(data);
    }
    return b;
}

static bool same_shape(const ildiff_anim *a, const ildiff_anim *b)
{
    return a && b && a->width == b->width && a->height == b->height && a->frame_count == b->frame_count;
}

/* ---- PNG / APNG ---- */

static void test_apng_roundtrip(void)
{
    ildiff_anim *a = sample_anim(40, 30, false);
    ildiff_write_options o = opts_loop(3);
    uint8_t *data;
    size_t n;
    ildiff_anim *b = roundtrip(a, ILDIFF_FORMAT_APNG, &o, &data, &n);
    CHECK(ildiff_format_sniff(data, n) == ILDIFF_FORMAT_APNG);
    CHECK(same_shape(a, b));
    if (same_shape(a, b)) {
        CHECK(memcmp(a->rgba, b->rgba, (size_t)40 * 30 * 4 * 4) == 0);
        for (int i = 0; i < 4; i++) CHECK(b->durations_ms[i] == sample_ms[i]);
        CHECK(b->loop_count == 3);
        CHECK(b->source == ILDIFF_FORMAT_APNG && b->source_has_alpha);
    }
    free(data);
    ildiff_anim_free(b);
    o = ildiff_write_options_default(); /* APNG loops forever by default, even for a play-once animation */
    a->loop_count = 1;
    b = roundtrip(a, ILDIFF_FORMAT_APNG, &o, NULL, NULL);
    CHECK(b && b->loop_count == 0);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
}

static void test_png_still_and_opaque(void)
{
    ildiff_anim *a = sample_anim(21, 13, false);
    a->frame_count = 1; /* first frame only: written as a plain PNG */
    uint8_t *data;
    size_t n;
    ildiff_anim *b = roundtrip(a, ILDIFF_FORMAT_APNG, NULL, &data, &n);
    CHECK(ildiff_format_sniff(data, n) == ILDIFF_FORMAT_PNG);
    CHECK(b && b->frame_count == 1 && b->source == ILDIFF_FORMAT_PNG);
    if (b) CHECK(memcmp(a->rgba, b->rgba, (size_t)21 * 13 * 4) == 0);
    free(data);
    ildiff_anim_free(b);
    a->frame_count = 4;
    for (size_t i = 0; i < (size_t)21 * 13 * 4; i++) a->rgba[i * 4 + 3] = 255; /* opaque: written as RGB */
    b = roundtrip(a, ILDIFF_FORMAT_APNG, NULL, &data, &n);
    CHECK(n > 26 && data[25] == 2); /* IHDR colour type */
    CHECK(same_shape(a, b) && memcmp(a->rgba, b->rgba, (size_t)21 * 13 * 4 * 4) == 0);
    free(data);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
    uint8_t grey[6] = {0, 50, 100, 150, 200, 255};
    CHECK_OK(ild_png_encode_grey(grey, 3, 2, &data, &n));
    CHECK_OK(ildiff_anim_read_memory(data, n, ILDIFF_FORMAT_UNKNOWN, NULL, &b));
    if (b) {
        for (int i = 0; i < 6; i++) CHECK(b->rgba[i * 4] == grey[i] && b->rgba[i * 4 + 2] == grey[i] && b->rgba[i * 4 + 3] == 255);
        CHECK(!b->source_has_alpha);
    }
    free(data);
    ildiff_anim_free(b);
}

/* libpng (an independent encoder) writes palette+tRNS, 16-bit grey+alpha and interlaced PNGs; we read them. */
static void write_png_libpng(const char *path, int w, int h, int colour_type, int depth, int interlace, png_bytep *rows,
                             png_colorp pal, int npal, png_bytep trns, int ntrns)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, colour_type, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void test_png_libpng_variants(void)
{
    char path[512];
    tmp_path(path, sizeof path, "variant.png");
    enum { W = 9, H = 7 };
    uint8_t px[H][W * 8];
    png_bytep rows[H];
    for (int y = 0; y < H; y++) rows[y] = px[y];
    ildiff_anim *b = NULL;
    /* palette with tRNS */
    png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    png_byte trns[2] = {0, 128};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) px[y][x] = (uint8_t)((x + y) % 3);
    write_png_libpng(path, W, H, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, rows, pal, 3, trns, 2);
    CHECK_OK(ildiff_anim_read(path, NULL, &b));
    if (b) {
        const uint8_t *p = b->rgba + (1 * W + 1) * 4; /* index 2: blue, opaque */
        CHECK(p[2] == 255 && p[3] == 255 && b->rgba[3] == 0 && b->rgba[4 + 3] == 128 && b->source_has_alpha);
    }
    ildiff_anim_free(b);
    /* 16-bit grey + alpha: 8-bit values are the high bytes */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = px[y] + x * 4;
            p[0] = (uint8_t)(x * 20), p[1] = 0x80, p[2] = (uint8_t)(y * 30), p[3] = 0x00;
        }
    write_png_libpng(path, W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 16, PNG_INTERLACE_NONE, rows, NULL, 0, NULL, 0);
    CHECK_OK(ildiff_anim_read(path, NULL, &b));
    if (b) {
        const uint8_t *p = b->rgba + (3 * W + 4) * 4;
        CHECK_NEAR(p[0], 80.5, 1);
        CHECK(p[1] == p[0]);
        CHECK_NEAR(p[3], 90, 1);
    }
    ildiff_anim_free(b);
    /* interlaced RGB */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) px[y][x * 3] = (uint8_t)(x * 25), px[y][x * 3 + 1] = (uint8_t)(y * 35), px[y][x * 3 + 2] = 7;
    write_png_libpng(path, W, H, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, rows, NULL, 0, NULL, 0);
    CHECK_OK(ildiff_anim_read(path, NULL, &b));
    if (b) {
        bool ok = true;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *p = b->rgba + ((size_t)y * W + x) * 4;
                ok = ok && p[0] == x * 25 && p[1] == y * 35 && p[2] == 7 && p[3] == 255;
            }
        CHECK(ok);
    }
    ildiff_anim_free(b);
    unlink(path);
}

/* A hand-made APNG exercising offsets, blend OVER, dispose PREVIOUS and BACKGROUND and den 0. */
static void test_apng_compose(void)
{
    uint8_t red[4 * 4 * 4], blue[2 * 2 * 4], green[4] = {0, 255, 0, 255}, clear[4] = {9, 9, 9, 0};
    for (int i = 0; i < 16; i++) memcpy(red + i * 4, (uint8_t[]){255, 0, 0, 255}, 4);
    for (int i = 0; i < 4; i++) memcpy(blue + i * 4, (uint8_t[]){0, 0, 255, 128}, 4);
    bytes zr = idat_of(red, 4, 4), zb = idat_of(blue, 2, 2), zg = idat_of(green, 1, 1), zc = idat_of(clear, 1, 1);
    bytes f = {0};
    png_start(&f, 4, 4, 6);
    uint8_t actl[8] = {0, 0, 0, 4, 0, 0, 0, 2};
    png_chunk(&f, "acTL", actl, 8);
    apng_fctl(&f, 0, 4, 4, 0, 0, 5, 0, 0, 0); /* 5/0 s -> 5/100 s */
    png_chunk(&f, "IDAT", zr.d, zr.n);
    apng_fctl(&f, 1, 2, 2, 1, 1, 1, 10, 2, 1); /* 100 ms, dispose PREVIOUS, blend OVER */
    apng_fdat(&f, 2, &zb);
    apng_fctl(&f, 3, 1, 1, 3, 3, 0, 100, 1, 0); /* delay 0, dispose BACKGROUND, blend SOURCE */
    apng_fdat(&f, 4, &zg);
    apng_fctl(&f, 5, 1, 1, 0, 0, 20, 1000, 0, 1); /* transparent pixel OVER: no change */
    apng_fdat(&f, 6, &zc);
    png_chunk(&f, "IEND", NULL, 0);
    ildiff_anim *a = NULL;
    CHECK_OK(ildiff_anim_read_memory(f.d, f.n, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    if (a && a->frame_count == 4) {
        CHECK(a->durations_ms[0] == 50 && a->durations_ms[1] == 100 && a->durations_ms[2] == 1 && a->durations_ms[3] == 20);
        CHECK(a->loop_count == 2);
        const uint8_t *f1 = ildiff_anim_frame(a, 1), *f2 = ildiff_anim_frame(a, 2), *f3 = ildiff_anim_frame(a, 3);
        const uint8_t *p = f1 + (1 * 4 + 1) * 4; /* blue 50% over red */
        CHECK_NEAR(p[0], 127, 1);
        CHECK_NEAR(p[2], 128, 1);
        CHECK(p[1] == 0 && p[3] == 255);
        CHECK(memcmp(f1, red, 4) == 0);
        CHECK(memcmp(f2, red, 4 * 4 * 4 - 4) == 0);         /* PREVIOUS restored the red */
        CHECK(memcmp(f2 + 15 * 4, green, 4) == 0);
        CHECK(f3[15 * 4 + 3] == 0 && memcmp(f3, red, 4) == 0); /* BACKGROUND cleared (3,3); OVER kept (0,0) */
    } else {
        CHECK_MSG(0, "compose: %s", ildiff_last_error());
    }
    ildiff_anim_free(a);
    free(f.d), free(zr.d), free(zb.d), free(zg.d), free(zc.d);
}

/* ---- GIF ---- */

static void test_gif_roundtrip_exact(void)
{
    ildiff_anim *a = sample_anim(40, 30, true);
    ildiff_write_options o = opts_loop(3);
    uint8_t *data;
    size_t n;
    ildiff_anim *b = roundtrip(a, ILDIFF_FORMAT_GIF, &o, &data, &n);
    CHECK(same_shape(a, b));
    if (same_shape(a, b)) {
        bool ok = true;
        for (size_t i = 0; i < (size_t)40 * 30 * 4; i++) {
            const uint8_t *p = a->rgba + i * 4, *q = b->rgba + i * 4;
            ok = ok && p[3] == q[3] && (p[3] == 0 || memcmp(p, q, 3) == 0);
        }
        CHECK_MSG(ok, "GIF pixels differ for a few-colour, hard-alpha animation");
        for (int i = 0; i < 4; i++) CHECK(b->durations_ms[i] == sample_ms[i]);
        CHECK(b->loop_count == 3 && b->source_has_alpha);
    }
    free(data);
    ildiff_anim_free(b);
    o = opts_loop(1); /* play once: no NETSCAPE extension */
    b = roundtrip(a, ILDIFF_FORMAT_GIF, &o, &data, &n);
    CHECK(b && b->loop_count == 1 && !memmem(data, n, "NETSCAPE", 8));
    free(data);
    ildiff_anim_free(b);
    o = opts_loop(0);
    a->durations_ms[0] = 5; /* shorter than 2 cs: written as 2 cs */
    b = roundtrip(a, ILDIFF_FORMAT_GIF, &o, NULL, NULL);
    CHECK(b && b->loop_count == 0 && b->durations_ms[0] == 20);
    ildiff_anim_free(b);
    ildiff_anim_free(a);
}

static void test_gif_alpha_modes(void)
{
    ildiff_anim *a = sample_anim(48, 32, false);
    ildiff_write_options o = ildiff_write_options_default();
    o.gif_threshold = 100;
    ildiff_anim *b = roundtrip(a, ILDIFF_FORMAT_GIF, &o, NULL, NULL);
    if (same_shape(a, b)) {
        size_t bad = 0;
        double err = 0;
        size_t opaque = 0;
        for (size_t i = 0; i < (size_t)48 * 32 * 4; i++) {
            const uint8_t *p = a->rgba + i * 4, *q = b->rgba + i * 4;
            bad += q[3] != (p[3] >= 100 ? 255 : 0);
            if (p[3] == 255) err += abs(p[0] - q[0]) + abs(p[1] - q[1]) + abs(p[2] - q[2]), opaque++;
        }
        CHECK(bad == 0);
        CHECK_MSG(err / (3.0 * (double)opaque) < 3.0, "mean colour error %.2f", err / (3.0 * (double)opaque));
    } else {
        CHECK(0);
    }
    ildiff_anim_free(b);
    ildiff_anim_free(a);
    /* constant alpha 128 red over a blue matte: dithered to about half, colour matted */
    ildiff_anim_new(16, 16, 1, 100, &a);
    for (int i = 0; i < 256; i++) memcpy(a->rgba + i * 4, (uint8_t[]){255, 0, 0, 128}, 4);
    o.gif_alpha = ILDIFF_GIF_ALPHA_DITHER;
    o.matte[0] = 0, o.matte[1] = 0, o.matte[2] = 255;
    b = roundtrip(a, ILDIFF_FORMAT_GIF, &o, NULL, NULL);
    if (b) {
        int on = 0;
        bool colour_ok = true;
        for (int i = 0; i < 256; i++) {
            const uint8_t *q = b->rgba + i * 4;
            on += q[3] == 255;
            if (q[3] == 255) colour_ok = colour_ok && q[0] == 128 && q[1] == 0 && q[2] == 127;
            CHECK(q[3] == 0 || q[3] == 255);
        }
        CHECK_MSG(on == 128, "%d of 256 dithered pixels opaque", on);
        CHECK(colour_ok);
    }
    ildiff_anim_free(b);
    ildiff_anim_free(a);
    o.gif_alpha = ILDIFF_GIF_ALPHA_THRESHOLD;
    o.gif_threshold = 0;
    ildiff_anim_new(2, 2, 1, 100, &a);
    uint8_t *data;
    size_t n;
    CHECK(ildiff_anim_encode(a, ILDIFF_FORMAT_GIF, &o, &data, &n) == ILDIFF_ERR_ARG);
    ildiff_anim_free(a);
}

static void test_gif_many_colours(void)
{
    ildiff_anim *a = NULL;
    ildiff_anim_new(64, 64, 2, 100, &a);
    for (int f = 0; f < 2; f++)
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) {
                uint8_t *p = ildiff_anim_frame(a, f) + (y * 64 + x) * 4;
                p[0] = (uint8_t)(x * 4), p[1] = (uint8_t)(y * 4), p[2] = (uint8_t)((x + y) * 2 + f * 50), p[3] = 255;
            }
    ildiff_anim *b = roundtrip(a, ILDIFF_FORMAT_GIF, NULL, NULL, NULL);
    if (same_shape(a, b)) {
        double err = 0;
        int worst = 0;
        for (size_t i = 0; i < (size_t)64 * 64 * 2 * 4; i++)
            if (i % 4 != 3) {
                int d = abs(a->rgba[i] - b->rgba[i]);
                err += d;
                worst = d > worst ? d : worst;
            }
        err /= 64.0 * 64 * 2 * 3;
        CHECK_MSG(err < 6.0 && worst < 48, "median cut: mean error %.2f, worst %d", err, worst);
        CHECK(!ildiff_anim_has_alpha(b));
    } else {
        CHECK(0);
    }
    ildiff_anim_free(b);
    ildiff_anim_free(a);
}

/* ---- WebP ---- */

static void test_webp_roundtrip(void)
{
    ildiff_anim *a = sample_anim(40, 30, false);
    ildiff_write_options o = opts_loop(2);
    o.lossless = true;
    ildiff_anim *b = roundtrip(a, ILDIFF_FORMAT_WEBP, &o, NULL, NULL);
    CHECK(same_shape(a, b));
    if (same_shape(a, b)) {
        bool ok = true;
        for (size_t i = 0; i < (size_t)40 * 30 * 4; i++) {
            const uint8_t *p = a->rgba + i * 4, *q = b->rgba + i * 4;
            ok = ok && p[3] == q[3] && (p[3] == 0 || memcmp(p, q, 3) == 0);
        }
        CHECK_MSG(ok, "lossless WebP changed pixels");
        for (int i = 0; i < 4; i++) CHECK(b->durations_ms[i] == sample_ms[i]);
        CHECK(b->loop_count == 2 && b->source_has_alpha && b->source == ILDIFF_FORMAT_WEBP);
    }
    ildiff_anim_free(b);
    o = ildiff_write_options_default(); /* lossy, alpha_quality 100; odd key-frame settings are fixed up */
    o.quality = 80;
    o.kmin = 9, o.kmax = 4;
    b = roundtrip(a, ILDIFF_FORMAT_WEBP, &o, NULL, NULL);
    if (same_shape(a, b)) {
        double err = 0;
        size_t n = 0, alpha_bad = 0;
        for (size_t i = 0; i < (size_t)40 * 30 * 4; i++) {
            const uint8_t *p = a->rgba + i * 4, *q = b->rgba + i * 4;
            alpha_bad += abs(p[3] - q[3]) > 2;
            if (p[3] == 255) err += abs(p[0] - q[0]) + abs(p[1] - q[1]) + abs(p[2] - q[2]), n++;
        }
        CHECK(alpha_bad == 0);
        CHECK_MSG(err / (3.0 * (double)n) < 8.0, "lossy mean error %.2f", err / (3.0 * (double)n));
        CHECK(b->loop_count == 0);
    } else {
        CHECK(0);
    }
    ildiff_anim_free(b);
    a->frame_count = 1; /* a still WebP */
    a->durations_ms[0] = 100;
    b = roundtrip(a, ILDIFF_FORMAT_WEBP, NULL, NULL, NULL);
    CHECK(b && b->frame_count == 1 && b->durations_ms[0] == 100);
    ildiff_anim_free(b);
    uint8_t *data;
    size_t n;
    o.quality = 101;
    CHECK(ildiff_anim_encode(a, ILDIFF_FORMAT_WEBP, &o, &data, &n) == ILDIFF_ERR_ARG);
    ildiff_anim_free(a);
}

/* ---- JPEG ---- */

static uint8_t *jpeg_encode(const uint8_t *px, int w, int h, int comps, size_t *n)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &buf, &size);
    c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h, c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *n = size;
    return buf;
}

static void test_jpeg(void)
{
    enum { W = 33, H = 17 };
    uint8_t rgb[H * W * 3];
    for (int i = 0; i < W * H; i++) rgb[i * 3] = (uint8_t)(i % W * 7), rgb[i * 3 + 1] = (uint8_t)(i / W * 14), rgb[i * 3 + 2] = 90;
    size_t n;
    uint8_t *jpg = jpeg_encode(rgb, W, H, 3, &n);
    ildiff_anim *a = NULL;
    CHECK_OK(ildiff_anim_read_memory(jpg, n, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    if (a) {
        double err = 0;
        for (int i = 0; i < W * H; i++)
            for (int c = 0; c < 3; c++) err += abs(a->rgba[i * 4 + c] - rgb[i * 3 + c]);
        CHECK_MSG(err / (W * H * 3) < 4.0, "JPEG mean error %.2f", err / (W * H * 3));
        CHECK(a->width == W && a->height == H && a->frame_count == 1 && !ildiff_anim_has_alpha(a));
        CHECK(a->source == ILDIFF_FORMAT_JPEG);
    }
    ildiff_anim_free(a);
    CHECK(ildiff_anim_read_memory(jpg, n / 2, ILDIFF_FORMAT_UNKNOWN, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    CHECK(ildiff_anim_read_memory(jpg, 300, ILDIFF_FORMAT_UNKNOWN, NULL, &a) == ILDIFF_ERR_FORMAT && !a);
    ildiff_limits lim = ildiff_limits_default();
    lim.max_width = W - 1;
    CHECK(ildiff_anim_read_memory(jpg, n, ILDIFF_FORMAT_UNKNOWN, &lim, &a) == ILDIFF_ERR_LIMIT && !a);
    free(jpg);
    uint8_t grey[W * H];
    for (int i = 0; i < W * H; i++) grey[i] = (uint8_t)(i % 200);
    jpg = jpeg_encode(grey, W, H, 1, &n);
    CHECK_OK(ildiff_anim_read_memory(jpg, n, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    if (a) CHECK(a->rgba[40 * 4] == a->rgba[40 * 4 + 1] && a->rgba[40 * 4 + 3] == 255);
    ildiff_anim_free(a);
    free(jpg);
    uint8_t cmyk[8 * 8 * 4]; /* libjpeg writes an Adobe marker: stored values are inverted CMYK, here magenta */
    for (int i = 0; i < 64; i++) memcpy(cmyk + i * 4, (uint8_t[]){255, 0, 255, 255}, 4);
    jpg = jpeg_encode(cmyk, 8, 8, 4, &n);
    CHECK_OK(ildiff_anim_read_memory(jpg, n, ILDIFF_FORMAT_UNKNOWN, NULL, &a));
    if (a) {
        CHECK_NEAR(a->rgba[0], 255, 3);
        CHECK_NEAR(a->rgba[1], 0, 3);
        CHECK_NEAR(a->rgba[2], 255, 3);
    }
    ildiff_anim_free(a);
    free(jpg);
}

/* ---- frame folders ---- */

static void test_frames_dir(void)
{
    char dir[512], file[600];
    tmp_path(dir, sizeof dir, "frames_dir");
    run_cmd("rm -rf '%s'", dir);
    ildiff_anim *a = sample_anim(20, 10, false), *b = NULL;
    CHECK_OK(ild_frames_write(a, dir, false));
    CHECK(ild_frames_write(a, dir, false) == ILDIFF_ERR_EXISTS);
    CHECK_OK(ildiff_anim_read(dir, NULL, &b));
    CHECK(same_shape(a, b) && memcmp(a->rgba, b->rgba, (size_t)20 * 10 * 4 * 4) == 0);
    CHECK(b && b->durations_ms[0] == 40 && b->source == ILDIFF_FORMAT_FRAMES);
    ildiff_anim_free(b);
    a->frame_count = 2;
    CHECK_OK(ild_frames_write(a, dir, true)); /* replaces our own folder */
    CHECK_OK(ildiff_anim_read(dir, NULL, &b));
    CHECK(b && b->frame_count == 2);
    ildiff_anim_free(b);
    snprintf(file, sizeof file, "%s/notes.txt", dir); /* someone else's file: never replaced */
    CHECK_OK(ildiff_write_file_atomic(file, (const uint8_t *)"x", 1, false));
    CHECK(ild_frames_write(a, dir, true) == ILDIFF_ERR_EXISTS);
    CHECK(access(file, F_OK) == 0);
    ildiff_limits lim = ildiff_limits_default();
    lim.max_frames = 1;
    CHECK(ildiff_anim_read(dir, &lim, &b) == ILDIFF_ERR_LIMIT && !b);
    uint8_t *png;
    size_t n; /* natural order: f2 before f10; a frame of another size is named in the error */
    run_cmd("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    CHECK_OK(ild_png_encode_rgba(ildiff_anim_frame(a, 1), 20, 10, &png, &n));
    snprintf(file, sizeof file, "%s/f10.png", dir);
    CHECK_OK(ildiff_write_file_atomic(file, png, n, false));
    free(png);
    CHECK_OK(ild_png_encode_rgba(ildiff_anim_frame(a, 0), 20, 10, &png, &n));
    snprintf(file, sizeof file, "%s/f2.PNG", dir);
    CHECK_OK(ildiff_write_file_atomic(file, png, n, false));
    free(png);
    CHECK_OK(ildiff_anim_read(dir, NULL, &b));
    CHECK(b && b->frame_count == 2 && memcmp(b->rgba, a->rgba, (size_t)20 * 10 * 4 * 2) == 0);
    ildiff_anim_free(b);
    CHECK_OK(ild_png_encode_rgba(a->rgba, 10, 20, &png, &n));
    snprintf(file, sizeof file, "%s/f3.png", dir);
    CHECK_OK(ildiff_write_file_atomic(file, png, n, false));
    free(png);
    CHECK(ildiff_anim_read(dir, NULL, &b) == ILDIFF_ERR_FORMAT && !b);
    CHECK(strstr(ildiff_last_error(), "f3.png") != NULL);
    run_cmd("rm -rf '%s' && mkdir -p '%s'", dir, dir);
    CHECK(ildiff_anim_read(dir, NULL, &b) == ILDIFF_ERR_FORMAT && !b);
    run_cmd("rm -rf '%s'", dir);
    ildiff_anim_free(a);
}

int main(void)
{
    ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    RUN(test_apng_roundtrip);
    RUN(test_png_still_and_opaque);
    RUN(test_png_libpng_variants);
    RUN(test_apng_compose);
    RUN(test_gif_roundtrip_exact);
    RUN(test_gif_alpha_modes);
    RUN(test_gif_many_colours);
    RUN(test_webp_roundtrip);
    RUN(test_jpeg);
    RUN(test_frames_dir);
    return check_done();
}
