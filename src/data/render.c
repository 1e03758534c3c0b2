/*
 * render.c: turns a plan at one instant into SVG documents and renders them with librsvg + cairo.
 *
 * A frame's document holds every object (secondary objects first, the subject on top), each as
 * <g transform="object motion and fit"> defs, the unwrapped wrapper tags, then its parts, the moving part inside
 * its own <g transform="part motion">; sparkles come last. "Global part" k numbers the drawn parts in that order
 * (objects' parts, then sparkles); a document can hold just one of them, for part masks.
 * Also measures an icon's parts at low resolution (bounding boxes, areas) for the plan.
 */
#include "dataset.h"

#include <cairo.h>
#include <librsvg/rsvg.h>
#include <math.h>
#include <string.h>

static ildiff_status put_matrix(ild_buf *b, ild_affine m)
{
    return ild_buf_printf(b, "matrix(%.6f %.6f %.6f %.6f %.4f %.4f)", m.a, m.b, m.c, m.d, m.e, m.f);
}

static ild_affine compose(ild_affine m, ild_affine n)
{
    return (ild_affine){m.a * n.a + m.c * n.b, m.b * n.a + m.d * n.b, m.a * n.c + m.c * n.d,
                        m.b * n.c + m.d * n.d, m.a * n.e + m.c * n.f + m.e, m.b * n.e + m.d * n.f + m.f};
}

/* The transform from icon units to canvas pixels of object o at time t. */
static ild_affine object_transform(const ild_sources *src, const ild_plan_object *o, double t, int32_t size)
{
    const ild_icon *ic = &src->sets[o->ref.set].icons[o->ref.icon];
    double side = o->side * size, k = side / fmax(ic->width, ic->height), pose;
    ild_affine center = {1, 0, 0, 1, o->cx * size, o->cy * size};
    ild_affine fit = {k, 0, 0, k, -k * (ic->left + ic->width / 2), -k * (ic->top + ic->height / 2)};
    return compose(center, compose(ild_motion_at(o, t, side, &pose), fit));
}

/* Draw order of objects: secondaries first, the subject last (on top). */
static int draw_object(const ild_plan *p, int k) { return k == p->object_count - 1 ? 0 : k + 1; }

int32_t ild_plan_part_total(const ild_plan *p)
{
    int32_t n = p->sparkle_count;
    for (int i = 0; i < p->object_count; i++) n += p->obj[i].parts.count;
    return n;
}

static const char star_path[] = "M0 -1C0.12 -0.12 0.12 -0.12 1 0C0.12 0.12 0.12 0.12 0 1C-0.12 0.12 -0.12 0.12 -1 0"
                                "C-0.12 -0.12 -0.12 -0.12 0 -1Z";

