/*
 * preset.c: the platform presets and the search that makes an encoded file fit a preset's byte limit.
 *
 * A preset is applied in a fixed order: cut at the longest duration and cap the frame rate (ildiff_anim_retime),
 * apply the platform's frame-count and whole-second rules, then fit the canvas (ildiff_anim_fit), then force the
 * loop count. The search then encodes at the caller's quality; when the file is over the byte limit it lowers,
 * in this order: quality (binary search between QUALITY_MIN and the caller's quality), frame rate (FPS_STEPS,
 * never below 8 fps or a quarter of the source's rate, whichever is lower),
 * and, for presets whose size may change, the canvas (SCALE_STEPS, never below the preset's smallest side).
 * Each size is first probed at its lowest frame rate and quality, so a size that cannot fit costs one encode;
 * the highest frame rate that fits is then found by binary search over the steps, then the highest quality.
 * When nothing fits the result is ILDIFF_ERR_NOFIT with the smallest file tried in the reason.
 *
 * Limits come from /work/shared/research/ecosystem.md section 1; byte limits use the smaller reading of "KB"
 * (1000 bytes) unless the platform's own code gives the number (Signal 300 * 1024).
 */
#include "preset.h"

#include <math.h>
#include <string.h>

static const ildiff_preset presets[] = {
    {"telegram", "Telegram video sticker: WebM VP9 with alpha, one side 512 px, <= 30 fps, <= 3 s, <= 256 KB, no audio",
     ILDIFF_FORMAT_WEBM, 0, 0, 512, true, 30.0, 3000, 0, 256000, 0},
    {"whatsapp", "WhatsApp animated sticker: WebP 512x512, <= 500 KB, every frame >= 8 ms, <= 10 s", ILDIFF_FORMAT_WEBP,
     512, 512, 0, false, 0.0, 10000, 8, 500000, 0},
    {"signal", "Signal sticker: APNG, square <= 512 px, <= 300 KiB, loops forever, <= 3 s (duration UNCONFIRMED)",
     ILDIFF_FORMAT_APNG, 512, 512, 0, false, 0.0, 3000, 0, 300 * 1024, 0},
    {"discord", "Discord sticker: APNG 320x320, <= 512000 bytes, <= 5 s", ILDIFF_FORMAT_APNG, 320, 320, 0, false, 0.0, 5000,
     0, 512000, 0},
    {"line", "LINE animated sticker: APNG within 320x270, 5-20 frames, 1-4 s in whole seconds, <= 300 KB",
     ILDIFF_FORMAT_APNG, 0, 0, 320, true, 0.0, 4000, 0, 300000, -1},
    {"imessage", "iMessage sticker: APNG 408x408 (regular size), <= 500 KB (format list UNCONFIRMED)", ILDIFF_FORMAT_APNG,
     408, 408, 0, false, 0.0, 0, 0, 500000, 0},
    {NULL, NULL, ILDIFF_FORMAT_UNKNOWN, 0, 0, 0, false, 0.0, 0, 0, 0, -1},
};

/* Rules the public struct cannot express, by preset name. */
typedef struct preset_rules {
    const char *name;
    int32_t box_h;      /* fit box height when it differs from max_side (LINE: 270) */
    int32_t min_side;   /* smallest side the size search may go down to; 0 = the size is fixed */
    int32_t min_frames; /* 0 = no minimum */
    int32_t max_frames; /* 0 = no maximum */
    int32_t max_plays;  /* > 0: total is whole seconds, loop count = plays that fit in max_duration_ms (LINE) */
} preset_rules;

static const preset_rules rules_table[] = {
    {"signal", 0, 128, 0, 0, 0}, /* Signal takes square APNGs 10-512 px; below 128 is not worth sending */
    {"line", 270, 0, 5, 20, 4},
};

static const float QUALITY_MIN = 5.0f;
static const double FPS_STEPS[] = {24, 20, 15, 12, 10, 8, 6, 5, 4, 3, 2};
static const double SCALE_STEPS[] = {1.0, 0.8, 0.64, 0.5, 0.4, 0.32, 0.25};
enum { FPS_STEP_COUNT = sizeof FPS_STEPS / sizeof FPS_STEPS[0], SCALE_STEP_COUNT = sizeof SCALE_STEPS / sizeof SCALE_STEPS[0] };

