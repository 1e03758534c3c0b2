/*
 * sheet.c: a contact sheet of a corpus: the keyframes of its first N samples over a checkerboard (so soft alpha
 * shows), each with its English caption and trigger words underneath, drawn with cairo's text API (the system's
 * sans font) and written as one PNG. For looking at a corpus, not for training.
 */
#include "dataset.h"
#include "../io/io.h"

#include <cairo.h>
#include <cjson/cJSON.h>
#include <string.h>
#include <sys/stat.h>

#define SHEET_MAX_FRAMES 256
enum { CELL = 256, TEXT_H = 78, COLS = 4 };

typedef struct sheet_ctx {
    cairo_t *cr;
    int want, done;
    const uint8_t *frame[SHEET_MAX_FRAMES];
    size_t frame_size[SHEET_MAX_FRAMES];
    int frames;
    ildiff_status status;
} sheet_ctx;

/* Draws `text` wrapped into lines of at most `width` pixels from (x, y); returns the y after the last line. */
static double wrap_text(cairo_t *cr, const char *text, double x, double y, double width, double line_h, int max_lines)
{
    char line[800] = "", word[256];
    int lines = 0;
    const char *p = text;
    while (*p && lines < max_lines) {
        size_t n = strcspn(p, " ");
        snprintf(word, sizeof word, "%.*s", (int)ILD_MIN(n, sizeof word - 1), p);
        char trial[1100];
        snprintf(trial, sizeof trial, "%s%s%s", line, line[0] ? " " : "", word);
        cairo_text_extents_t ext;
        cairo_text_extents(cr, trial, &ext);
        if (ext.x_advance > width && line[0]) {
            cairo_move_to(cr, x, y);
            cairo_show_text(cr, line);
            y += line_h;
            lines++;
            snprintf(line, sizeof line, "%s", word);
        } else {
            size_t tl = ILD_MIN(strlen(trial), sizeof line - 1);
            memcpy(line, trial, tl);
            line[tl] = 0;
        }
        p += n;
        while (*p == ' ') p++;
    }
    if (line[0] && lines < max_lines) {
        cairo_move_to(cr, x, y);
        cairo_show_text(cr, line);
        y += line_h;
    }
    return y;
}

static void draw_cell(sheet_ctx *c, const ildiff_anim *a, const cJSON *meta)
{
    cairo_t *cr = c->cr;
    int col = c->done % COLS, row = c->done / COLS;
    double x0 = col * CELL, y0 = row * (CELL + TEXT_H);
    for (int y = 0; y < CELL; y += 16) /* checkerboard */
        for (int x = 0; x < CELL; x += 16) {
            double g = ((x + y) / 16) % 2 ? 0.78 : 0.95;
            cairo_set_source_rgb(cr, g, g, g);
            cairo_rectangle(cr, x0 + x, y0 + y, 16, 16);
            cairo_fill(cr);
        }
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, a->width, a->height);
    uint8_t *base = cairo_image_surface_get_data(img);
    size_t stride = (size_t)cairo_image_surface_get_stride(img);
    for (int32_t y = 0; y < a->height; y++)
        for (int32_t x = 0; x < a->width; x++) {
            const uint8_t *s = a->rgba + ((size_t)y * a->width + x) * 4;
            uint32_t al = s[3];
            uint32_t v = al << 24 | (s[0] * al / 255) << 16 | (s[1] * al / 255) << 8 | (s[2] * al / 255);
            memcpy(base + (size_t)y * stride + (size_t)x * 4, &v, 4);
        }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_translate(cr, x0, y0);
    cairo_scale(cr, (double)CELL / a->width, (double)CELL / a->height);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(meta, "caption_en");
    const cJSON *words = cJSON_GetObjectItemCaseSensitive(meta, "trigger_words"), *w;
    char tags[400] = "#";
    cJSON_ArrayForEach(w, words) if (cJSON_IsString(w) && strlen(tags) + strlen(w->valuestring) + 3 < sizeof tags)
    {
        strcat(tags, w->valuestring);
        strcat(tags, " #");
    }
    tags[strlen(tags) - 2] = 0;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 10.5);
    double y = wrap_text(cr, cJSON_IsString(cap) ? cap->valuestring : "", x0 + 4, y0 + CELL + 13, CELL - 8, 12.5, 4);
    cairo_set_source_rgb(cr, 0.2, 0.35, 0.65);
    wrap_text(cr, tags, x0 + 4, y + 1, CELL - 8, 12.5, 2);
}

