/*
 * transform.c: the editing steps presets are made of: resize, fit on a canvas, retime.
 *
 * Resizing is separable and done in integers, so it is exact: each axis gets a table of (source index, integer
 * weight) per output index with one denominator per axis. Shrinking an axis uses the area (box) filter: output
 * pixel x covers source span [x*S/N, (x+1)*S/N) and each source pixel weighs its overlap, measured in 1/N source
 * pixels (denominator S). Growing an axis uses bilinear interpolation at the output pixel centre, clamped at the
 * edges (denominator 2N). Colour is averaged premultiplied by alpha, so fully transparent pixels add nothing to
 * their neighbours' colour; an integer-factor shrink of a block of equal pixels returns that pixel exactly.
 *
 * Retiming keeps frame boundaries that already lie on the max_fps time grid and otherwise resamples onto it:
 * output frame k starts at round(k * 1000 / max_fps) ms and shows the source frame visible at that instant;
 * consecutive slots showing the same source frame merge into one. Every output frame then lasts at least
 * floor(1000 / max_fps) ms, the frame rate averages at most max_fps, and the total time is kept.
 *
 * Each function returns a new animation (caller frees) and never changes its input; on failure *out is NULL.
 */
#include "io.h"

#include <math.h>
#include <string.h>

/* Sides above this (input or output) are refused: never stickers, and they would overflow the weight products. */
enum { MAX_RESIZE_SIDE = 1 << 15 };

/* (N) per output index: first entry in idx/w and entry count; weights sum to denom for every output index. */
typedef struct axis_weights {
    int32_t *start, *count; /* (N) */
    int32_t *idx;           /* (entries) source index */
    int64_t *w;             /* (entries) integer weight */
    int64_t denom;
} axis_weights;

static void axis_free(axis_weights *a)
{
    free(a->start);
    free(a->count);
    free(a->idx);
    free(a->w);
}

/* Fills the weight table for resampling src pixels to dst pixels. Fails only when out of memory. */
static ildiff_status axis_make(axis_weights *a, int32_t src, int32_t dst)
{
    memset(a, 0, sizeof *a);
    int64_t per = dst < src ? (src + dst - 1) / dst + 1 : 2; /* most entries one output index can need */
    size_t entries = (size_t)dst * (size_t)per;
    a->start = malloc(sizeof(int32_t) * (size_t)dst);
    a->count = malloc(sizeof(int32_t) * (size_t)dst);
    a->idx = malloc(sizeof(int32_t) * entries);
    a->w = malloc(sizeof(int64_t) * entries);
    if (!a->start || !a->count || !a->idx || !a->w) {
        axis_free(a);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for resize weights");
    }
    int32_t n = 0;
    if (dst <= src) { /* area: output x covers [x*src, (x+1)*src) in units of 1/dst source pixels */
        a->denom = src;
        for (int32_t x = 0; x < dst; x++) {
            int64_t lo = (int64_t)x * src, hi = lo + src;
            a->start[x] = n;
            for (int64_t s = lo / dst; s < src && s * dst < hi; s++) {
                int64_t overlap = ILD_MIN(hi, (s + 1) * dst) - ILD_MAX(lo, s * dst);
                if (overlap <= 0) continue;
                a->idx[n] = (int32_t)s;
                a->w[n++] = overlap;
            }
            a->count[x] = n - a->start[x];
        }
    } else { /* bilinear: centre of output x sits at ((2x+1)*src - dst) / (2*dst) in source pixels */
        int64_t d = 2 * (int64_t)dst;
        a->denom = d;
        for (int32_t x = 0; x < dst; x++) {
            int64_t p = (2 * (int64_t)x + 1) * src - dst;
            int64_t i0 = p >= 0 ? p / d : -1, frac = p - i0 * d;
            int64_t lo = ILD_CLAMP(i0, 0, (int64_t)src - 1), hi = ILD_CLAMP(i0 + 1, 0, (int64_t)src - 1);
            a->start[x] = n;
            a->idx[n] = (int32_t)lo;
            a->w[n++] = d - frac;
            a->idx[n] = (int32_t)hi;
            a->w[n++] = frac;
            a->count[x] = 2;
        }
    }
    return ILDIFF_OK;
}

