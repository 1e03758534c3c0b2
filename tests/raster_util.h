/*
 * raster_util.h: helpers for the raster format tests (test_io_raster.c, test_io_raster_bad.c): sample
 * animations, scratch paths, external tools, and byte builders for hand-made GIF and APNG files (raw LZW codes,
 * PNG chunks with CRCs) so tests can produce exactly the structures they need.
 */
#ifndef ILDIFF_RASTER_UTIL_H
#define ILDIFF_RASTER_UTIL_H

#include "check.h"
#include "ildiff.h"
#include "io/io.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const int32_t sample_ms[4] = {40, 70, 100, 250};

/* 4 frames, w x h: a transparent background, an opaque square moving right, a soft-edged disc (alpha ramps).
 * hard = true keeps alpha at 0/255 and few colours (GIF-exact). */
static inline ildiff_anim *sample_anim(int32_t w, int32_t h, bool hard)
{
    ildiff_anim *a = NULL;
    if (ildiff_anim_new(w, h, 4, 10, &a) != ILDIFF_OK) return NULL;
    for (int32_t i = 0; i < 4; i++) {
        a->durations_ms[i] = sample_ms[i];
        uint8_t *f = ildiff_anim_frame(a, i);
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                uint8_t *p = f + ((size_t)y * w + x) * 4;
                double dx = x - w * 0.6, dy = y - h * 0.5, d = sqrt(dx * dx + dy * dy), r = h * 0.3;
                if (x >= 2 + 3 * i && x < 10 + 3 * i && y >= 2 && y < 10) {
                    p[0] = 200, p[1] = (uint8_t)(40 * i), p[2] = 30, p[3] = 255;
                } else if (d < r) {
                    double t = hard ? 1.0 : ILD_CLAMP((r - d) / 4.0, 0.0, 1.0);
                    p[0] = hard ? 20 : (uint8_t)(x * 5), p[1] = hard ? 180 : (uint8_t)(y * 7), p[2] = (uint8_t)(60 + 20 * i);
                    p[3] = (uint8_t)lround(255 * t);
                }
            }
    }
    a->loop_count = 0;
    return a;
}

static inline char *tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/raster_%d_%s", CHECK_TMPDIR(), (int)getpid(), name);
    return buf;
}

