/*
 * plot.c: line and grouped bar charts (plot.h): data ranges, "nice" ticks (1, 2, 5 x 10^k; powers of ten on a
 * log axis), grid, axes, labels, legend, then the series, rendered with raster.h and written as PNG.
 */
#include "train/plot.h"

#include "base/base.h"
#include "io/io.h"
#include "train/raster.h"

#include <math.h>
#include <string.h>

static const uint8_t palette[10][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                       {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                       {188, 189, 34},  {23, 190, 207}};
static const uint8_t black[3] = {0, 0, 0}, grid_rgb[3] = {228, 228, 228}, grey[3] = {90, 90, 90};
static const uint8_t white[3] = {255, 255, 255};

enum { MARGIN_L = 78, MARGIN_R = 20, MARGIN_T = 34, MARGIN_B = 46, MAX_TICKS = 64 };

ild_plot ild_plot_defaults(void) { return (ild_plot){.kind = ILD_PLOT_LINES, .width = 800, .height = 480}; }

void ild_plot_color(int i, uint8_t rgb[3]) { memcpy(rgb, palette[(i % 10 + 10) % 10], 3); }

/* The axis mapping: value -> pixel. */
typedef struct axis {
    double lo, hi; /* in axis units (log10 of the value on a log axis) */
    bool log;
    int32_t p0, p1; /* pixels of lo and hi */
} axis;

static double axis_unit(const axis *a, double v) { return a->log ? (v > 0 ? log10(v) : NAN) : v; }

static float axis_px(const axis *a, double v)
{
    double u = axis_unit(a, v);
    if (!isfinite(u)) return NAN;
    return (float)(a->p0 + (u - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0));
}

/* Ticks of a linear axis: multiples of a nice step over [lo, hi], widening the range to them. */
static int linear_ticks(double *lo, double *hi, double *ticks)
{
    if (!(*hi > *lo)) {
        double d = *lo != 0 ? fabs(*lo) * 0.1 : 1;
        *lo -= d, *hi += d;
    }
    double raw = (*hi - *lo) / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
    int n = 0;
    for (double t = *lo; t <= *hi + step * 1e-6 && n < MAX_TICKS; t += step) ticks[n++] = fabs(t) < step * 1e-9 ? 0 : t;
    return n;
}

/* Ticks of a log axis (units = log10): every power of ten, or every k-th when there are many decades. */
static int log_ticks(double *lo, double *hi, double *ticks)
{
    *lo = floor(*lo), *hi = ceil(*hi);
    if (*hi <= *lo) *hi = *lo + 1;
    int k = (int)ceil((*hi - *lo) / 8);
    int n = 0;
    for (double t = *lo; t <= *hi + 1e-9 && n < MAX_TICKS; t += k) ticks[n++] = t;
    return n;
}

static void tick_label(char *buf, size_t cap, double v, bool log)
{
    if (log) snprintf(buf, cap, "1e%d", (int)lrint(v));
    else snprintf(buf, cap, "%.4g", v);
}

static void draw_frame(ild_canvas *c, const ild_plot *pl, const axis *ax, const axis *ay, const double *yt, int ny)
{
    char label[48];
    for (int i = 0; i < ny; i++) {
        int32_t y = (int32_t)lrint(ay->p0 + (yt[i] - ay->lo) / (ay->hi - ay->lo) * (ay->p1 - ay->p0));
        ild_canvas_rect(c, ax->p0, y, ax->p1 + 1, y + 1, grid_rgb);
        ild_canvas_rect(c, ax->p0 - 5, y, ax->p0, y + 1, black);
        tick_label(label, sizeof label, yt[i], ay->log);
        ild_canvas_text(c, ax->p0 - 8 - ild_text_width(label, 1), y - 3, label, 1, black);
    }
    ild_canvas_rect(c, ax->p0, ay->p1, ax->p0 + 1, ay->p0 + 1, black); /* y axis */
    ild_canvas_rect(c, ax->p0, ay->p0, ax->p1 + 1, ay->p0 + 1, black); /* x axis */
    if (pl->title) ild_canvas_text(c, (c->w - ild_text_width(pl->title, 2)) / 2, 8, pl->title, 2, black);
    if (pl->xlabel)
        ild_canvas_text(c, (ax->p0 + ax->p1 - ild_text_width(pl->xlabel, 1)) / 2, c->h - 12, pl->xlabel, 1, grey);
    if (pl->ylabel)
        ild_canvas_text_up(c, 6, (ay->p0 + ay->p1 - ild_text_width(pl->ylabel, 1)) / 2, pl->ylabel, 1, grey);
}

static void draw_legend(ild_canvas *c, const ild_plot_series *s, int count, int32_t right, int32_t top)
{
    int32_t w = 0;
    for (int i = 0; i < count; i++) w = ILD_MAX(w, ild_text_width(s[i].name ? s[i].name : "", 1));
    w += 28;
    int32_t h = count * 12 + 8, x0 = right - w - 8, y0 = top + 8;
    ild_canvas_rect(c, x0 - 1, y0 - 1, x0 + w + 1, y0 + h + 1, grey);
    ild_canvas_rect(c, x0, y0, x0 + w, y0 + h, white);
    for (int i = 0; i < count; i++) {
        uint8_t rgb[3];
        ild_plot_color(i, rgb);
        int32_t y = y0 + 5 + i * 12;
        ild_canvas_rect(c, x0 + 5, y + 1, x0 + 19, y + 6, rgb);
        ild_canvas_text(c, x0 + 24, y, s[i].name ? s[i].name : "", 1, black);
    }
}

static void y_range(const ild_plot *pl, const ild_plot_series *s, int count, double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < count; i++) {
        for (int64_t k = 0; k < s[i].n; k++) {
            double v = s[i].y[k];
            if (!isfinite(v) || (pl->log_y && v <= 0)) continue;
            v = pl->log_y ? log10(v) : v;
            *lo = fmin(*lo, v), *hi = fmax(*hi, v);
        }
    }
    if (!(*lo <= *hi)) *lo = 0, *hi = 1; /* nothing drawable: empty axes */
    if (pl->kind == ILD_PLOT_BARS && !pl->log_y) *lo = fmin(*lo, 0), *hi = fmax(*hi, 0);
}

