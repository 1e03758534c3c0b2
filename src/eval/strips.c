/*
 * strips.c: comparison strips (contract in strips.h). The grid is drawn row by row, so the report's figures
 * hold the predictions of one sample at a time: each picked sample is loaded, every method runs on it again
 * (the same code and parameters as its evaluation), its row is drawn, and it is freed.
 */
#include "strips.h"
#include "../io/io.h"
#include "../train/raster.h"

#include <math.h>
#include <string.h>

static const uint8_t ink[3] = {40, 40, 40};
static const uint8_t letterbox[3] = {240, 240, 240}, frame_rgb[3] = {190, 190, 190};

void ild_strip_size(int rows, int cols, int32_t *w, int32_t *h)
{
    *w = ILD_STRIP_GAP + cols * (ILD_STRIP_CELL + ILD_STRIP_GAP);
    *h = ILD_STRIP_TITLE_H + ILD_STRIP_HEADER_H + rows * (ILD_STRIP_LABEL_H + ILD_STRIP_CELL + ILD_STRIP_GAP);
}

/* s into buf, cut and ended with ".." to at most max_px wide at this scale (size >= 3). */
static void fit_text(const char *s, int scale, int32_t max_px, char *buf, size_t size)
{
    size_t fit = (size_t)ILD_MAX(max_px / (6 * scale), 2), len = strlen(s);
    if (len <= fit && len < size) {
        memcpy(buf, s, len + 1);
        return;
    }
    size_t keep = ILD_MIN(fit, size - 1);
    memcpy(buf, s, keep - 2);
    memcpy(buf + keep - 2, "..", 3);
}

static float backdrop_at(ild_backdrop b, int32_t x, int32_t y)
{
    switch (b) {
    case ILD_BACKDROP_BLACK: return 0.0f;
    case ILD_BACKDROP_WHITE: return 255.0f;
    default: return ((x / 8 + y / 8) & 1) ? 204.0f : 255.0f;
    }
}

/* Draws tile t scaled into the cell whose top left is (cx, cy). */
static void draw_tile(ild_canvas *c, int32_t cx, int32_t cy, const ild_tile *t)
{
    const int32_t S = ILD_STRIP_CELL;
    ild_canvas_rect(c, cx, cy, cx + S, cy + S, letterbox);
    if (!t->rgb) return;
    double scale = ILD_MIN((double)S / t->width, (double)S / t->height);
    int32_t ow = ILD_CLAMP((int32_t)lround(t->width * scale), 1, S), oh = ILD_CLAMP((int32_t)lround(t->height * scale), 1, S);
    int32_t ox = cx + (S - ow) / 2, oy = cy + (S - oh) / 2;
    ild_canvas_rect(c, ox - 1, oy - 1, ox + ow + 1, oy + oh + 1, frame_rgb);
    for (int32_t y = 0; y < oh; y++) {
        int64_t y0 = (int64_t)y * t->height / oh, y1 = ILD_MAX(y0 + 1, (int64_t)(y + 1) * t->height / oh);
        for (int32_t x = 0; x < ow; x++) {
            int64_t x0 = (int64_t)x * t->width / ow, x1 = ILD_MAX(x0 + 1, (int64_t)(x + 1) * t->width / ow);
            double sum[3] = {0, 0, 0}, asum = 0;
            for (int64_t sy = y0; sy < y1; sy++)
                for (int64_t sx = x0; sx < x1; sx++) {
                    size_t i = (size_t)sy * (size_t)t->width + (size_t)sx;
                    const uint8_t *p = t->rgb + i * (size_t)t->rgb_stride;
                    double a = t->alpha && t->backdrop != ILD_BACKDROP_NONE ? ILD_CLAMP(t->alpha[i], 0.0f, 1.0f) : 1.0;
                    for (int k = 0; k < 3; k++) sum[k] += a * p[k];
                    asum += a;
                }
            double n = (double)((y1 - y0) * (x1 - x0)), a = asum / n;
            uint8_t *out = c->rgba + ((size_t)(oy + y) * (size_t)c->w + (size_t)(ox + x)) * 4;
            float bd = backdrop_at(t->backdrop, x, y);
            for (int k = 0; k < 3; k++) out[k] = (uint8_t)lround(ILD_CLAMP(sum[k] / n + (1.0 - a) * bd, 0.0, 255.0));
        }
    }
}

