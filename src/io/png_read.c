/*
 * png_read.c: PNG and APNG reader. We walk the chunks ourselves (Debian's libpng has no APNG): IHDR, PLTE, tRNS,
 * acTL, fcTL, IDAT, fdAT, IEND, checking each chunk's CRC and length against the file. Each frame's compressed data
 * is wrapped in a synthetic PNG (IHDR with the frame size, PLTE, tRNS, one IDAT, IEND) that libpng decodes to RGBA8
 * (palette, grey, 16-bit and interlaced images are all expanded). We then compose the frames on the canvas:
 * dispose ops NONE / BACKGROUND (clear to transparent) / PREVIOUS, blend ops SOURCE / OVER.
 *
 * A PNG without acTL is one frame of 100 ms. Rejected (ILDIFF_ERR_FORMAT): truncated files (no IEND), bad CRCs,
 * chunks out of order, fcTL rectangles outside the canvas, out-of-order sequence numbers, a frame count that differs
 * from acTL, frames without data. Ancillary chunks are ignored (no gamma or colour-profile conversion). Delays:
 * den 0 means 100; a delay of 0 becomes 1 ms. acTL num_plays is the loop count (0 = forever).
 */
#include "io.h"

#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <zlib.h>

#define STILL_MS 100

typedef struct span {
    const uint8_t *data;
    size_t len;
} span;

typedef struct apng_frame {
    uint32_t w, h, x, y;
    int32_t ms;
    uint8_t dispose, blend;
    size_t first, count; /* its data spans */
} apng_frame;

typedef struct png_parse {
    uint8_t ihdr[13];
    uint32_t width, height;
    span plte, trns;
    bool animated;         /* acTL seen before IDAT */
    uint32_t num_frames, num_plays;
    apng_frame *frames;    /* (num_frames) */
    uint32_t frames_seen;  /* fcTL chunks read */
    bool idat_is_frame0;   /* an fcTL came before IDAT */
    span *spans;           /* data spans of all frames, in order */
    size_t span_count, span_cap;
    size_t idat_first, idat_count; /* the IDAT spans */
} png_parse;

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static bool add_span(png_parse *p, const uint8_t *data, size_t len)
{
    if (p->span_count == p->span_cap) {
        size_t cap = p->span_cap ? p->span_cap * 2 : 16;
        span *s = realloc(p->spans, cap * sizeof *s);
        if (!s) return false;
        p->spans = s;
        p->span_cap = cap;
    }
    p->spans[p->span_count++] = (span){data, len};
    return true;
}