/* Copies everything but pixels and size from src to dst (durations must already have room). */
static void copy_meta(ildiff_anim *dst, const ildiff_anim *src)
{
    dst->loop_count = src->loop_count;
    dst->source = src->source;
    dst->source_has_alpha = src->source_has_alpha;
}

/* Resamples one (sh, sw, 4) frame to (dh, dw, 4). tmp holds (sh, dw, 4) premultiplied sums. */
static void resize_frame(uint8_t *dst, const uint8_t *src, int32_t sw, int32_t sh, int32_t dw, int32_t dh,
                         const axis_weights *ax, const axis_weights *ay, int64_t *tmp)
{
    for (int32_t y = 0; y < sh; y++) {
        const uint8_t *row = src + (size_t)y * (size_t)sw * 4;
        int64_t *t = tmp + (size_t)y * (size_t)dw * 4;
        for (int32_t x = 0; x < dw; x++) {
            int64_t r = 0, g = 0, b = 0, al = 0;
            for (int32_t k = ax->start[x], e = k + ax->count[x]; k < e; k++) {
                const uint8_t *p = row + (size_t)ax->idx[k] * 4;
                int64_t wa = ax->w[k] * p[3];
                r += wa * p[0];
                g += wa * p[1];
                b += wa * p[2];
                al += wa;
            }
            t[4 * x] = r, t[4 * x + 1] = g, t[4 * x + 2] = b, t[4 * x + 3] = al;
        }
    }
    int64_t den = ax->denom * ay->denom;
    for (int32_t y = 0; y < dh; y++) {
        uint8_t *out = dst + (size_t)y * (size_t)dw * 4;
        for (int32_t x = 0; x < dw; x++) {
            int64_t acc[4] = {0, 0, 0, 0};
            for (int32_t k = ay->start[y], e = k + ay->count[y]; k < e; k++) {
                const int64_t *t = tmp + ((size_t)ay->idx[k] * (size_t)dw + (size_t)x) * 4;
                for (int c = 0; c < 4; c++) acc[c] += ay->w[k] * t[c];
            }
            /* acc[3] = sum(alpha * weight); colour is the alpha-weighted mean, alpha the plain mean */
            for (int c = 0; c < 3; c++)
                out[4 * x + c] = acc[3] > 0 ? (uint8_t)ILD_MIN((acc[c] + acc[3] / 2) / acc[3], 255) : 0;
            out[4 * x + 3] = (uint8_t)ILD_MIN((acc[3] + den / 2) / den, 255);
        }
    }
}

ildiff_status ildiff_anim_resize(const ildiff_anim *anim, int32_t new_width, int32_t new_height, ildiff_anim **out)
{
    *out = NULL;
    int32_t sw = anim->width, sh = anim->height;
    if (new_width <= 0 || new_height <= 0 || new_width > MAX_RESIZE_SIDE || new_height > MAX_RESIZE_SIDE)
        return ild_fail(ILDIFF_ERR_ARG, "invalid resize target %dx%d", new_width, new_height);
    if (sw > MAX_RESIZE_SIDE || sh > MAX_RESIZE_SIDE)
        return ild_fail(ILDIFF_ERR_LIMIT, "cannot resize a %dx%d animation (sides up to %d)", sw, sh, MAX_RESIZE_SIDE);
    ildiff_anim *a;
    ildiff_status st = ildiff_anim_new(new_width, new_height, anim->frame_count, 1, &a);
    if (st != ILDIFF_OK) return st;
    memcpy(a->durations_ms, anim->durations_ms, sizeof(int32_t) * (size_t)anim->frame_count);
    copy_meta(a, anim);
    axis_weights ax, ay;
    int64_t *tmp = NULL;
    size_t tmp_n;
    st = axis_make(&ax, sw, new_width);
    if (st != ILDIFF_OK) goto fail_a;
    st = axis_make(&ay, sh, new_height);
    if (st != ILDIFF_OK) goto fail_ax;
    if (!ild_mul_size4(&tmp_n, (size_t)sh, (size_t)new_width, 4, sizeof(int64_t)) || !(tmp = malloc(tmp_n))) {
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory resizing to %dx%d", new_width, new_height);
        goto fail_ay;
    }
    for (int32_t f = 0; f < anim->frame_count; f++)
        resize_frame(ildiff_anim_frame(a, f), ildiff_anim_frame(anim, f), sw, sh, new_width, new_height, &ax, &ay, tmp);
    free(tmp);
    axis_free(&ay);
    axis_free(&ax);
    *out = a;
    return ILDIFF_OK;
fail_ay:
    axis_free(&ay);
fail_ax:
    axis_free(&ax);
fail_a:
    ildiff_anim_free(a);
    return st;
}