ildiff_status ild_frame_svg(const ild_sources *src, const ild_plan *p, double t, int32_t size, int32_t only, ild_buf *b)
{
    b->size = 0;
    ildiff_status st = ild_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/"
                                         "1999/xlink\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
                                      size, size, size, size);
    int32_t k = 0;
    for (int d = 0; d < p->object_count && st == ILDIFF_OK; d++) {
        int oi = draw_object(p, d);
        const ild_plan_object *o = &p->obj[oi];
        bool any = only < 0 || (only >= k && only < k + o->parts.count);
        if (!any) {
            k += o->parts.count;
            continue;
        }
        st = ild_buf_printf(b, "<g transform=\"");
        if (st == ILDIFF_OK) st = put_matrix(b, object_transform(src, o, t, size));
        if (st == ILDIFF_OK) st = ild_buf_printf(b, "\">%s%s", o->parts.defs, o->parts.wrap_open);
        for (int32_t i = 0; i < o->parts.count && st == ILDIFF_OK; i++, k++) {
            if (only >= 0 && only != k) continue;
            if (oi == 0 && i == p->part_index && p->part_motion != ILD_PART_NONE) {
                double pose;
                st = ild_buf_printf(b, "<g transform=\"");
                if (st == ILDIFF_OK) st = put_matrix(b, ild_part_motion_at(p, t, &pose));
                if (st == ILDIFF_OK) st = ild_buf_printf(b, "\">%s</g>", o->parts.parts[i]);
            } else {
                st = ild_buf_printf(b, "%s", o->parts.parts[i]);
            }
        }
        for (int32_t i = 0; i < o->parts.wrap_depth && st == ILDIFF_OK; i++) st = ild_buf_printf(b, "</g>");
        if (st == ILDIFF_OK) st = ild_buf_printf(b, "</g>");
    }
    for (int32_t s = 0; s < p->sparkle_count && st == ILDIFF_OK; s++, k++) {
        if (only >= 0 && only != k) continue;
        const float *sp = p->sparkle[s];
        double tw = 0.5 + 0.5 * sin(6.283185307179586 * (2 * t + sp[3])); /* twinkle twice per loop */
        double r = sp[2] * size * (0.4 + 0.6 * tw);
        st = ild_buf_printf(b, "<path transform=\"translate(%.3f %.3f) rotate(%.2f) scale(%.4f)\" d=\"%s\" "
                               "fill=\"#%02x%02x%02x\" fill-opacity=\"%.3f\"/>",
                            sp[0] * size, sp[1] * size, 45 * t, r, star_path, (int)(p->effect_rgb[0] * 255),
                            (int)(p->effect_rgb[1] * 255), (int)(p->effect_rgb[2] * 255), 0.25 + 0.75 * tw);
    }
    if (st == ILDIFF_OK) st = ild_buf_printf(b, "</svg>");
    return st;
}