const ildiff_preset *ildiff_presets(void) { return presets; }

const ildiff_preset *ildiff_preset_find(const char *name)
{
    if (!name) return NULL;
    for (const ildiff_preset *p = presets; p->name; p++)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}

/* The table's rules for a built-in preset; a caller's own preset may shrink when its canvas is free. */
static preset_rules rules_for(const ildiff_preset *p)
{
    for (size_t i = 0; i < sizeof rules_table / sizeof rules_table[0]; i++)
        if (p->name && strcmp(p->name, rules_table[i].name) == 0) return rules_table[i];
    preset_rules r = {p->name, 0, 0, 0, 0, 0};
    if (p->canvas_w <= 0 && !p->one_side_exact) r.min_side = 16;
    return r;
}

static double average_fps(const ildiff_anim *a) { return (double)a->frame_count * 1000.0 / (double)ildiff_anim_duration_ms(a); }

static double min_cap(double a, double b) { return a <= 0 ? b : b <= 0 ? a : ILD_MIN(a, b); }

/* Splits the longest frames until there are min_frames (a frame of 1 ms is never split). */
static ildiff_status split_to(ildiff_anim *src, int32_t min_frames, ildiff_anim **out)
{
    *out = NULL;
    int32_t n = src->frame_count, total = 0;
    int32_t *parts = malloc(sizeof(int32_t) * (size_t)n);
    if (!parts) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n; i++) parts[i] = 1;
    for (total = n; total < min_frames; total++) {
        int32_t best = -1;
        for (int32_t i = 0; i < n; i++)
            if (src->durations_ms[i] > parts[i] &&
                (best < 0 || (double)src->durations_ms[i] / parts[i] > (double)src->durations_ms[best] / parts[best]))
                best = i;
        if (best < 0) break;
        parts[best]++;
    }
    ildiff_anim *a;
    ildiff_status st = ildiff_anim_new(src->width, src->height, total, 1, &a);
    if (st == ILDIFF_OK) {
        a->loop_count = src->loop_count, a->source = src->source, a->source_has_alpha = src->source_has_alpha;
        size_t bytes = (size_t)src->width * (size_t)src->height * 4;
        for (int32_t i = 0, o = 0; i < n; i++)
            for (int32_t k = 0; k < parts[i]; k++, o++) {
                memcpy(ildiff_anim_frame(a, o), ildiff_anim_frame(src, i), bytes);
                int32_t d = src->durations_ms[i];
                a->durations_ms[o] = d / parts[i] + (k < d % parts[i]);
            }
        *out = a;
    }
    free(parts);
    return st;
}

/* Stretches or squeezes the timing to a whole number of seconds (1 .. max_duration) and sets the loop count to
 * the plays that fit in max_duration (at most max_plays). Needs frame_count <= 1000 * seconds. */
static void whole_seconds(ildiff_anim *a, int64_t max_duration_ms, int32_t max_plays)
{
    int64_t total = ildiff_anim_duration_ms(a), max_s = ILD_MAX(max_duration_ms / 1000, 1);
    int64_t target = ILD_CLAMP((total + 500) / 1000, 1, max_s) * 1000;
    int64_t acc = 0, prev = 0;
    for (int32_t i = 0; i < a->frame_count; i++) {
        acc += a->durations_ms[i];
        int64_t end = (acc * target + total / 2) / total;
        int64_t room = target - (a->frame_count - 1 - i); /* leave >= 1 ms for each later frame */
        end = ILD_CLAMP(end, prev + 1, room);
        if (i == a->frame_count - 1) end = target;
        a->durations_ms[i] = (int32_t)(end - prev);
        prev = end;
    }
    a->loop_count = (int32_t)ILD_CLAMP(max_s * 1000 / target, 1, max_plays);
}