static ildiff_status parse_ihdr(png_parse *p, const uint8_t *d, size_t len, const ildiff_limits *lim)
{
    if (len != 13) return ild_fail(ILDIFF_ERR_FORMAT, "PNG IHDR has length %zu, expected 13", len);
    memcpy(p->ihdr, d, 13);
    p->width = be32(d);
    p->height = be32(d + 4);
    uint8_t depth = d[8], type = d[9];
    bool ok_depth = (type == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
                    (type == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
                    ((type == 2 || type == 4 || type == 6) && (depth == 8 || depth == 16));
    if (!ok_depth) return ild_fail(ILDIFF_ERR_FORMAT, "PNG colour type %d with bit depth %d is invalid", type, depth);
    if (d[10] != 0 || d[11] != 0 || d[12] > 1) return ild_fail(ILDIFF_ERR_FORMAT, "PNG IHDR has invalid methods");
    if (p->width > 0x7fffffffu || p->height > 0x7fffffffu) return ild_fail(ILDIFF_ERR_FORMAT, "PNG size out of range");
    return ild_check_dims(lim, p->width, p->height, 1);
}

static ildiff_status parse_actl(png_parse *p, const uint8_t *d, size_t len, const ildiff_limits *lim)
{
    if (len != 8) return ild_fail(ILDIFF_ERR_FORMAT, "APNG acTL has length %zu, expected 8", len);
    if (p->animated) return ild_fail(ILDIFF_ERR_FORMAT, "APNG has two acTL chunks");
    p->num_frames = be32(d);
    p->num_plays = be32(d + 4);
    if (p->num_frames == 0) return ild_fail(ILDIFF_ERR_FORMAT, "APNG acTL says zero frames");
    if (p->num_plays > INT32_MAX) return ild_fail(ILDIFF_ERR_FORMAT, "APNG num_plays out of range");
    ildiff_status st = ild_check_dims(lim, p->width, p->height, p->num_frames);
    if (st != ILDIFF_OK) return st;
    p->frames = calloc(p->num_frames, sizeof *p->frames);
    if (!p->frames) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    p->animated = true;
    return ILDIFF_OK;
}

static ildiff_status parse_fctl(png_parse *p, const uint8_t *d, size_t len, uint32_t *seq, bool before_idat)
{
    if (len != 26) return ild_fail(ILDIFF_ERR_FORMAT, "APNG fcTL has length %zu, expected 26", len);
    if (be32(d) != (*seq)++) return ild_fail(ILDIFF_ERR_FORMAT, "APNG sequence number %u out of order", be32(d));
    if (p->frames_seen >= p->num_frames)
        return ild_fail(ILDIFF_ERR_FORMAT, "APNG has more frames than the %u its acTL declares", p->num_frames);
    if (p->frames_seen > 0 && p->frames[p->frames_seen - 1].count == 0)
        return ild_fail(ILDIFF_ERR_FORMAT, "APNG frame %u has no image data", p->frames_seen - 1);
    apng_frame *f = &p->frames[p->frames_seen];
    f->w = be32(d + 4);
    f->h = be32(d + 8);
    f->x = be32(d + 12);
    f->y = be32(d + 16);
    uint16_t num = be16(d + 20), den = be16(d + 22);
    f->dispose = d[24];
    f->blend = d[25];
    if (f->w == 0 || f->h == 0 || f->x > p->width || f->y > p->height || f->w > p->width - f->x || f->h > p->height - f->y)
        return ild_fail(ILDIFF_ERR_FORMAT, "APNG frame %u (%ux%u at %u,%u) lies outside the %ux%u canvas", p->frames_seen,
                        f->w, f->h, f->x, f->y, p->width, p->height);
    if (f->dispose > 2 || f->blend > 1)
        return ild_fail(ILDIFF_ERR_FORMAT, "APNG frame %u has invalid dispose/blend ops", p->frames_seen);
    if (before_idat && (f->w != p->width || f->h != p->height || f->x || f->y))
        return ild_fail(ILDIFF_ERR_FORMAT, "APNG first frame must cover the whole canvas");
    if (p->frames_seen == 0 && f->dispose == 2) f->dispose = 1; /* PREVIOUS on the first frame acts as BACKGROUND */
    if (den == 0) den = 100;
    f->ms = (int32_t)(((int64_t)num * 1000 + den / 2) / den);
    if (f->ms < 1) f->ms = 1;
    f->first = p->span_count;
    if (before_idat) p->idat_is_frame0 = true;
    p->frames_seen++;
    return ILDIFF_OK;
}

/* Walks every chunk up to IEND and fills `p`. */
static ildiff_status parse_chunks(png_parse *p, const uint8_t *data, size_t size, const ildiff_limits *lim)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size < 8 || memcmp(data, sig, 8) != 0) return ild_fail(ILDIFF_ERR_FORMAT, "not a PNG file");
    size_t pos = 8;
    uint32_t seq = 0;
    bool seen_ihdr = false, seen_idat = false, idat_done = false;
    for (;;) {
        if (size - pos < 12) return ild_fail(ILDIFF_ERR_FORMAT, "truncated PNG (no IEND chunk)");
        uint32_t len = be32(data + pos);
        const uint8_t *type = data + pos + 4, *body = data + pos + 8;
        if (len > 0x7fffffffu || len > size - pos - 12) return ild_fail(ILDIFF_ERR_FORMAT, "truncated PNG chunk");
        bool critical = !(type[0] & 0x20);
        bool known = !memcmp(type, "IHDR", 4) || !memcmp(type, "PLTE", 4) || !memcmp(type, "tRNS", 4) ||
                     !memcmp(type, "IDAT", 4) || !memcmp(type, "IEND", 4) || !memcmp(type, "acTL", 4) ||
                     !memcmp(type, "fcTL", 4) || !memcmp(type, "fdAT", 4);
        if (known && (uint32_t)crc32(0L, type, len + 4) != be32(body + len))
            return ild_fail(ILDIFF_ERR_FORMAT, "PNG %.4s chunk has a bad CRC", (const char *)type);
        pos += 12 + (size_t)len;
        ildiff_status st = ILDIFF_OK;
        if (!seen_ihdr && memcmp(type, "IHDR", 4) != 0) return ild_fail(ILDIFF_ERR_FORMAT, "PNG does not start with IHDR");
        if (!memcmp(type, "IHDR", 4)) {
            if (seen_ihdr) return ild_fail(ILDIFF_ERR_FORMAT, "PNG has two IHDR chunks");
            seen_ihdr = true;
            st = parse_ihdr(p, body, len, lim);
        } else if (!memcmp(type, "IEND", 4)) {
            break;
        } else if (!memcmp(type, "PLTE", 4)) {
            if (seen_idat || len == 0 || len % 3 || len > 768) return ild_fail(ILDIFF_ERR_FORMAT, "invalid PNG PLTE chunk");
            p->plte = (span){body, len};
        } else if (!memcmp(type, "tRNS", 4)) {
            if (!seen_idat) p->trns = (span){body, len};
        } else if (!memcmp(type, "acTL", 4)) {
            if (!seen_idat) st = parse_actl(p, body, len, lim);
        } else if (!memcmp(type, "IDAT", 4)) {
            if (idat_done) return ild_fail(ILDIFF_ERR_FORMAT, "PNG IDAT chunks are not consecutive");
            if (!seen_idat) {
                seen_idat = true;
                p->idat_first = p->span_count;
            }
            if (!add_span(p, body, len)) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
            p->idat_count++;
            if (p->idat_is_frame0) p->frames[0].count++;
        } else if (p->animated && !memcmp(type, "fcTL", 4)) {
            if (seen_idat) idat_done = true;
            st = parse_fctl(p, body, len, &seq, !seen_idat);
        } else if (p->animated && !memcmp(type, "fdAT", 4)) {
            if (seen_idat) idat_done = true;
            if (len < 4) return ild_fail(ILDIFF_ERR_FORMAT, "APNG fdAT chunk too short");
            if (be32(body) != seq++) return ild_fail(ILDIFF_ERR_FORMAT, "APNG sequence number %u out of order", be32(body));
            if (p->frames_seen == 0 || (p->frames_seen == 1 && p->idat_is_frame0))
                return ild_fail(ILDIFF_ERR_FORMAT, "APNG fdAT chunk without a frame to belong to");
            if (!add_span(p, body + 4, len - 4)) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
            p->frames[p->frames_seen - 1].count++;
        } else if (critical && !known) {
            return ild_fail(ILDIFF_ERR_UNSUPPORTED, "PNG has an unknown critical chunk %.4s", (const char *)type);
        }
        if (st != ILDIFF_OK) return st;
    }
    if (!seen_idat) return ild_fail(ILDIFF_ERR_FORMAT, "PNG has no image data");
    if (p->ihdr[9] == 3 && !p->plte.data) return ild_fail(ILDIFF_ERR_FORMAT, "palette PNG without PLTE");
    if (p->animated) {
        if (p->frames_seen != p->num_frames)
            return ild_fail(ILDIFF_ERR_FORMAT, "APNG acTL declares %u frames but the file has %u", p->num_frames,
                            p->frames_seen);
        if (p->frames[p->frames_seen - 1].count == 0)
            return ild_fail(ILDIFF_ERR_FORMAT, "APNG frame %u has no image data", p->frames_seen - 1);
    }
    return ILDIFF_OK;
}