/* Title and column labels; a label is drawn at double size when it fits the cell. */
static void draw_header(ild_canvas *c, const char *title, const char *const *labels, int cols)
{
    char buf[160];
    fit_text(title, 2, c->w - 2 * ILD_STRIP_GAP, buf, sizeof buf);
    ild_canvas_text(c, ILD_STRIP_GAP, 6, buf, 2, ink);
    for (int j = 0; j < cols; j++) {
        int scale = ild_text_width(labels[j], 2) <= ILD_STRIP_CELL ? 2 : 1;
        fit_text(labels[j], scale, ILD_STRIP_CELL, buf, sizeof buf);
        int32_t x = ILD_STRIP_GAP + j * (ILD_STRIP_CELL + ILD_STRIP_GAP) + (ILD_STRIP_CELL - ild_text_width(buf, scale)) / 2;
        ild_canvas_text(c, x, ILD_STRIP_TITLE_H + (scale == 2 ? 2 : 6), buf, scale, ink);
    }
}

static void draw_row(ild_canvas *c, int row, const char *label, const ild_tile *tiles, int cols)
{
    int32_t y = ILD_STRIP_TITLE_H + ILD_STRIP_HEADER_H + row * (ILD_STRIP_LABEL_H + ILD_STRIP_CELL + ILD_STRIP_GAP);
    char buf[200];
    fit_text(label, 1, c->w - 2 * ILD_STRIP_GAP, buf, sizeof buf);
    ild_canvas_text(c, ILD_STRIP_GAP, y + 3, buf, 1, ink);
    for (int j = 0; j < cols; j++)
        draw_tile(c, ILD_STRIP_GAP + j * (ILD_STRIP_CELL + ILD_STRIP_GAP), y + ILD_STRIP_LABEL_H, &tiles[j]);
}

/* A white canvas of the grid's size. */
static ildiff_status strip_begin(ild_canvas *c, int rows, int cols)
{
    *c = (ild_canvas){0};
    if (rows < 1 || rows > ILD_STRIP_MAX_ROWS || cols < 1 || cols > ILD_STRIP_MAX_COLS)
        return ild_fail(ILDIFF_ERR_ARG, "a strip needs 1..%d rows and 1..%d columns", ILD_STRIP_MAX_ROWS, ILD_STRIP_MAX_COLS);
    ild_strip_size(rows, cols, &c->w, &c->h);
    if (!(c->rgba = malloc((size_t)c->w * (size_t)c->h * 4))) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a strip");
    memset(c->rgba, 255, (size_t)c->w * (size_t)c->h * 4);
    return ILDIFF_OK;
}

static ildiff_status strip_save(const ild_canvas *c, const char *path)
{
    uint8_t *png = NULL;
    size_t size = 0;
    ildiff_status st = ild_png_encode_rgba(c->rgba, c->w, c->h, &png, &size);
    if (st == ILDIFF_OK && (st = ildiff_write_file_atomic(path, png, size, true)) != ILDIFF_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", ildiff_last_error());
        st = ild_fail(st, "%s: %s", path, why);
    }
    free(png);
    return st;
}

ildiff_status ild_strip_render(const ild_strip_grid *g, uint8_t **rgba)
{
    *rgba = NULL;
    ild_canvas c;
    ildiff_status st = strip_begin(&c, g->rows, g->cols);
    if (st != ILDIFF_OK) return st;
    for (int i = 0; i < g->rows * g->cols; i++) {
        const ild_tile *t = &g->tiles[i];
        if (t->rgb && (t->width < 1 || t->height < 1 || (t->rgb_stride != 3 && t->rgb_stride != 4))) {
            free(c.rgba);
            return ild_fail(ILDIFF_ERR_ARG, "strip tile %d: bad size or stride", i);
        }
    }
    draw_header(&c, g->title, g->col_labels, g->cols);
    for (int r = 0; r < g->rows; r++) draw_row(&c, r, g->row_labels[r], g->tiles + (size_t)r * (size_t)g->cols, g->cols);
    *rgba = c.rgba;
    return ILDIFF_OK;
}

ildiff_status ild_strip_write(const ild_strip_grid *g, const char *path)
{
    ild_canvas c = {0};
    ildiff_status st = ild_strip_render(g, &c.rgba);
    if (st != ILDIFF_OK) return st;
    ild_strip_size(g->rows, g->cols, &c.w, &c.h);
    st = strip_save(&c, path);
    free(c.rgba);
    return st;
}

/* ---- every method's frames for one sample ---- */