/* Cut, frame rate cap and the frame-count rules. */
static ildiff_status apply_timing(const ildiff_anim *anim, const ildiff_preset *p, const preset_rules *r, double fps_cap,
                                  ildiff_anim **out)
{
    double cap = min_cap(p->max_fps, p->min_frame_ms > 0 ? 1000.0 / p->min_frame_ms : 0);
    cap = min_cap(cap, fps_cap);
    ildiff_anim *a;
    ildiff_status st = ildiff_anim_retime(anim, cap, p->max_duration_ms, &a);
    if (st != ILDIFF_OK) return st;
    if (r->max_frames > 0 && a->frame_count > r->max_frames) {
        double c = (double)r->max_frames * 1000.0 / (double)ildiff_anim_duration_ms(a);
        for (int tries = 0; st == ILDIFF_OK && a->frame_count > r->max_frames && tries < 100; tries++, c *= 0.95) {
            ildiff_anim_free(a);
            st = ildiff_anim_retime(anim, min_cap(cap, c), p->max_duration_ms, &a);
        }
        if (st != ILDIFF_OK) return st;
    }
    if (r->min_frames > 0 && a->frame_count < r->min_frames) {
        ildiff_anim *b;
        st = split_to(a, r->min_frames, &b);
        ildiff_anim_free(a);
        if (st != ILDIFF_OK) return st;
        a = b;
    }
    if (r->max_plays > 0) whole_seconds(a, p->max_duration_ms, r->max_plays);
    *out = a;
    return ILDIFF_OK;
}

static int32_t scaled(int32_t v, double scale) { return (int32_t)ILD_MAX(1, lround(v * scale)); }

/* Canvas rules at `scale` of the preset's size. WebM gets even sides (yuva420p) by a transparent pad. */
static ildiff_status apply_canvas(const ildiff_anim *a, const ildiff_preset *p, const preset_rules *r, double scale,
                                  ildiff_anim **out)
{
    ildiff_status st;
    if (p->canvas_w > 0 && p->canvas_h > 0) {
        int32_t cw = scaled(p->canvas_w, scale), ch = scaled(p->canvas_h, scale);
        return ildiff_anim_fit(a, cw, ch, cw, ch, out);
    }
    int32_t bw = p->max_side > 0 ? p->max_side : a->width, bh = r->box_h > 0 ? r->box_h : p->max_side > 0 ? p->max_side : a->height;
    bw = scaled(bw, scale), bh = scaled(bh, scale);
    if (p->one_side_exact || a->width > bw || a->height > bh) st = ildiff_anim_fit(a, bw, bh, 0, 0, out);
    else st = ildiff_anim_resize(a, a->width, a->height, out);
    if (st != ILDIFF_OK || p->format != ILDIFF_FORMAT_WEBM || ((*out)->width % 2 == 0 && (*out)->height % 2 == 0)) return st;
    ildiff_anim *b = *out;
    st = ildiff_anim_fit(b, b->width, b->height, b->width + b->width % 2, b->height + b->height % 2, out);
    ildiff_anim_free(b);
    return st;
}

/* The animation for one search level: timing at fps_cap (0 = the preset's own), canvas at scale. */
static ildiff_status prepare_level(const ildiff_anim *anim, const ildiff_preset *p, const preset_rules *r, double scale,
                                   double fps_cap, ildiff_anim **out)
{
    *out = NULL;
    ildiff_anim *t;
    ildiff_status st = apply_timing(anim, p, r, fps_cap, &t);
    if (st != ILDIFF_OK) return st;
    st = apply_canvas(t, p, r, scale, out);
    if (st == ILDIFF_OK && p->loop_count >= 0) (*out)->loop_count = p->loop_count;
    if (st == ILDIFF_OK && r->max_plays > 0) (*out)->loop_count = t->loop_count;
    ildiff_anim_free(t);
    return st;
}

ildiff_status ild_preset_prepare(const ildiff_anim *anim, const ildiff_preset *preset, ildiff_anim **out)
{
    preset_rules r = rules_for(preset);
    return prepare_level(anim, preset, &r, 1.0, 0, out);
}

typedef struct search {
    const ildiff_preset *p;
    const preset_rules *r;
    ildiff_write_options wo;
    ild_encode_fn encode;
    bool quality_matters; /* false when the encoder's size does not depend on quality (e.g. lossless formats) */
    int attempts;
    uint8_t *best;        /* the best fitting file so far, described by rep */
    size_t best_size, last_size;
    ildiff_fit_report rep;
    size_t smallest;      /* smallest file tried, for the NOFIT reason */
    char smallest_desc[128];
} search;

/* Encodes `a` at quality q; *fits tells whether it is within the limit. A fitting file replaces the kept one, so
 * callers only try settings better than the kept file's. */