/* Renders into a new cairo surface of the given format; the caller destroys it. */
static ildiff_status render_surface(const char *svg, size_t len, int32_t size, cairo_format_t fmt, cairo_surface_t **out)
{
    *out = NULL;
    GError *err = NULL;
    RsvgHandle *h = rsvg_handle_new_from_data((const guint8 *)svg, len, &err);
    if (!h) {
        ildiff_status st = ild_fail(ILDIFF_ERR_INTERNAL, "librsvg rejected a frame: %s", err ? err->message : "parse error");
        if (err) g_error_free(err);
        return st;
    }
    cairo_surface_t *surf = cairo_image_surface_create(fmt, size, size);
    cairo_t *cr = cairo_create(surf);
    RsvgRectangle vp = {0, 0, size, size};
    gboolean ok = cairo_surface_status(surf) == CAIRO_STATUS_SUCCESS && rsvg_handle_render_document(h, cr, &vp, &err);
    ildiff_status st = ILDIFF_OK;
    if (!ok || cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        st = ild_fail(ILDIFF_ERR_INTERNAL, "librsvg cannot render a frame: %s", err ? err->message : "cairo error");
    if (err) g_error_free(err);
    cairo_destroy(cr);
    g_object_unref(h);
    if (st != ILDIFF_OK) {
        cairo_surface_destroy(surf);
        return st;
    }
    cairo_surface_flush(surf);
    *out = surf;
    return ILDIFF_OK;
}

ildiff_status ild_render_svg(const char *svg, size_t len, int32_t size, float *premul)
{
    cairo_surface_t *s;
    ildiff_status st = render_surface(svg, len, size, CAIRO_FORMAT_ARGB32, &s);
    if (st != ILDIFF_OK) return st;
    const uint8_t *base = cairo_image_surface_get_data(s);
    size_t stride = (size_t)cairo_image_surface_get_stride(s);
    for (int32_t y = 0; y < size; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(base + (size_t)y * stride);
        float *o = premul + (size_t)y * size * 4;
        for (int32_t x = 0; x < size; x++) {
            uint32_t v = row[x];
            o[4 * x + 0] = (float)((v >> 16) & 255) / 255.0f;
            o[4 * x + 1] = (float)((v >> 8) & 255) / 255.0f;
            o[4 * x + 2] = (float)(v & 255) / 255.0f;
            o[4 * x + 3] = (float)(v >> 24) / 255.0f;
        }
    }
    cairo_surface_destroy(s);
    return ILDIFF_OK;
}

/* Alpha only (size, size) bytes, for part masks. */
ildiff_status ild_render_alpha(const char *svg, size_t len, int32_t size, uint8_t *alpha)
{
    cairo_surface_t *s;
    ildiff_status st = render_surface(svg, len, size, CAIRO_FORMAT_A8, &s);
    if (st != ILDIFF_OK) return st;
    const uint8_t *base = cairo_image_surface_get_data(s);
    size_t stride = (size_t)cairo_image_surface_get_stride(s);
    for (int32_t y = 0; y < size; y++) memcpy(alpha + (size_t)y * size, base + (size_t)y * stride, (size_t)size);
    cairo_surface_destroy(s);
    return ILDIFF_OK;
}

enum { STAT_SIZE = 64 };

/* Measures object o's parts at rest: each part alone at STAT_SIZE, its bounding box (icon units) and its share
 * of the summed drawn area. Also reports whether the whole icon has an enclosed hole. */
ildiff_status ild_measure_parts(const ild_sources *src, ild_plan_object *o, bool *has_hole)
{
    const ild_icon *ic = &src->sets[o->ref.set].icons[o->ref.icon];
    ild_plan one = {.object_count = 1, .part_index = -1};
    one.obj[0] = *o;
    one.obj[0].cx = one.obj[0].cy = 0.5;
    one.obj[0].side = 1;
    one.obj[0].motion = ILD_MOTION_STILL;
    ild_buf b = {0};
    uint8_t alpha[STAT_SIZE * STAT_SIZE], all[STAT_SIZE * STAT_SIZE];
    int32_t queue[STAT_SIZE * STAT_SIZE];
    memset(all, 0, sizeof all);
    double k = STAT_SIZE / fmax(ic->width, ic->height), total = 0;
    ildiff_status st = ILDIFF_OK;
    for (int32_t i = 0; i < o->parts.count && st == ILDIFF_OK; i++) {
        st = ild_frame_svg(src, &one, 0, STAT_SIZE, i, &b);
        if (st == ILDIFF_OK) st = ild_render_alpha((const char *)b.data, b.size, STAT_SIZE, alpha);
        if (st != ILDIFF_OK) break;
        int x0 = STAT_SIZE, y0 = STAT_SIZE, x1 = -1, y1 = -1;
        double area = 0;
        for (int y = 0; y < STAT_SIZE; y++)
            for (int x = 0; x < STAT_SIZE; x++) {
                uint8_t a = alpha[y * STAT_SIZE + x];
                if (a > all[y * STAT_SIZE + x]) all[y * STAT_SIZE + x] = a;
                if (a < 64) continue;
                area += a / 255.0;
                x0 = ILD_MIN(x0, x); y0 = ILD_MIN(y0, y); x1 = ILD_MAX(x1, x); y1 = ILD_MAX(y1, y);
            }
        if (x1 < 0) x0 = y0 = x1 = y1 = STAT_SIZE / 2;
        double ox = ic->left + ic->width / 2 - STAT_SIZE / 2 / k, oy = ic->top + ic->height / 2 - STAT_SIZE / 2 / k;
        o->part_bbox[i][0] = (float)(ox + x0 / k);
        o->part_bbox[i][1] = (float)(oy + y0 / k);
        o->part_bbox[i][2] = (float)(ox + (x1 + 1) / k);
        o->part_bbox[i][3] = (float)(oy + (y1 + 1) / k);
        o->part_area[i] = (float)area;
        total += area;
    }
    ild_buf_free(&b);
    for (int32_t i = 0; i < o->parts.count; i++) o->part_area[i] = total > 0 ? (float)(o->part_area[i] / total) : 0;
    if (st == ILDIFF_OK && has_hole) {
        /* grey RGBA with the union alpha, measured like a frame */
        uint8_t rgba[STAT_SIZE * STAT_SIZE * 4];
        for (int i = 0; i < STAT_SIZE * STAT_SIZE; i++) rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 0, rgba[4 * i + 3] = all[i];
        ild_sample_tags tags = {0};
        ild_tags_measure(rgba, STAT_SIZE, STAT_SIZE, queue, &tags);
        *has_hole = tags.semi_open;
    }
    return st;
}