static int on_entry(const char *name, const uint8_t *data, size_t size, void *user)
{
    sheet_ctx *c = user;
    const char *slash = strchr(name, '/');
    if (!slash) return 0;
    const char *base = slash + 1;
    if (strncmp(base, "mask_", 5) != 0 && strstr(base, ".png")) {
        if (c->frames < SHEET_MAX_FRAMES) {
            c->frame[c->frames] = data;
            c->frame_size[c->frames++] = size;
        }
        return 0;
    }
    if (strcmp(base, "meta.json") != 0) return 0;
    cJSON *meta = cJSON_ParseWithLength((const char *)data, size);
    const cJSON *kf = cJSON_GetObjectItemCaseSensitive(meta, "keyframe");
    int k = cJSON_IsNumber(kf) ? (int)kf->valuedouble : 0;
    if (k < 0 || k >= c->frames) k = 0;
    ildiff_anim *a = NULL;
    if (c->frames > 0) c->status = ildiff_anim_read_memory(c->frame[k], c->frame_size[k], ILDIFF_FORMAT_PNG, NULL, &a);
    if (a) draw_cell(c, a, meta);
    ildiff_anim_free(a);
    cJSON_Delete(meta);
    c->frames = 0;
    if (c->status == ILDIFF_OK && a) c->done++;
    return c->status != ILDIFF_OK || c->done == c->want;
}

ildiff_status ild_contact_sheet(const char *dir, int count, const char *out_png)
{
    if (count < 1 || count > 400) return ild_fail(ILDIFF_ERR_ARG, "a contact sheet holds 1 to 400 samples");
    int rows = (count + COLS - 1) / COLS;
    int32_t w = COLS * CELL, h = rows * (CELL + TEXT_H);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    sheet_ctx c = {.cr = cairo_create(surf), .want = count};
    cairo_set_source_rgb(c.cr, 1, 1, 1);
    cairo_paint(c.cr);
    ildiff_status st = ILDIFF_OK;
    for (int64_t k = 0; st == ILDIFF_OK && c.done < count; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/shard-%05lld.tar", dir, (long long)k);
        struct stat sb;
        if (stat(path, &sb) != 0) break;
        uint8_t *data = NULL;
        size_t size = 0;
        st = ildiff_read_file(path, (int64_t)1 << 36, &data, &size);
        c.frames = 0;
        if (st == ILDIFF_OK) st = ild_tar_each(data, size, on_entry, &c);
        if (st == ILDIFF_OK && c.status != ILDIFF_OK) st = c.status;
        if (st != ILDIFF_OK) st = ild_fail_in(st, path);
        free(data);
    }
    if (st == ILDIFF_OK && c.done == 0) st = ild_fail(ILDIFF_ERR_FORMAT, "%s: no samples found", dir);
    cairo_destroy(c.cr);
    cairo_surface_flush(surf);
    uint8_t *rgba = st == ILDIFF_OK ? malloc((size_t)w * h * 4) : NULL;
    if (st == ILDIFF_OK && !rgba) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK) {
        const uint8_t *base = cairo_image_surface_get_data(surf);
        size_t stride = (size_t)cairo_image_surface_get_stride(surf);
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                uint32_t v;
                memcpy(&v, base + (size_t)y * stride + (size_t)x * 4, 4);
                uint8_t *o = rgba + ((size_t)y * w + x) * 4;
                o[0] = (uint8_t)(v >> 16), o[1] = (uint8_t)(v >> 8), o[2] = (uint8_t)v, o[3] = 255; /* opaque */
            }
        uint8_t *png = NULL;
        size_t n = 0;
        st = ild_png_encode_rgba(rgba, w, h, &png, &n);
        if (st == ILDIFF_OK) st = ildiff_write_file_atomic(out_png, png, n, true);
        free(png);
    }
    free(rgba);
    cairo_surface_destroy(surf);
    return st;
}