static ildiff_status attempt(search *s, const ildiff_anim *a, float q, bool *fits)
{
    s->wo.quality = q;
    uint8_t *data;
    size_t size;
    ildiff_status st = s->encode(a, s->p->format, &s->wo, &data, &size);
    if (st != ILDIFF_OK) return st;
    s->attempts++;
    s->last_size = size;
    *fits = s->p->max_bytes <= 0 || (int64_t)size <= s->p->max_bytes;
    ILD_INFO("%s: %dx%d, %d frames at %.3g fps, %s %.0f: %zu bytes%s", s->p->name ? s->p->name : "fit", a->width, a->height,
             a->frame_count, average_fps(a), s->wo.lossless ? "lossless" : "quality", q, size, *fits ? "" : " (over the limit)");
    if (s->smallest == 0 || size < s->smallest) {
        s->smallest = size;
        snprintf(s->smallest_desc, sizeof s->smallest_desc, "%dx%d, %d frames at %.3g fps, %s %.0f", a->width, a->height,
                 a->frame_count, average_fps(a), s->wo.lossless ? "lossless" : "quality", q);
    }
    if (!*fits) {
        free(data);
        return ILDIFF_OK;
    }
    free(s->best);
    s->best = data;
    s->best_size = size;
    s->rep = (ildiff_fit_report){a->width, a->height, a->frame_count, average_fps(a), q, size, 0, false};
    return ILDIFF_OK;
}

/* With `lo` known to fit and `hi` known not to, finds the highest quality that fits, to within 2. */
static ildiff_status bisect_quality(search *s, const ildiff_anim *a, float lo, float hi)
{
    while (hi - lo > 2.0f) {
        float mid = floorf((lo + hi) / 2.0f);
        bool fits;
        ildiff_status st = attempt(s, a, mid, &fits);
        if (st != ILDIFF_OK) return st;
        if (fits) lo = mid;
        else hi = mid;
    }
    return ILDIFF_OK;
}

/* One encode at (scale, fps_cap) with the lowest quality worth trying: does this level fit at all? */
static ildiff_status probe(search *s, const ildiff_anim *anim, double scale, double fps_cap, float q0, bool *fits)
{
    ildiff_anim *a;
    ildiff_status st = prepare_level(anim, s->p, s->r, scale, fps_cap, &a);
    if (st != ILDIFF_OK) return st;
    st = attempt(s, a, s->quality_matters ? QUALITY_MIN : q0, fits);
    ildiff_anim_free(a);
    return st;
}

/* The highest quality that fits at (scale, fps_cap), a level known to fit at QUALITY_MIN (its file kept). */
static ildiff_status best_quality(search *s, const ildiff_anim *anim, double scale, double fps_cap, float q0)
{
    if (!s->quality_matters || q0 <= QUALITY_MIN) return ILDIFF_OK;
    ildiff_anim *a;
    ildiff_status st = prepare_level(anim, s->p, s->r, scale, fps_cap, &a);
    if (st != ILDIFF_OK) return st;
    bool fits;
    st = attempt(s, a, q0, &fits);
    if (st == ILDIFF_OK && !fits) st = bisect_quality(s, a, QUALITY_MIN, q0);
    ildiff_anim_free(a);
    return st;
}

/* The frame-rate caps to try: 0 (the preset's own), then FPS_STEPS under 97% of fps0 and not under
 * min(8, fps0 / 4): a slow animation may lose frames, a smooth one keeps at least 8 per second. Returns the count. */
static int fps_levels(double fps0, double *levels)
{
    int n = 0;
    levels[n++] = 0;
    for (int i = 0; i < FPS_STEP_COUNT; i++)
        if (FPS_STEPS[i] < fps0 * 0.97 && FPS_STEPS[i] >= ILD_MIN(8.0, fps0 / 4)) levels[n++] = FPS_STEPS[i];
    return n;
}

static int32_t preset_side(const ildiff_preset *p, const ildiff_anim *a)
{
    if (p->canvas_w > 0) return ILD_MIN(p->canvas_w, p->canvas_h);
    if (p->max_side > 0) return p->max_side;
    return ILD_MAX(a->width, a->height);
}