static inline bool have_tool(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Runs a shell command; returns its exit status (-1 if it could not run). */
__attribute__((format(printf, 1, 2))) static inline int run_cmd(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* Runs a command and returns its stdout (malloc'd, NUL-terminated) or NULL. */
__attribute__((format(printf, 1, 2))) static inline char *capture_cmd(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    size_t got;
    while (s && (got = fread(s + n, 1, cap - 1 - n, p)) > 0) n += got;
    pclose(p);
    if (s) s[n] = 0;
    return s;
}

/* ---- a growable byte buffer for hand-made files ---- */

typedef struct bytes {
    uint8_t *d;
    size_t n, cap;
} bytes;

static inline void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static inline void put8(bytes *b, unsigned v) { uint8_t c = (uint8_t)v; put(b, &c, 1); }
static inline void put16le(bytes *b, unsigned v) { put8(b, v & 0xff), put8(b, v >> 8); }
static inline void put32be(bytes *b, uint32_t v) { put8(b, v >> 24), put8(b, v >> 16), put8(b, v >> 8), put8(b, v); }

/* ---- GIF pieces ---- */

/* Header + logical screen; `gct` colours (a power of two 2..256) or 0 for no global table. */
static inline void gif_screen(bytes *b, int w, int h, const uint8_t (*pal)[3], int gct)
{
    put(b, "GIF89a", 6);
    put16le(b, (unsigned)w), put16le(b, (unsigned)h);
    int bits = 0;
    while ((2 << bits) < gct) bits++;
    put8(b, gct ? 0x80 | 0x70 | (unsigned)bits : 0x70);
    put8(b, 0), put8(b, 0);
    for (int i = 0; i < gct; i++) put(b, pal[i], 3);
}

static inline void gif_loop(bytes *b, unsigned n)
{
    put8(b, 0x21), put8(b, 0xff), put8(b, 11);
    put(b, "NETSCAPE2.0", 11);
    put8(b, 3), put8(b, 1), put16le(b, n), put8(b, 0);
}

static inline void gif_gce(bytes *b, int disposal, int delay_cs, int trans)
{
    put8(b, 0x21), put8(b, 0xf9), put8(b, 4);
    put8(b, (unsigned)(disposal << 2 | (trans >= 0 ? 1 : 0)));
    put16le(b, (unsigned)delay_cs), put8(b, trans >= 0 ? (unsigned)trans : 0), put8(b, 0);
}

/* Image descriptor, optional local table, then `idx` (w*h indices, rows in file order) as raw 8-bit LZW codes:
 * a clear code every 200 codes keeps the code width at 9 bits, so no compression logic is needed. */
static inline void gif_image(bytes *b, int x, int y, int w, int h, bool interlace, const uint8_t (*lct)[3], int nlct,
                      const uint8_t *idx)
{
    put8(b, 0x2c);
    put16le(b, (unsigned)x), put16le(b, (unsigned)y), put16le(b, (unsigned)w), put16le(b, (unsigned)h);
    int bits = 0;
    while ((2 << bits) < nlct) bits++;
    put8(b, (nlct ? 0x80 | (unsigned)bits : 0) | (interlace ? 0x40 : 0));
    for (int i = 0; i < nlct; i++) put(b, lct[i], 3);
    put8(b, 8); /* LZW minimum code size */
    bytes codes = {0};
    uint32_t acc = 0;
    int nbits = 0;
#define EMIT(c)                                                                                                        \
    do {                                                                                                               \
        acc |= (uint32_t)(c) << nbits;                                                                                 \
        nbits += 9;                                                                                                    \
        while (nbits >= 8) put8(&codes, acc & 0xff), acc >>= 8, nbits -= 8;                                          \
    } while (0)
    EMIT(256);
    for (size_t i = 0, run = 0; i < (size_t)w * (size_t)h; i++, run++) {
        if (run == 200) {
            EMIT(256);
            run = 0;
        }
        EMIT(idx[i]);
    }
    EMIT(257);
#undef EMIT
    if (nbits) put8(&codes, acc & 0xff);
    for (size_t off = 0; off < codes.n; off += 255) {
        size_t k = codes.n - off < 255 ? codes.n - off : 255;
        put8(b, (unsigned)k);
        put(b, codes.d + off, k);
    }
    put8(b, 0);
    free(codes.d);
}

/* ---- PNG pieces ---- */

static inline void png_chunk(bytes *b, const char *type, const uint8_t *data, size_t n)
{
    put32be(b, (uint32_t)n);
    size_t start = b->n;
    put(b, type, 4);
    if (n) put(b, data, n);
    put32be(b, (uint32_t)crc32(0, b->d + start, (uInt)(n + 4)));
}

/* The concatenated IDAT payload of a still RGBA PNG of (h, w, 4) pixels made by our encoder. */
static inline bytes idat_of(const uint8_t *rgba, int w, int h)
{
    bytes out = {0};
    uint8_t *png;
    size_t n;
    if (ild_png_encode_rgba(rgba, w, h, &png, &n) != ILDIFF_OK) return out;
    for (size_t p = 8; p + 12 <= n;) {
        uint32_t len = (uint32_t)png[p] << 24 | (uint32_t)png[p + 1] << 16 | (uint32_t)png[p + 2] << 8 | png[p + 3];
        if (!memcmp(png + p + 4, "IDAT", 4)) put(&out, png + p + 8, len);
        p += 12 + len;
    }
    free(png);
    return out;
}

static inline void png_start(bytes *b, uint32_t w, uint32_t h, unsigned colour_type)
{
    put(b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                        (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h, 8, (uint8_t)colour_type};
    png_chunk(b, "IHDR", ihdr, 13);
}

static inline void apng_fctl(bytes *b, uint32_t seq, uint32_t w, uint32_t h, uint32_t x, uint32_t y, unsigned num, unsigned den,
                      unsigned dispose, unsigned blend)
{
    bytes f = {0};
    put32be(&f, seq), put32be(&f, w), put32be(&f, h), put32be(&f, x), put32be(&f, y);
    put8(&f, num >> 8), put8(&f, num), put8(&f, den >> 8), put8(&f, den), put8(&f, dispose), put8(&f, blend);
    png_chunk(b, "fcTL", f.d, f.n);
    free(f.d);
}

static inline void apng_fdat(bytes *b, uint32_t seq, const bytes *z)
{
    bytes f = {0};
    put32be(&f, seq);
    put(&f, z->d, z->n);
    png_chunk(b, "fdAT", f.d, f.n);
    free(f.d);
}

#endif
