/*
 * gif_read.c: GIF reader (giflib record API on a memory callback). We compose the frames ourselves: each sub-image
 * is drawn at its offset (clipped to the logical screen) with its local palette or the global one, skipping the
 * transparent index; before the next frame the disposal of this one is applied (0/1 keep, 2 clear the rectangle
 * to transparent as browsers do, 3 restore the canvas as it was before this frame). The canvas starts transparent.
 *
 * We walk the file twice: the first pass checks the structure, counts frames and checks every size against the
 * limits without decoding pixels; the second decodes and composes into an animation allocated once. (DGifSlurp is
 * not used because it allocates each sub-image before any size can be checked.) Interlaced rows are placed by
 * the four-pass order. Pixel indices outside the palette are treated as transparent (nothing is drawn).
 *
 * Delays of 0 or 1 centisecond become 100 ms, as browsers do. Loop count: no NETSCAPE2.0 extension = play once
 * (1); a NETSCAPE value of 0 = forever (0); a value N > 0 repeats N times after the first play (N + 1 plays).
 * Rejected with ILDIFF_ERR_FORMAT: not a GIF, truncated data (including a missing trailer), zero frames, an image
 * with no colour map, bad LZW data.
 */
#include "io.h"

#include <gif_lib.h>
#include <string.h>

typedef struct gif_cursor {
    const uint8_t *data;
    size_t size, pos;
} gif_cursor;

typedef struct gif_pass {
    const ildiff_limits *lim;
    int32_t width, height; /* logical screen */
    int32_t frames;     /* frames seen so far */
    int32_t loop_count; /* ours: 1 = once, 0 = forever */
    bool transparency;  /* some frame used a transparent index */
    ildiff_anim *anim;  /* NULL in the counting pass */
    uint8_t *canvas, *saved; /* (H, W, 4) each, decoding pass only */
    GifPixelType *line;      /* (65535) one row of indices */
} gif_pass;

static int on_read(GifFileType *gif, GifByteType *buf, int n)
{
    gif_cursor *c = gif->UserData;
    size_t k = ILD_MIN((size_t)(n > 0 ? n : 0), c->size - c->pos);
    memcpy(buf, c->data + c->pos, k);
    c->pos += k;
    return (int)k;
}

static ildiff_status gif_error(int code)
{
    if (code == D_GIF_ERR_NOT_ENOUGH_MEM) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory decoding GIF");
    if (code == D_GIF_ERR_READ_FAILED) return ild_fail(ILDIFF_ERR_FORMAT, "truncated GIF");
    const char *why = GifErrorString(code);
    return ild_fail(ILDIFF_ERR_FORMAT, "bad GIF: %s", why ? why : "unknown giflib error");
}

/* Reads the rows of the current sub-image and draws them onto the canvas. */
static ildiff_status draw_image(GifFileType *gif, gif_pass *p, const ColorMapObject *map, int trans)
{
    const GifImageDesc *d = &gif->Image;
    size_t W = (size_t)p->anim->width, H = (size_t)p->anim->height;
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    int passes = d->Interlace ? 4 : 1;
    for (int pass = 0; pass < passes; pass++) {
        int y0 = d->Interlace ? start[pass] : 0, dy = d->Interlace ? step[pass] : 1;
        for (int y = y0; y < d->Height; y += dy) {
            if (DGifGetLine(gif, p->line, d->Width) == GIF_ERROR) return gif_error(gif->Error);
            size_t cy = (size_t)d->Top + (size_t)y;
            if (cy >= H) continue;
            uint8_t *row = p->canvas + cy * W * 4;
            for (int x = 0; x < d->Width; x++) {
                size_t cx = (size_t)d->Left + (size_t)x;
                if (cx >= W) break;
                int idx = p->line[x];
                if (idx == trans || idx >= map->ColorCount) continue;
                uint8_t *px = row + cx * 4;
                px[0] = map->Colors[idx].Red;
                px[1] = map->Colors[idx].Green;
                px[2] = map->Colors[idx].Blue;
                px[3] = 255;
            }
        }
    }
    return ILDIFF_OK;
}

/* Clears the part of rectangle (l, t, w, h) that lies on the canvas to transparent. */
static void clear_rect(gif_pass *p, int l, int t, int w, int h)
{
    size_t W = (size_t)p->anim->width, H = (size_t)p->anim->height;
    for (size_t y = (size_t)t; y < (size_t)t + (size_t)h && y < H; y++) {
        if ((size_t)l >= W) break;
        size_t n = ILD_MIN((size_t)w, W - (size_t)l);
        memset(p->canvas + (y * W + (size_t)l) * 4, 0, n * 4);
    }
}