static void draw_lines(ild_canvas *c, const ild_plot_series *s, int count, const axis *ax, const axis *ay, float *px,
                       float *py)
{
    for (int i = 0; i < count; i++) {
        for (int64_t k = 0; k < s[i].n; k++) {
            px[k] = axis_px(ax, s[i].x[k]);
            py[k] = isfinite(s[i].y[k]) ? axis_px(ay, s[i].y[k]) : NAN;
        }
        uint8_t rgb[3];
        ild_plot_color(i, rgb);
        ild_canvas_polyline(c, px, py, s[i].n, 1.6f, rgb);
    }
}

static void draw_bars(ild_canvas *c, const ild_plot *pl, const ild_plot_series *s, int count, const axis *ax,
                      const axis *ay)
{
    int cats = pl->category_count;
    double group = (double)(ax->p1 - ax->p0) / cats, bar = group * 0.8 / count;
    float base = pl->log_y ? (float)ay->p0 : axis_px(ay, 0);
    for (int k = 0; k < cats; k++) {
        double g0 = ax->p0 + group * k + group * 0.1;
        for (int i = 0; i < count; i++) {
            float top = isfinite(s[i].y[k]) ? axis_px(ay, s[i].y[k]) : NAN;
            if (!isfinite(top)) continue;
            uint8_t rgb[3];
            ild_plot_color(i, rgb);
            int32_t x0 = (int32_t)lrint(g0 + bar * i), x1 = (int32_t)lrint(g0 + bar * (i + 1)) - 1;
            int32_t y0 = (int32_t)lrintf(fminf(top, base)), y1 = (int32_t)lrintf(fmaxf(top, base));
            ild_canvas_rect(c, x0, y0, ILD_MAX(x1, x0 + 1), ILD_MAX(y1, y0 + 1), rgb);
        }
        char label[64];
        int fit = (int)(group / 6) - 1;
        snprintf(label, sizeof label, "%.*s", ILD_CLAMP(fit, 1, 63), pl->categories[k] ? pl->categories[k] : "");
        ild_canvas_text(c, (int32_t)lrint(ax->p0 + group * (k + 0.5)) - ild_text_width(label, 1) / 2, ay->p0 + 8,
                        label, 1, black);
    }
}