/* ---- decoding one frame through libpng ---- */

typedef struct mem_reader {
    const uint8_t *data;
    size_t size, pos;
    char message[160];
} mem_reader;

static void on_png_error(png_structp png, png_const_charp msg)
{
    mem_reader *r = png_get_error_ptr(png);
    snprintf(r->message, sizeof r->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) { ILD_DEBUG("libpng: %s", msg); }

static void on_png_read(png_structp png, png_bytep out, size_t n)
{
    mem_reader *r = png_get_io_ptr(png);
    if (n > r->size - r->pos) png_error(png, "unexpected end of PNG data");
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

/* Decodes a complete PNG stream of w x h pixels to RGBA8 rows in `rgba` (h, w, 4). */
static ildiff_status decode_stream(const uint8_t *png_data, size_t n, uint32_t w, uint32_t h, uint8_t *rgba)
{
    mem_reader r = {png_data, n, 0, {0}};
    png_bytep *rows = malloc(sizeof(png_bytep) * h);
    if (!rows) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (uint32_t y = 0; y < h; y++) rows[y] = rgba + (size_t)y * w * 4;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(rows);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        return ild_fail(ILDIFF_ERR_FORMAT, "bad PNG image data: %s", r.message);
    }
    png_set_read_fn(png, &r, on_png_read);
    png_set_user_limits(png, w, h);
    png_read_info(png, info);
    png_set_expand(png);
    png_set_scale_16(png);
    png_set_gray_to_rgb(png);
    png_set_filler(png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 4) png_error(png, "unexpected row size");
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return ILDIFF_OK;
}

/* Writes one chunk made of `parts` (length, type, body, crc) at q; returns the end. */
static uint8_t *emit_chunk(uint8_t *q, const char *type, const span *parts, size_t nparts)
{
    size_t len = 0;
    for (size_t i = 0; i < nparts; i++) len += parts[i].len;
    q[0] = (uint8_t)(len >> 24), q[1] = (uint8_t)(len >> 16), q[2] = (uint8_t)(len >> 8), q[3] = (uint8_t)len;
    memcpy(q + 4, type, 4);
    uLong crc = crc32(0L, q + 4, 4);
    q += 8;
    for (size_t i = 0; i < nparts; i++) {
        memcpy(q, parts[i].data, parts[i].len);
        crc = crc32(crc, q, (uInt)parts[i].len);
        q += parts[i].len;
    }
    q[0] = (uint8_t)(crc >> 24), q[1] = (uint8_t)(crc >> 16), q[2] = (uint8_t)(crc >> 8), q[3] = (uint8_t)crc;
    return q + 4;
}

/* Builds the synthetic PNG for a frame of w x h from spans [first, first + count) and decodes it. */
static ildiff_status decode_frame(const png_parse *p, uint32_t w, uint32_t h, size_t first, size_t count, uint8_t *rgba)
{
    size_t zlen = 0;
    for (size_t i = 0; i < count; i++) zlen += p->spans[first + i].len;
    if (zlen > 0x7fffffffu) return ild_fail(ILDIFF_ERR_LIMIT, "PNG frame data too large");
    size_t total = 8 + 25 + (p->plte.len + 12) + (p->trns.len + 12) + zlen + 12 + 12;
    uint8_t *s = malloc(total);
    if (!s) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(s, sig, 8);
    uint8_t ihdr[13];
    memcpy(ihdr, p->ihdr, 13);
    ihdr[0] = (uint8_t)(w >> 24), ihdr[1] = (uint8_t)(w >> 16), ihdr[2] = (uint8_t)(w >> 8), ihdr[3] = (uint8_t)w;
    ihdr[4] = (uint8_t)(h >> 24), ihdr[5] = (uint8_t)(h >> 16), ihdr[6] = (uint8_t)(h >> 8), ihdr[7] = (uint8_t)h;
    uint8_t *q = emit_chunk(s + 8, "IHDR", &(span){ihdr, 13}, 1);
    if (p->plte.data) q = emit_chunk(q, "PLTE", &p->plte, 1);
    if (p->trns.data) q = emit_chunk(q, "tRNS", &p->trns, 1);
    q = emit_chunk(q, "IDAT", p->spans + first, count);
    q = emit_chunk(q, "IEND", NULL, 0);
    ildiff_status st = decode_stream(s, (size_t)(q - s), w, h, rgba);
    free(s);
    return st;
}

/* ---- composing ---- */

/* Straight-alpha "over": src over dst, one pixel. */
static void blend_over(uint8_t *d, const uint8_t *s)
{
    uint32_t sa = s[3], da = d[3];
    if (sa == 255 || da == 0) {
        memcpy(d, s, 4);
        return;
    }
    if (sa == 0) return;
    uint32_t dw = da * (255 - sa);           /* dst weight x 255 */
    uint32_t oa = sa * 255 + dw;             /* out alpha x 255 */
    for (int c = 0; c < 3; c++) d[c] = (uint8_t)(((uint32_t)s[c] * sa * 255 + (uint32_t)d[c] * dw + oa / 2) / oa);
    d[3] = (uint8_t)((oa + 127) / 255);
}

static ildiff_status compose(const png_parse *p, ildiff_anim *a)
{
    size_t W = p->width, H = p->height, frame_bytes = W * H * 4;
    uint8_t *canvas = calloc(frame_bytes, 1), *saved = malloc(frame_bytes), *tile = malloc(frame_bytes);
    ildiff_status st = (canvas && saved && tile) ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; st == ILDIFF_OK && i < p->num_frames; i++) {
        const apng_frame *f = &p->frames[i];
        st = decode_frame(p, f->w, f->h, f->first, f->count, tile);
        if (st != ILDIFF_OK) break;
        if (f->dispose == 2) memcpy(saved, canvas, frame_bytes);
        for (uint32_t y = 0; y < f->h; y++) {
            uint8_t *d = canvas + ((f->y + y) * W + f->x) * 4;
            const uint8_t *s = tile + (size_t)y * f->w * 4;
            if (f->blend == 0) memcpy(d, s, (size_t)f->w * 4);
            else
                for (uint32_t x = 0; x < f->w; x++) blend_over(d + x * 4, s + x * 4);
        }
        memcpy(ildiff_anim_frame(a, (int32_t)i), canvas, frame_bytes);
        a->durations_ms[i] = f->ms;
        if (f->dispose == 1)
            for (uint32_t y = 0; y < f->h; y++) memset(canvas + ((f->y + y) * W + f->x) * 4, 0, (size_t)f->w * 4);
        else if (f->dispose == 2)
            memcpy(canvas, saved, frame_bytes);
    }
    free(canvas);
    free(saved);
    free(tile);
    return st;
}

ildiff_status ild_png_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    png_parse p = {0};
    ildiff_status st = parse_chunks(&p, data, size, limits);
    ildiff_anim *a = NULL;
    if (st == ILDIFF_OK)
        st = ildiff_anim_new((int32_t)p.width, (int32_t)p.height, p.animated ? (int32_t)p.num_frames : 1, STILL_MS, &a);
    if (st == ILDIFF_OK) {
        if (p.animated) {
            st = compose(&p, a);
            a->loop_count = (int32_t)p.num_plays;
        } else {
            st = decode_frame(&p, p.width, p.height, p.idat_first, p.idat_count, a->rgba);
        }
    }
    if (st == ILDIFF_OK) {
        a->source = p.animated ? ILDIFF_FORMAT_APNG : ILDIFF_FORMAT_PNG;
        a->source_has_alpha = p.ihdr[9] == 4 || p.ihdr[9] == 6 || p.trns.data != NULL;
        *out = a;
    } else {
        ildiff_anim_free(a);
    }
    free(p.frames);
    free(p.spans);
    return st;
}