static ildiff_status on_image(GifFileType *gif, gif_pass *p, GraphicsControlBlock *gcb, GraphicsControlBlock *prev,
                              GifImageDesc *prev_desc)
{
    if (DGifGetImageDesc(gif) == GIF_ERROR) return gif_error(gif->Error);
    const GifImageDesc *d = &gif->Image;
    p->frames++;
    ildiff_status st = ild_check_dims(p->lim, gif->SWidth, gif->SHeight, p->frames);
    if (st == ILDIFF_OK) st = ild_check_dims(p->lim, d->Width, d->Height, 1);
    if (st != ILDIFF_OK) return st;
    const ColorMapObject *map = d->ColorMap ? d->ColorMap : gif->SColorMap;
    if (!map) return ild_fail(ILDIFF_ERR_FORMAT, "GIF frame %d has no colour map", p->frames - 1);
    if (gcb->TransparentColor >= 0) p->transparency = true;
    if (!p->anim) { /* counting pass: skip the LZW data */
        int code_size;
        GifByteType *block;
        if (DGifGetCode(gif, &code_size, &block) == GIF_ERROR) return gif_error(gif->Error);
        while (block)
            if (DGifGetCodeNext(gif, &block) == GIF_ERROR) return gif_error(gif->Error);
    } else {
        size_t frame_bytes = (size_t)p->anim->width * (size_t)p->anim->height * 4;
        if (p->frames > 1 && prev->DisposalMode == DISPOSE_BACKGROUND)
            clear_rect(p, prev_desc->Left, prev_desc->Top, prev_desc->Width, prev_desc->Height);
        else if (p->frames > 1 && prev->DisposalMode == DISPOSE_PREVIOUS)
            memcpy(p->canvas, p->saved, frame_bytes);
        if (gcb->DisposalMode == DISPOSE_PREVIOUS) memcpy(p->saved, p->canvas, frame_bytes);
        st = draw_image(gif, p, map, gcb->TransparentColor);
        if (st != ILDIFF_OK) return st;
        int32_t i = p->frames - 1;
        memcpy(ildiff_anim_frame(p->anim, i), p->canvas, frame_bytes);
        p->anim->durations_ms[i] = gcb->DelayTime <= 1 ? 100 : gcb->DelayTime * 10;
    }
    *prev = *gcb;
    *prev_desc = *d;
    *gcb = (GraphicsControlBlock){.DisposalMode = DISPOSAL_UNSPECIFIED, .TransparentColor = NO_TRANSPARENT_COLOR};
    return ILDIFF_OK;
}

static ildiff_status on_extension(GifFileType *gif, gif_pass *p, GraphicsControlBlock *gcb)
{
    int code;
    GifByteType *ext;
    if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) return gif_error(gif->Error);
    bool netscape = false;
    if (ext && code == GRAPHICS_EXT_FUNC_CODE && DGifExtensionToGCB(ext[0], ext + 1, gcb) == GIF_ERROR)
        return ild_fail(ILDIFF_ERR_FORMAT, "bad GIF graphics control block");
    if (ext && code == APPLICATION_EXT_FUNC_CODE && ext[0] == 11)
        netscape = !memcmp(ext + 1, "NETSCAPE2.0", 11) || !memcmp(ext + 1, "ANIMEXTS1.0", 11);
    while (ext) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) return gif_error(gif->Error);
        if (ext && netscape && ext[0] >= 3 && ext[1] == 1) {
            int n = ext[2] | ext[3] << 8;
            p->loop_count = n == 0 ? 0 : n + 1;
            netscape = false;
        }
    }
    return ILDIFF_OK;
}

/* One pass over the file. */
static ildiff_status walk(const uint8_t *data, size_t size, gif_pass *p)
{
    gif_cursor cur = {data, size, 0};
    int err = 0;
    GifFileType *gif = DGifOpen(&cur, on_read, &err);
    if (!gif) return err == D_GIF_ERR_NOT_GIF_FILE ? ild_fail(ILDIFF_ERR_FORMAT, "not a GIF file") : gif_error(err);
    ildiff_status st = ild_check_dims(p->lim, gif->SWidth, gif->SHeight, 1);
    p->width = gif->SWidth;
    p->height = gif->SHeight;
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSAL_UNSPECIFIED, .TransparentColor = NO_TRANSPARENT_COLOR};
    GraphicsControlBlock prev = gcb;
    GifImageDesc prev_desc = {0};
    p->frames = 0;
    p->loop_count = 1;
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    while (st == ILDIFF_OK && type != TERMINATE_RECORD_TYPE) {
        if (DGifGetRecordType(gif, &type) == GIF_ERROR) {
            st = gif_error(gif->Error);
            break;
        }
        if (type == IMAGE_DESC_RECORD_TYPE) st = on_image(gif, p, &gcb, &prev, &prev_desc);
        else if (type == EXTENSION_RECORD_TYPE) st = on_extension(gif, p, &gcb);
    }
    if (st == ILDIFF_OK && p->frames == 0) st = ild_fail(ILDIFF_ERR_FORMAT, "GIF has no frames");
    DGifCloseFile(gif, NULL);
    return st;
}

ildiff_status ild_gif_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    gif_pass p = {.lim = ild_limits_or_default(limits)};
    ildiff_status st = walk(data, size, &p);
    if (st != ILDIFF_OK) return st;
    st = ildiff_anim_new(p.width, p.height, p.frames, 100, &p.anim);
    if (st != ILDIFF_OK) return st;
    size_t frame_bytes = (size_t)p.width * (size_t)p.height * 4;
    p.canvas = calloc(frame_bytes, 1);
    p.saved = calloc(frame_bytes, 1);
    p.line = malloc(65536 * sizeof(GifPixelType));
    if (!p.canvas || !p.saved || !p.line) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory decoding GIF");
    if (st == ILDIFF_OK) st = walk(data, size, &p);
    free(p.canvas);
    free(p.saved);
    free(p.line);
    if (st != ILDIFF_OK) {
        ildiff_anim_free(p.anim);
        return st;
    }
    p.anim->loop_count = p.loop_count;
    p.anim->source = ILDIFF_FORMAT_GIF;
    p.anim->source_has_alpha = p.transparency || ildiff_anim_has_alpha(p.anim);
    *out = p.anim;
    return ILDIFF_OK;
}