/* Level 0 (full size, the preset's frame rate) at q0 did not fit: search quality, then frame rate, then size. */
static ildiff_status search_down(search *s, const ildiff_anim *anim, const ildiff_anim *level0, bool lossless0, float q0,
                                 bool *found)
{
    bool fits;
    ildiff_status st;
    *found = false;
    s->wo.lossless = false; /* lossless does not shrink with quality: search lossy */
    s->quality_matters = true;
    size_t size_q0 = s->last_size;
    st = attempt(s, level0, QUALITY_MIN, &fits);
    if (!lossless0) s->quality_matters = s->last_size != size_q0; /* does quality change the size at all? */
    if (st == ILDIFF_OK && fits) {
        *found = true;
        bool top = false;
        if (lossless0 && q0 > QUALITY_MIN) st = attempt(s, level0, q0, &top); /* lossy at q0 is not tried yet */
        if (st == ILDIFF_OK && !top && s->quality_matters && q0 > QUALITY_MIN) st = bisect_quality(s, level0, QUALITY_MIN, q0);
    }
    if (st != ILDIFF_OK || *found) return st;
    double fps[FPS_STEP_COUNT + 1];
    int nf = fps_levels(average_fps(level0), fps);
    int32_t side = preset_side(s->p, anim);
    for (int si = 0; si < SCALE_STEP_COUNT; si++) {
        double scale = SCALE_STEPS[si];
        if (si > 0 && (s->r->min_side <= 0 || side * scale < s->r->min_side)) break;
        int lo = si == 0 ? 1 : 0, hi = nf - 1; /* frame-rate levels not yet known to fail */
        if (lo > hi) continue;
        st = probe(s, anim, scale, fps[hi], q0, &fits);
        if (st != ILDIFF_OK) return st;
        if (!fits) continue; /* not even the lowest frame rate fits at this size */
        while (lo < hi) {    /* the highest frame rate that fits; the kept file is always level hi's */
            int mid = (lo + hi) / 2;
            st = probe(s, anim, scale, fps[mid], q0, &fits);
            if (st != ILDIFF_OK) return st;
            if (fits) hi = mid;
            else lo = mid + 1;
        }
        *found = true;
        return best_quality(s, anim, scale, fps[hi], q0);
    }
    return ILDIFF_OK;
}

ildiff_status ild_preset_encode_with(const ildiff_anim *anim, const ildiff_preset *preset, const ildiff_write_options *opts,
                                     ild_encode_fn encode, uint8_t **out, size_t *out_size, ildiff_fit_report *report)
{
    *out = NULL;
    *out_size = 0;
    if (!anim || !preset || anim->frame_count <= 0) return ild_fail(ILDIFF_ERR_ARG, "no animation or preset");
    if (preset->format == ILDIFF_FORMAT_FRAMES || preset->format == ILDIFF_FORMAT_UNKNOWN)
        return ild_fail(ILDIFF_ERR_ARG, "a preset must name a file format");
    preset_rules r = rules_for(preset);
    search s = {.p = preset, .r = &r, .wo = opts ? *opts : ildiff_write_options_default(), .encode = encode};
    s.wo.loop_count = -1; /* the prepared animation carries the preset's loop count */
    float q0 = ILD_CLAMP(s.wo.quality, QUALITY_MIN, 100.0f);
    ildiff_anim *a;
    ildiff_status st = prepare_level(anim, preset, &r, 1.0, 0, &a);
    if (st != ILDIFF_OK) return st;
    bool fits, found = false;
    st = attempt(&s, a, q0, &fits);
    if (st == ILDIFF_OK && !fits) st = search_down(&s, anim, a, opts && opts->lossless, q0, &found);
    ildiff_anim_free(a);
    if (st == ILDIFF_OK && !fits && !found)
        st = ild_fail(ILDIFF_ERR_NOFIT, "%s: cannot fit in %lld bytes: the smallest file tried (%s) is %zu bytes",
                      preset->name ? preset->name : "preset", (long long)preset->max_bytes, s.smallest_desc, s.smallest);
    if (st != ILDIFF_OK) {
        free(s.best);
        return st;
    }
    s.rep.attempts = s.attempts;
    s.rep.reduced = !fits;
    if (report) *report = s.rep;
    *out = s.best;
    *out_size = s.best_size;
    return ILDIFF_OK;
}

ildiff_status ildiff_preset_encode(const ildiff_anim *anim, const ildiff_preset *preset, const ildiff_write_options *opts,
                                   uint8_t **out, size_t *out_size, ildiff_fit_report *report)
{
    return ild_preset_encode_with(anim, preset, opts, ildiff_anim_encode, out, out_size, report);
}