static ildiff_status check_args(const ild_plot *pl, const ild_plot_series *s, int count)
{
    if (pl->width < 160 || pl->height < 160 || pl->width > 8192 || pl->height > 8192)
        return ild_fail(ILDIFF_ERR_ARG, "chart size %dx%d out of range", pl->width, pl->height);
    if (count < 1 || count > ILD_PLOT_MAX_SERIES)
        return ild_fail(ILDIFF_ERR_ARG, "a chart needs 1 to %d series, not %d", ILD_PLOT_MAX_SERIES, count);
    if (pl->kind == ILD_PLOT_BARS && (pl->category_count < 1 || !pl->categories))
        return ild_fail(ILDIFF_ERR_ARG, "a bar chart needs categories");
    for (int i = 0; i < count; i++) {
        if (s[i].n < 0 || (s[i].n > 0 && (!s[i].y || (pl->kind == ILD_PLOT_LINES && !s[i].x))))
            return ild_fail(ILDIFF_ERR_ARG, "series %d has no values", i);
        if (pl->kind == ILD_PLOT_BARS && s[i].n != pl->category_count)
            return ild_fail(ILDIFF_ERR_ARG, "series %d has %lld values for %d categories", i, (long long)s[i].n,
                            pl->category_count);
    }
    return ILDIFF_OK;
}

ildiff_status ild_plot_render(const ild_plot *pl, const ild_plot_series *s, int count, uint8_t **rgba)
{
    *rgba = NULL;
    ildiff_status st = check_args(pl, s, count);
    if (st != ILDIFF_OK) return st;
    int64_t most = 1;
    for (int i = 0; i < count; i++) most = ILD_MAX(most, s[i].n);
    ild_canvas c = {.w = pl->width, .h = pl->height};
    size_t px = (size_t)c.w * (size_t)c.h;
    c.rgba = malloc(px * 4);
    c.cov = calloc(px, sizeof(float));
    float *xs = malloc((size_t)most * sizeof(float)), *ys = malloc((size_t)most * sizeof(float));
    if (!c.rgba || !c.cov || !xs || !ys) {
        free(c.rgba), free(c.cov), free(xs), free(ys);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory drawing a %dx%d chart", c.w, c.h);
    }
    memset(c.rgba, 255, px * 4);
    axis ax = {.p0 = MARGIN_L, .p1 = c.w - MARGIN_R}, ay = {.log = pl->log_y, .p0 = c.h - MARGIN_B, .p1 = MARGIN_T};
    double yt[MAX_TICKS], xt[MAX_TICKS];
    y_range(pl, s, count, &ay.lo, &ay.hi);
    int ny = pl->log_y ? log_ticks(&ay.lo, &ay.hi, yt) : linear_ticks(&ay.lo, &ay.hi, yt);
    int nx = 0;
    if (pl->kind == ILD_PLOT_LINES) {
        ax.lo = INFINITY, ax.hi = -INFINITY;
        for (int i = 0; i < count; i++)
            for (int64_t k = 0; k < s[i].n; k++)
                if (isfinite(s[i].x[k])) ax.lo = fmin(ax.lo, s[i].x[k]), ax.hi = fmax(ax.hi, s[i].x[k]);
        if (!(ax.lo <= ax.hi)) ax.lo = 0, ax.hi = 1;
        nx = linear_ticks(&ax.lo, &ax.hi, xt);
    } else {
        ax.lo = 0, ax.hi = pl->category_count;
    }
    draw_frame(&c, pl, &ax, &ay, yt, ny);
    char label[48];
    for (int i = 0; i < nx; i++) {
        int32_t x = (int32_t)lrintf(axis_px(&ax, xt[i]));
        ild_canvas_rect(&c, x, ay.p0 + 1, x + 1, ay.p0 + 5, black);
        tick_label(label, sizeof label, xt[i], false);
        ild_canvas_text(&c, x - ild_text_width(label, 1) / 2, ay.p0 + 9, label, 1, black);
    }
    if (pl->kind == ILD_PLOT_LINES) draw_lines(&c, s, count, &ax, &ay, xs, ys);
    else draw_bars(&c, pl, s, count, &ax, &ay);
    draw_legend(&c, s, count, ax.p1, ay.p1);
    free(c.cov), free(xs), free(ys);
    *rgba = c.rgba;
    return ILDIFF_OK;
}

ildiff_status ild_plot_write(const char *path, const ild_plot *pl, const ild_plot_series *s, int count)
{
    uint8_t *rgba = NULL, *png = NULL;
    size_t size = 0;
    ildiff_status st = ild_plot_render(pl, s, count, &rgba);
    if (st == ILDIFF_OK) st = ild_png_encode_rgba(rgba, pl->width, pl->height, &png, &size);
    if (st == ILDIFF_OK && (st = ildiff_write_file_atomic(path, png, size, true)) != ILDIFF_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", ildiff_last_error());
        st = ild_fail(st, "%s: %s", path, why);
    }
    free(rgba), free(png);
    return st;
}
