/*
 * png_write.c: PNG and APNG encoders with our own chunk writer (zlib deflate + crc32; Debian's libpng has no APNG).
 *
 *   ild_apng_encode:     an animation as APNG: IHDR, acTL, then per frame fcTL + IDAT (frame 0) or fdAT. Frame 0 is
 *                        the full canvas; each later frame is the rectangle that changed since the previous one,
 *                        written with dispose NONE and blend SOURCE, so every frame replaces its pixels exactly.
 *                        Loops forever (num_plays 0) unless opts->loop_count >= 0. A one-frame animation is written
 *                        as a plain PNG. Colour type RGBA, or RGB when every pixel is opaque.
 *   ild_png_encode_rgba: one RGBA image as a still PNG.
 *   ild_png_encode_grey: one 8-bit grey image as a still PNG.
 *
 * Rows are filtered with the filter (of the five) that minimises the sum of absolute filtered bytes, then deflated:
 * APNG stickers at level 9 (their byte limits matter; about 3% smaller), still frames at level 6 (frame folders, the
 * corpus and reports write many; level 9 measured 3.7x slower for 16 frames at 256x256). Every function fills *out (malloc'd, caller frees) or fails with nothing allocated.
 */
#include "io.h"

#include <string.h>
#include <zlib.h>

#define CHUNK_MAX ((size_t)1 << 20) /* IDAT / fdAT payload split */

typedef struct pngbuf {
    uint8_t *data;
    size_t size, cap;
} pngbuf;

static bool buf_reserve(pngbuf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->size) return false;
    size_t need = b->size + extra;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return false;
    b->data = p;
    b->cap = cap;
    return true;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Appends one chunk whose payload is `head` (head_len bytes, e.g. a sequence number) followed by `data`. */
static bool put_chunk(pngbuf *b, const char *type, const uint8_t *head, size_t head_len, const uint8_t *data, size_t len)
{
    size_t payload = head_len + len;
    if (payload > 0x7fffffffu || !buf_reserve(b, payload + 12)) return false;
    uint8_t *p = b->data + b->size;
    put_u32(p, (uint32_t)payload);
    memcpy(p + 4, type, 4);
    if (head_len) memcpy(p + 8, head, head_len);
    if (len) memcpy(p + 8 + head_len, data, len);
    uLong crc = crc32(0L, p + 4, (uInt)(4 + head_len));
    for (size_t off = 0; off < len;) { /* crc32 takes uInt lengths */
        size_t step = ILD_MIN(len - off, (size_t)1 << 30);
        crc = crc32(crc, data + off, (uInt)step);
        off += step;
    }
    put_u32(p + 8 + payload, (uint32_t)crc);
    b->size += payload + 12;
    return true;
}

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c)
{
    int p = (int)a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (pa <= pb && pa <= pc) ? a : pb <= pc ? b : c;
}

/* Writes filter type + filtered row (len bytes, bpp bytes per pixel) to dst, choosing the cheapest filter. */
static void filter_row(uint8_t *dst, const uint8_t *cur, const uint8_t *prev, size_t len, size_t bpp, uint8_t *scratch)
{
    uint64_t best_cost = UINT64_MAX;
    for (int f = 0; f < 5; f++) {
        uint64_t cost = 0;
        for (size_t i = 0; i < len; i++) {
            uint8_t a = i >= bpp ? cur[i - bpp] : 0, b = prev ? prev[i] : 0, c = (i >= bpp && prev) ? prev[i - bpp] : 0;
            uint8_t v = cur[i];
            switch (f) {
            case 1: v = (uint8_t)(v - a); break;
            case 2: v = (uint8_t)(v - b); break;
            case 3: v = (uint8_t)(v - ((a + b) >> 1)); break;
            case 4: v = (uint8_t)(v - paeth(a, b, c)); break;
            default: break;
            }
            scratch[i] = v;
            cost += (uint64_t)abs((int8_t)v);
        }
        if (cost < best_cost) {
            best_cost = cost;
            dst[0] = (uint8_t)f;
            memcpy(dst + 1, scratch, len);
        }
    }
}

enum { LEVEL_ANIMATION = 9, LEVEL_STILL = 6 };

/* Filters and deflates (zlib `level`) a w x h rectangle whose first pixel is `px` (row stride `stride` bytes, `src_ch` bytes per
 * source pixel, of which the first `out_ch` are kept). *z is malloc'd. */