typedef struct predictions {
    ild_sample *s;
    int count;
    float *alpha[ILD_STRIP_MAX_COLS];   /* (T, H, W) per method */
    uint8_t *rgb[ILD_STRIP_MAX_COLS];   /* (T, H, W, 3) per method */
    bool has_rgb[ILD_STRIP_MAX_COLS];
} predictions;

static void predictions_free(predictions *p)
{
    for (int m = 0; m < p->count; m++) {
        free(p->alpha[m]);
        free(p->rgb[m]);
    }
    ild_sample_free(p->s);
    memset(p, 0, sizeof *p);
}

static ildiff_status predict_all(const ild_strips_options *o, const char *name, predictions *p)
{
    memset(p, 0, sizeof *p);
    const ild_eval_options *e = o->eval;
    ildiff_status st = ild_sample_load(e->samples_dir, name, &e->limits, &p->s);
    if (st != ILDIFF_OK) return st;
    size_t n = (size_t)p->s->width * (size_t)p->s->height * (size_t)p->s->frames;
    for (int m = 0; m < o->method_count && st == ILDIFF_OK; m++) {
        p->count = m + 1;
        p->alpha[m] = malloc(n * sizeof(float));
        p->rgb[m] = malloc(n * 3);
        if (!p->alpha[m] || !p->rgb[m]) {
            st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the strips");
            break;
        }
        const ild_method *meth;
        const char *arg;
        st = ild_method_find(o->methods[m], &meth, &arg);
        ild_method_ctx ctx = {.arg = arg, .baseline = &e->baseline, .limits = &e->limits};
        if (st == ILDIFF_OK) st = meth->run(&ctx, p->s, p->alpha[m], p->rgb[m], &p->has_rgb[m]);
        if (st != ILDIFF_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s", ildiff_last_error());
            st = ild_fail(st, "strips: sample %s, method %s: %s", name, o->methods[m], why);
        }
    }
    if (st != ILDIFF_OK) predictions_free(p);
    return st;
}

/* The tile of method m (or the ground truth when m < 0) at frame f over backdrop b. */
static ild_tile cutout(const predictions *p, int m, int32_t f, ild_backdrop b)
{
    const ild_sample *s = p->s;
    size_t hw = (size_t)s->width * (size_t)s->height, at = hw * (size_t)f;
    ild_tile t = {.width = s->width, .height = s->height, .rgb = s->input_rgb + at * 3, .rgb_stride = 3, .backdrop = b};
    if (m < 0) {
        t.alpha = s->gt + at;
        if (s->gt_rgba) {
            t.rgb = s->gt_rgba + at * 4;
            t.rgb_stride = 4;
        }
    } else {
        t.alpha = p->alpha[m] + at;
        if (p->has_rgb[m]) t.rgb = p->rgb[m] + at * 3;
    }
    return t;
}

/* ---- choosing what to show ---- */

static ildiff_status check_results(const ild_strips_options *o)
{
    if (o->method_count < 1 || o->method_count > ILD_STRIP_MAX_COLS - 2)
        return ild_fail(ILDIFF_ERR_ARG, "strips need 1..%d methods", ILD_STRIP_MAX_COLS - 2);
    const ild_eval_result *r0 = o->results[0];
    for (int m = 1; m < o->method_count; m++) {
        const ild_eval_result *r = o->results[m];
        bool same = r->clip_count == r0->clip_count;
        for (int i = 0; same && i < r->clip_count; i++) same = strcmp(r->clips[i].name, r0->clips[i].name) == 0;
        if (!same)
            return ild_fail(ILDIFF_ERR_ARG, "strips: the evaluations of %s and %s cover different samples",
                            o->methods[0], o->methods[m]);
    }
    return ILDIFF_OK;
}

/* How much the methods disagree on clip i for metric k (one method: how far it is from perfect); -1 when no
 * method has the metric. */
static double clip_spread(const ild_strips_options *o, int i, ild_metric k)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int m = 0; m < o->method_count; m++) {
        const ild_clip_scores *s = &o->results[m]->clips[i].scores;
        if (!s->has[k] || !isfinite(s->value[k])) continue;
        lo = ILD_MIN(lo, s->value[k]);
        hi = ILD_MAX(hi, s->value[k]);
    }
    if (lo > hi) return -1;
    if (o->method_count > 1) return hi - lo;
    return k == ILD_METRIC_PSNR ? 10.0 * log10(1.0 / ILD_PSNR_MSE_FLOOR) - hi : hi;
}

