/*
 * svg.c: ild_svg_read: an SVG document rendered once by librsvg + cairo into a one-frame animation.
 *
 * Size: the document's intrinsic size in pixels at 96 dpi, rounded up. Without a width and height it is 512 on
 * the longer side, keeping the viewBox's aspect ratio when there is one (512x512 otherwise). The size is checked
 * against the limits before any pixel is allocated. Output is straight RGBA; transparent where nothing is drawn.
 * librsvg is given no base file, so the document cannot pull in other files (images, stylesheets) from disk.
 */
#include "io.h"
#include "premultiply.h"

#include <cairo.h>
#include <librsvg/rsvg.h>
#include <math.h>
#include <string.h>

#define SVG_DEFAULT_SIDE 512
#define SVG_DURATION_MS 100

/* The pixel size to render at. Fails with FORMAT for a negative/NaN size and LIMIT for one over the limits. */
static ildiff_status svg_size(RsvgHandle *h, const ildiff_limits *lim, int32_t *w, int32_t *h_out)
{
    double dw = 0, dh = 0;
    if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &dw, &dh)) {
        gboolean has_w, has_h, has_vb;
        RsvgLength lw, lh;
        RsvgRectangle vb;
        rsvg_handle_get_intrinsic_dimensions(h, &has_w, &lw, &has_h, &lh, &has_vb, &vb);
        dw = dh = SVG_DEFAULT_SIDE;
        if (has_vb && isfinite(vb.width) && isfinite(vb.height) && vb.width > 0 && vb.height > 0) {
            double scale = SVG_DEFAULT_SIDE / fmax(vb.width, vb.height);
            dw = fmax(1.0, vb.width * scale);
            dh = fmax(1.0, vb.height * scale);
        }
    }
    if (!isfinite(dw) || !isfinite(dh) || dw <= 0 || dh <= 0)
        return ild_fail(ILDIFF_ERR_FORMAT, "SVG has an invalid size %gx%g", dw, dh);
    /* Ceil, forgiving float noise; clamp so the int64 conversion is defined whatever the document claims. */
    int64_t iw = (int64_t)ceil(fmin(dw, 1e12) - 1e-3), ih = (int64_t)ceil(fmin(dh, 1e12) - 1e-3);
    ildiff_status st = ild_check_dims(lim, ILD_MAX(iw, 1), ILD_MAX(ih, 1), 1);
    if (st != ILDIFF_OK) return st;
    *w = (int32_t)ILD_MAX(iw, 1);
    *h_out = (int32_t)ILD_MAX(ih, 1);
    return ILDIFF_OK;
}

/* Renders the document into a w x h ARGB32 surface and converts it into frame 0 of `a`. */
static ildiff_status svg_render(RsvgHandle *h, ildiff_anim *a)
{
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, a->width, a->height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return ild_fail(ILDIFF_ERR_NOMEM, "cannot create a %dx%d cairo surface", a->width, a->height);
    }
    cairo_t *cr = cairo_create(surf);
    RsvgRectangle viewport = {0, 0, a->width, a->height};
    GError *err = NULL;
    gboolean ok = rsvg_handle_render_document(h, cr, &viewport, &err);
    ildiff_status st = ILDIFF_OK;
    if (!ok || cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        st = ild_fail(ILDIFF_ERR_FORMAT, "SVG cannot be rendered: %s", err ? err->message : cairo_status_to_string(cairo_status(cr)));
    } else {
        cairo_surface_flush(surf);
        const uint8_t *base = cairo_image_surface_get_data(surf);
        size_t stride = (size_t)cairo_image_surface_get_stride(surf), row = (size_t)a->width * 4;
        for (int32_t y = 0; y < a->height; y++)
            ild_argb32_premul_to_rgba(a->rgba + (size_t)y * row, (const uint32_t *)(const void *)(base + (size_t)y * stride),
                                      (size_t)a->width);
    }
    if (err) g_error_free(err);
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    return st;
}

ildiff_status ild_svg_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out)
{
    *out = NULL;
    const ildiff_limits *lim = ild_limits_or_default(limits);
    GError *err = NULL;
    RsvgHandle *h = rsvg_handle_new_from_data(data, size, &err);
    if (!h) {
        ildiff_status st = ild_fail(ILDIFF_ERR_FORMAT, "invalid SVG: %s", err ? err->message : "parse error");
        if (err) g_error_free(err);
        return st;
    }
    rsvg_handle_set_dpi(h, 96.0);
    int32_t w = 0, hh = 0;
    ildiff_anim *a = NULL;
    ildiff_status st = svg_size(h, lim, &w, &hh);
    if (st == ILDIFF_OK) st = ildiff_anim_new(w, hh, 1, SVG_DURATION_MS, &a);
    if (st == ILDIFF_OK) st = svg_render(h, a);
    g_object_unref(h);
    if (st != ILDIFF_OK) {
        ildiff_anim_free(a);
        return st;
    }
    a->source = ILDIFF_FORMAT_SVG;
    a->source_has_alpha = true;
    *out = a;
    return ILDIFF_OK;
}