static ildiff_status compress_rect(const uint8_t *px, size_t stride, size_t w, size_t h, size_t src_ch, size_t out_ch,
                                   int level, uint8_t **z, size_t *zn)
{
    *z = NULL;
    size_t row_len, raw_len;
    if (!ild_mul_size(&row_len, w, out_ch) || !ild_mul_size(&raw_len, row_len + 1, h) || raw_len > 0xffffffffu)
        return ild_fail(ILDIFF_ERR_LIMIT, "image too large for PNG");
    uint8_t *raw = malloc(raw_len), *rows = malloc(row_len * 3);
    if (!raw || !rows) {
        free(raw);
        free(rows);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory encoding PNG");
    }
    uint8_t *cur = rows, *prev = rows + row_len, *scratch = rows + 2 * row_len;
    for (size_t y = 0; y < h; y++) {
        const uint8_t *s = px + y * stride;
        for (size_t x = 0; x < w; x++) memcpy(cur + x * out_ch, s + x * src_ch, out_ch);
        filter_row(raw + y * (row_len + 1), cur, y ? prev : NULL, row_len, out_ch, scratch);
        uint8_t *t = prev;
        prev = cur;
        cur = t;
    }
    free(rows);
    uLong bound = compressBound((uLong)raw_len);
    uint8_t *buf = malloc(bound);
    if (!buf) {
        free(raw);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory encoding PNG");
    }
    uLongf got = bound;
    int zs = compress2(buf, &got, raw, (uLong)raw_len, level);
    free(raw);
    if (zs != Z_OK) {
        free(buf);
        return ild_fail(ILDIFF_ERR_INTERNAL, "zlib compress failed (%d)", zs);
    }
    *z = buf;
    *zn = got;
    return ILDIFF_OK;
}

/* Appends the deflated data as IDAT chunks (seq == NULL) or fdAT chunks numbered from *seq. */
static bool put_data_chunks(pngbuf *b, const uint8_t *z, size_t zn, uint32_t *seq)
{
    size_t off = 0;
    do {
        size_t n = ILD_MIN(zn - off, CHUNK_MAX);
        uint8_t head[4];
        bool ok;
        if (seq) {
            put_u32(head, (*seq)++);
            ok = put_chunk(b, "fdAT", head, 4, z + off, n);
        } else {
            ok = put_chunk(b, "IDAT", NULL, 0, z + off, n);
        }
        if (!ok) return false;
        off += n;
    } while (off < zn);
    return true;
}

static bool put_header(pngbuf *b, uint32_t w, uint32_t h, uint8_t colour_type)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!buf_reserve(b, 8)) return false;
    memcpy(b->data + b->size, sig, 8);
    b->size += 8;
    uint8_t ihdr[13] = {0};
    put_u32(ihdr, w);
    put_u32(ihdr + 4, h);
    ihdr[8] = 8;
    ihdr[9] = colour_type;
    return put_chunk(b, "IHDR", NULL, 0, ihdr, 13);
}

static ildiff_status finish(pngbuf *b, bool ok, uint8_t **out, size_t *out_size)
{
    if (ok) ok = put_chunk(b, "IEND", NULL, 0, NULL, 0);
    if (!ok) {
        free(b->data);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory writing PNG");
    }
    *out = b->data;
    *out_size = b->size;
    return ILDIFF_OK;
}

/* A still PNG of a w x h image with `ch` bytes per source pixel, keeping the first `out_ch`, deflated at `level`. */
static ildiff_status encode_still(const uint8_t *px, int32_t w, int32_t h, size_t ch, size_t out_ch, uint8_t colour_type,
                                  int level, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    if (!px || w <= 0 || h <= 0) return ild_fail(ILDIFF_ERR_ARG, "invalid image %dx%d", w, h);
    uint8_t *z;
    size_t zn;
    ildiff_status st = compress_rect(px, (size_t)w * ch, (size_t)w, (size_t)h, ch, out_ch, level, &z, &zn);
    if (st != ILDIFF_OK) return st;
    pngbuf b = {0};
    bool ok = put_header(&b, (uint32_t)w, (uint32_t)h, colour_type) && put_data_chunks(&b, z, zn, NULL);
    free(z);
    return finish(&b, ok, out, out_size);
}