ildiff_status ildiff_anim_fit(const ildiff_anim *anim, int32_t box_w, int32_t box_h, int32_t canvas_w,
                              int32_t canvas_h, ildiff_anim **out)
{
    *out = NULL;
    if (box_w <= 0 || box_h <= 0 || canvas_w < 0 || canvas_h < 0)
        return ild_fail(ILDIFF_ERR_ARG, "invalid fit box %dx%d on canvas %dx%d", box_w, box_h, canvas_w, canvas_h);
    int64_t w = anim->width, h = anim->height, nw, nh;
    if (w * box_h >= h * box_w) { /* width is the limiting side */
        nw = box_w;
        nh = ILD_MAX(1, (h * box_w + w / 2) / w);
    } else {
        nh = box_h;
        nw = ILD_MAX(1, (w * box_h + h / 2) / h);
    }
    int32_t cw = canvas_w ? canvas_w : (int32_t)nw, ch = canvas_h ? canvas_h : (int32_t)nh;
    if (nw > cw || nh > ch) return ild_fail(ILDIFF_ERR_ARG, "canvas %dx%d is smaller than the %lldx%lld picture", cw, ch,
                                            (long long)nw, (long long)nh);
    ildiff_anim *scaled; /* at the same size the resize is an exact copy */
    ildiff_status st = ildiff_anim_resize(anim, (int32_t)nw, (int32_t)nh, &scaled);
    if (st != ILDIFF_OK) return st;
    if (cw == nw && ch == nh) {
        *out = scaled;
        return ILDIFF_OK;
    }
    ildiff_anim *a;
    st = ildiff_anim_new(cw, ch, anim->frame_count, 1, &a);
    if (st != ILDIFF_OK) {
        ildiff_anim_free(scaled);
        return st;
    }
    memcpy(a->durations_ms, anim->durations_ms, sizeof(int32_t) * (size_t)anim->frame_count);
    copy_meta(a, anim);
    int64_t ox = (cw - nw) / 2, oy = (ch - nh) / 2;
    for (int32_t f = 0; f < a->frame_count; f++) {
        const uint8_t *src = ildiff_anim_frame(scaled, f);
        uint8_t *dst = ildiff_anim_frame(a, f);
        for (int64_t y = 0; y < nh; y++)
            memcpy(dst + ((size_t)(y + oy) * (size_t)cw + (size_t)ox) * 4, src + (size_t)y * (size_t)nw * 4, (size_t)nw * 4);
    }
    ildiff_anim_free(scaled);
    *out = a;
    return ILDIFF_OK;
}

/* Start of grid slot k in ms for a grid of max_fps slots per second. */
static int64_t grid_ms(int64_t k, double max_fps) { return llround((double)k * 1000.0 / max_fps); }

/* True when the cumulative frame boundaries (ends[i], ascending, ends[n-1] excluded) all sit on the grid. */
static bool on_grid(const int64_t *ends, int32_t n, double max_fps)
{
    for (int32_t i = 0; i + 1 < n; i++) {
        int64_t k = llround((double)ends[i] * max_fps / 1000.0);
        if (grid_ms(k, max_fps) != ends[i]) return false;
    }
    return true;
}