static bool has_tag(const ild_eval_clip *c, const char *const *names)
{
    for (int j = 0; j < c->tag_count; j++)
        for (const char *const *n = names; *n; n++)
            if (strcmp(c->tags[j], *n) == 0) return true;
    return false;
}

/* The not yet picked clip with the largest PSNR spread, among those with one of `tags` (NULL: any); -1 if none. */
static int best_clip(const ild_strips_options *o, const char *const *tags, const bool *picked)
{
    int best = -1;
    double best_spread = -1;
    for (int i = 0; i < o->results[0]->clip_count; i++) {
        if (picked[i] || (tags && !has_tag(&o->results[0]->clips[i], tags))) continue;
        double s = clip_spread(o, i, ILD_METRIC_PSNR);
        if (best < 0 || s > best_spread) {
            best = i;
            best_spread = s;
        }
    }
    return best;
}

/* The frame where the methods' MAD differ most (one method: where its MAD is largest). */
static int32_t hardest_frame(const predictions *p)
{
    const ild_sample *s = p->s;
    size_t hw = (size_t)s->width * (size_t)s->height;
    int32_t best = 0;
    double best_spread = -1;
    for (int32_t f = 0; f < s->frames; f++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int m = 0; m < p->count; m++) {
            double v = ild_metric_mad(p->alpha[m] + hw * (size_t)f, s->gt + hw * (size_t)f, hw);
            lo = ILD_MIN(lo, v);
            hi = ILD_MAX(hi, v);
        }
        double spread = p->count > 1 ? hi - lo : hi;
        if (spread > best_spread) {
            best = f;
            best_spread = spread;
        }
    }
    return best;
}

ildiff_status ild_strips_hard(const ild_strips_options *o, const char *path, ild_strip_info *info)
{
    memset(info, 0, sizeof *info);
    ildiff_status st = check_results(o);
    if (st != ILDIFF_OK) return st;
    if (o->max_samples < 1 || o->max_samples > 8) return ild_fail(ILDIFF_ERR_ARG, "strips show 1..8 samples");
    int clips = o->results[0]->clip_count, picks[8], npick = 0;
    bool *picked = calloc((size_t)clips, sizeof *picked);
    if (!picked) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    static const char *const semi_open[] = {"semi-open", "semi_open", NULL};
    static const char *const white_parts[] = {"white-parts", "white parts", "white_parts", NULL};
    const char *const *wanted[] = {semi_open, white_parts, NULL};
    static const char *const why[] = {"semi-open", "white parts", "largest spread"};
    for (int k = 0; k < 3; k++)
        while (npick < o->max_samples) {
            int i = best_clip(o, k < 2 ? wanted[k] : NULL, picked);
            if (i < 0) break;
            picked[i] = true;
            snprintf(info->shown[npick].why, sizeof info->shown[npick].why, "%s", why[k]);
            picks[npick++] = i;
            if (k < 2) break; /* one sample per tag, then the rest by spread */
        }
    free(picked);
    int per = o->black_white ? 3 : 1, cols = 2 + o->method_count;
    const char *labels[ILD_STRIP_MAX_COLS] = {"input", "ground truth"};
    for (int m = 0; m < o->method_count; m++) labels[2 + m] = o->labels[m];
    ild_canvas c;
    if ((st = strip_begin(&c, npick * per, cols)) != ILDIFF_OK) return st;
    draw_header(&c, "Hard samples: cut-outs over a checkerboard", labels, cols);
    static const ild_backdrop backdrops[] = {ILD_BACKDROP_CHECKER, ILD_BACKDROP_BLACK, ILD_BACKDROP_WHITE};
    static const char *const over[] = {"", ", over black", ", over white"};
    for (int r = 0; r < npick && st == ILDIFF_OK; r++) {
        const ild_eval_clip *clip = &o->results[0]->clips[picks[r]];
        predictions p;
        if ((st = predict_all(o, clip->name, &p)) != ILDIFF_OK) break;
        int32_t f = hardest_frame(&p);
        ild_strip_shown *sh = &info->shown[r];
        snprintf(sh->sample, sizeof sh->sample, "%s", clip->name);
        sh->frame = f;
        sh->frames = 1;
        for (int b = 0; b < per; b++) {
            ild_tile tiles[ILD_STRIP_MAX_COLS] = {{0}};
            if (b == 0) {
                tiles[0] = cutout(&p, -1, f, ILD_BACKDROP_NONE);
                tiles[0].rgb = p.s->input_rgb + (size_t)p.s->width * (size_t)p.s->height * 3 * (size_t)f;
                tiles[0].rgb_stride = 3;
            }
            for (int m = -1; m < o->method_count; m++) tiles[2 + m] = cutout(&p, m, f, backdrops[b]);
            char label[200];
            snprintf(label, sizeof label, "%s  frame %d  (%s)%s", clip->name, (int)f, sh->why, over[b]);
            draw_row(&c, r * per + b, label, tiles, cols);
        }
        predictions_free(&p);
    }
    info->shown_count = npick;
    info->width = c.w;
    info->height = c.h;
    if (st == ILDIFF_OK) st = strip_save(&c, path);
    free(c.rgba);
    return st;
}