ildiff_status ild_png_encode_rgba(const uint8_t *rgba, int32_t width, int32_t height, uint8_t **out, size_t *out_size)
{
    return encode_still(rgba, width, height, 4, 4, 6, LEVEL_STILL, out, out_size);
}

ildiff_status ild_png_encode_grey(const uint8_t *grey, int32_t width, int32_t height, uint8_t **out, size_t *out_size)
{
    return encode_still(grey, width, height, 1, 1, 0, LEVEL_STILL, out, out_size);
}

/* The bounding box of pixels that differ between frames a and b, (x, y, w, h); a 1x1 box when none differ. */
static void changed_rect(const uint8_t *a, const uint8_t *b, size_t W, size_t H, size_t r[4])
{
    size_t x0 = W, y0 = H, x1 = 0, y1 = 0;
    for (size_t y = 0; y < H; y++) {
        const uint32_t *ra = (const uint32_t *)(const void *)(a + y * W * 4);
        const uint32_t *rb = (const uint32_t *)(const void *)(b + y * W * 4);
        for (size_t x = 0; x < W; x++)
            if (ra[x] != rb[x]) {
                x0 = ILD_MIN(x0, x);
                x1 = ILD_MAX(x1, x);
                y0 = ILD_MIN(y0, y);
                y1 = ILD_MAX(y1, y);
            }
    }
    if (x0 == W) {
        r[0] = r[1] = 0;
        r[2] = r[3] = 1;
        return;
    }
    r[0] = x0;
    r[1] = y0;
    r[2] = x1 - x0 + 1;
    r[3] = y1 - y0 + 1;
}

static bool put_fctl(pngbuf *b, uint32_t *seq, const size_t r[4], int32_t ms)
{
    uint8_t f[26];
    put_u32(f, (*seq)++);
    put_u32(f + 4, (uint32_t)r[2]);
    put_u32(f + 8, (uint32_t)r[3]);
    put_u32(f + 12, (uint32_t)r[0]);
    put_u32(f + 16, (uint32_t)r[1]);
    if (ms <= 65535) {
        put_u16(f + 20, (uint32_t)ILD_MAX(ms, 1));
        put_u16(f + 22, 1000);
    } else { /* centiseconds, up to about 11 minutes */
        put_u16(f + 20, (uint32_t)ILD_MIN(((int64_t)ms + 5) / 10, 65535));
        put_u16(f + 22, 100);
    }
    f[24] = 0; /* APNG_DISPOSE_OP_NONE */
    f[25] = 0; /* APNG_BLEND_OP_SOURCE */
    return put_chunk(b, "fcTL", NULL, 0, f, 26);
}

ildiff_status ild_apng_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    bool alpha = ildiff_anim_has_alpha(anim);
    size_t ch = alpha ? 4 : 3;
    uint8_t colour_type = alpha ? 6 : 2;
    if (anim->frame_count == 1)
        return encode_still(anim->rgba, anim->width, anim->height, 4, ch, colour_type, LEVEL_ANIMATION, out, out_size);

    size_t W = (size_t)anim->width, H = (size_t)anim->height;
    pngbuf b = {0};
    bool ok = put_header(&b, (uint32_t)W, (uint32_t)H, colour_type);
    uint8_t actl[8];
    put_u32(actl, (uint32_t)anim->frame_count);
    put_u32(actl + 4, (uint32_t)(opts->loop_count >= 0 ? opts->loop_count : 0));
    ok = ok && put_chunk(&b, "acTL", NULL, 0, actl, 8);
    uint32_t seq = 0;
    for (int32_t i = 0; ok && i < anim->frame_count; i++) {
        const uint8_t *frame = ildiff_anim_frame(anim, i);
        size_t r[4] = {0, 0, W, H};
        if (i > 0) changed_rect(ildiff_anim_frame(anim, i - 1), frame, W, H, r);
        uint8_t *z;
        size_t zn;
        ildiff_status st = compress_rect(frame + (r[1] * W + r[0]) * 4, W * 4, r[2], r[3], 4, ch, LEVEL_ANIMATION, &z, &zn);
        if (st != ILDIFF_OK) {
            free(b.data);
            return st;
        }
        ok = put_fctl(&b, &seq, r, anim->durations_ms[i]) && put_data_chunks(&b, z, zn, i == 0 ? NULL : &seq);
        free(z);
    }
    return finish(&b, ok, out, out_size);
}