/* Builds the output from a list of (source frame, duration) pairs. */
static ildiff_status assemble(const ildiff_anim *anim, const int32_t *pick, const int64_t *dur, int32_t n, ildiff_anim **out)
{
    ildiff_anim *a;
    ildiff_status st = ildiff_anim_new(anim->width, anim->height, n, 1, &a);
    if (st != ILDIFF_OK) return st;
    copy_meta(a, anim);
    size_t frame_bytes = (size_t)anim->width * (size_t)anim->height * 4;
    for (int32_t i = 0; i < n; i++) {
        memcpy(ildiff_anim_frame(a, i), ildiff_anim_frame(anim, pick[i]), frame_bytes);
        a->durations_ms[i] = (int32_t)ILD_CLAMP(dur[i], 1, INT32_MAX);
    }
    *out = a;
    return ILDIFF_OK;
}

/* Resamples frames 0..n-1 (cumulative ends in ends[], total = ends[n-1]) onto the grid into pick/dur; returns
 * the output count (<= n). */
static int32_t resample(const int64_t *ends, int32_t n, double max_fps, int32_t *pick, int64_t *dur)
{
    int64_t total = ends[n - 1];
    int32_t m = 0, src = 0;
    int64_t k = 0, t = 0;
    while (t < total) {
        while (ends[src] <= t) src++; /* frame visible at t */
        pick[m] = src; /* distinct from pick[m - 1]: t is at or past that frame's end */
        /* next slot at or after the end of this frame */
        int64_t nk = (int64_t)floor((double)ends[src] * max_fps / 1000.0);
        if (nk <= k) nk = k + 1;
        while (grid_ms(nk, max_fps) < ends[src]) nk++;
        while (nk > k + 1 && grid_ms(nk - 1, max_fps) >= ends[src]) nk--;
        int64_t next = ILD_MIN(grid_ms(nk, max_fps), total);
        dur[m++] = next - t;
        k = nk;
        t = next;
    }
    /* a short tail (total not on the grid) joins the frame before it */
    int64_t min_ms = (int64_t)floor(1000.0 / max_fps);
    if (m > 1 && dur[m - 1] < min_ms) {
        dur[m - 2] += dur[m - 1];
        m--;
    }
    return m;
}

ildiff_status ildiff_anim_retime(const ildiff_anim *anim, double max_fps, int64_t max_duration_ms, ildiff_anim **out)
{
    *out = NULL;
    if (!(max_fps >= 0) || !isfinite(max_fps) || max_duration_ms < 0)
        return ild_fail(ILDIFF_ERR_ARG, "invalid retime: max fps %g, max duration %lld ms", max_fps, (long long)max_duration_ms);
    if (max_fps >= 1000) max_fps = 0; /* every frame lasts >= 1 ms already */
    int32_t n = anim->frame_count;
    int64_t *ends = malloc(sizeof(int64_t) * (size_t)n), *dur = malloc(sizeof(int64_t) * (size_t)n);
    int32_t *pick = malloc(sizeof(int32_t) * (size_t)n);
    if (!ends || !dur || !pick) {
        free(ends), free(dur), free(pick);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory retiming %d frames", n);
    }
    /* cut at max_duration_ms: keep frames that start before it, shorten the last one */
    int64_t t = 0;
    int32_t kept = 0;
    for (int32_t i = 0; i < n; i++) {
        if (max_duration_ms > 0 && t >= max_duration_ms) break;
        int64_t d = ILD_MAX(anim->durations_ms[i], 1);
        if (max_duration_ms > 0) d = ILD_MIN(d, max_duration_ms - t);
        t += d;
        ends[kept++] = t;
    }
    bool too_fast = false;
    for (int32_t i = 0; i < kept && max_fps > 0; i++)
        if ((double)(ends[i] - (i ? ends[i - 1] : 0)) * max_fps < 1000.0) too_fast = true;
    int32_t m;
    if (too_fast && !on_grid(ends, kept, max_fps)) {
        m = resample(ends, kept, max_fps, pick, dur);
    } else {
        for (int32_t i = 0; i < kept; i++) pick[i] = i, dur[i] = ends[i] - (i ? ends[i - 1] : 0);
        m = kept;
    }
    ildiff_status st = assemble(anim, pick, dur, m, out);
    free(ends), free(dur), free(pick);
    return st;
}