ildiff_status ild_strips_flicker(const ild_strips_options *o, const char *path, ild_strip_info *info)
{
    memset(info, 0, sizeof *info);
    ildiff_status st = check_results(o);
    if (st != ILDIFF_OK) return st;
    int best = -1;
    double best_spread = -1;
    for (int i = 0; i < o->results[0]->clip_count; i++) {
        if (o->results[0]->clips[i].frames < 2) continue;
        double s = clip_spread(o, i, ILD_METRIC_DTSSD);
        if (best < 0 || s > best_spread) {
            best = i;
            best_spread = s;
        }
    }
    if (best < 0) return ILDIFF_OK;
    const ild_eval_clip *clip = &o->results[0]->clips[best];
    predictions p;
    if ((st = predict_all(o, clip->name, &p)) != ILDIFF_OK) return st;
    const ild_sample *s = p.s;
    size_t hw = (size_t)s->width * (size_t)s->height;
    /* the frame change where the methods' dtSSD differ most */
    int32_t peak = 1;
    double peak_spread = -1;
    for (int32_t f = 1; f < s->frames; f++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int m = 0; m < p.count; m++) {
            const float *a = p.alpha[m] + hw * (size_t)f;
            double v = ild_metric_dtssd(a, a - hw, s->gt + hw * (size_t)f, s->gt + hw * (size_t)(f - 1), hw);
            lo = ILD_MIN(lo, v);
            hi = ILD_MAX(hi, v);
        }
        double spread = p.count > 1 ? hi - lo : hi;
        if (spread > peak_spread) {
            peak = f;
            peak_spread = spread;
        }
    }
    int32_t n = ILD_MIN(s->frames, ILD_STRIP_FLICKER_FRAMES);
    int32_t first = ILD_CLAMP(peak - n / 2, 0, s->frames - n);
    char names[ILD_STRIP_FLICKER_FRAMES][24];
    const char *labels[ILD_STRIP_FLICKER_FRAMES];
    for (int32_t j = 0; j < n; j++) {
        snprintf(names[j], sizeof names[j], "frame %d", (int)(first + j));
        labels[j] = names[j];
    }
    char title[200];
    snprintf(title, sizeof title, "Flicker: %s, frames %d-%d over a checkerboard", clip->name, (int)first, (int)(first + n - 1));
    ild_canvas c;
    if ((st = strip_begin(&c, 1 + p.count, n)) != ILDIFF_OK) {
        predictions_free(&p);
        return st;
    }
    draw_header(&c, title, labels, n);
    for (int m = -1; m < p.count; m++) {
        ild_tile tiles[ILD_STRIP_FLICKER_FRAMES];
        for (int32_t j = 0; j < n; j++) tiles[j] = cutout(&p, m, first + j, ILD_BACKDROP_CHECKER);
        char label[160];
        if (m < 0) snprintf(label, sizeof label, "ground truth");
        else
            snprintf(label, sizeof label, "%s  (clip dtSSD %.3f)", o->labels[m],
                     o->results[m]->clips[best].scores.value[ILD_METRIC_DTSSD]);
        draw_row(&c, m + 1, label, tiles, n);
    }
    ild_strip_shown *sh = &info->shown[0];
    snprintf(sh->sample, sizeof sh->sample, "%s", clip->name);
    sh->frame = first;
    sh->frames = n;
    snprintf(sh->why, sizeof sh->why, "largest dtSSD spread");
    info->shown_count = 1;
    info->width = c.w;
    info->height = c.h;
    st = strip_save(&c, path);
    free(c.rgba);
    predictions_free(&p);
    return st;
}
