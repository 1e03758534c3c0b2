/*
 * plan.c: the plan of one sample, drawn from its own seed = hash(corpus seed, index): frame count and fps (spread
 * like TASD, mean about 16.8 frames), 1-3 icons of the sample's split (the subject and small companions), the
 * subject's motion and part motion, the effect, the keyframe, trigger words and captions. Every random choice is
 * made in a fixed order from one stream, so a plan depends only on (seed, index, split, sources).
 * Icons with enclosed holes are favoured (a hole-less subject is redrawn up to 4 times, each with probability 0.75), so
 * semi-open areas are common, as in real stickers.
 */
#include "dataset.h"

#include <math.h>
#include <string.h>

uint64_t ild_sample_seed(uint64_t corpus_seed, int64_t index)
{
    return ild_mix64(corpus_seed ^ ild_mix64((uint64_t)index * 0x2545f4914f6cdd1dULL + 1));
}

void ild_plan_clear(ild_plan *p)
{
    for (int i = 0; i < ILD_MAX_OBJECTS; i++) ild_svg_parts_free(&p->obj[i].parts);
    memset(p, 0, sizeof *p);
}

static const int frame_options[] = {8, 10, 12, 14, 16, 18, 20, 24};
static const double frame_weights[] = {1, 1, 2, 2, 3, 2, 3, 3};
static const int fps_options[] = {8, 10, 12, 15, 20, 25};
static const double fps_weights[] = {1, 2, 3, 3, 2, 1};

/* Picks an icon of the split and parses and measures it into o. */
static ildiff_status pick_icon(const ild_sources *src, ild_split split, ild_rng *rng, ild_plan_object *o, bool *hole)
{
    const ild_icon_ref *list = src->split_icons[split];
    int32_t n = src->split_count[split];
    ild_svg_parts_free(&o->parts);
    o->ref = list[ild_rng_int(rng, n)];
    const ild_icon *ic = &src->sets[o->ref.set].icons[o->ref.icon];
    ildiff_status st = ild_svg_parts_split(ic->body, &o->parts);
    if (st == ILDIFF_OK) st = ild_measure_parts(src, o, hole);
    return st;
}

/* Sets the motion of an object and its amplitude, cycles and phase. */
static void pick_motion(ild_rng *rng, ild_plan_object *o, ild_motion m)
{
    o->motion = m;
    o->cycles = 1 + (double)ild_rng_int(rng, 2);
    o->phase = ild_rng_unit(rng);
    switch (m) {
    case ILD_MOTION_BOUNCE: o->amp = ild_rng_range(rng, 0.10, 0.18); break;
    case ILD_MOTION_SQUASH: o->amp = ild_rng_range(rng, 0.06, 0.12); break;
    case ILD_MOTION_WOBBLE: o->amp = ild_rng_range(rng, 8, 18); break;
    case ILD_MOTION_PULSE: o->amp = ild_rng_range(rng, 0.05, 0.12); break;
    case ILD_MOTION_SPIN: o->amp = ild_rng_unit(rng) < 0.5 ? -1 : 1; o->cycles = 1; break;
    case ILD_MOTION_SLIDE_IN: o->amp = (ild_rng_unit(rng) < 0.5 ? -1 : 1) * ild_rng_range(rng, 1.3, 1.6); break;
    case ILD_MOTION_SHAKE: o->amp = ild_rng_range(rng, 0.02, 0.05); o->cycles = 3 + (double)ild_rng_int(rng, 2); break;
    case ILD_MOTION_FLOAT: o->amp = ild_rng_range(rng, 0.03, 0.07); break;
    case ILD_MOTION_NOD: o->amp = ild_rng_range(rng, 8, 15); break;
    default: o->amp = 0; break;
    }
}

/* The part of the subject that part_motion moves: a random one among those of a fitting size. */
static void pick_part(const ild_sources *src, ild_rng *rng, ild_plan *p)
{
    const ild_plan_object *o = &p->obj[0];
    int32_t cand[ILD_MAX_PARTS], nc = 0, largest = 0;
    for (int32_t i = 1; i < o->parts.count; i++)
        if (o->part_area[i] > o->part_area[largest]) largest = i;
    double lo = 0.01, hi = 0.4;
    if (p->part_motion == ILD_PART_BLINK) lo = 0.002, hi = 0.06;
    if (p->part_motion == ILD_PART_WAVE || p->part_motion == ILD_PART_SWING) lo = 0.02, hi = 0.35;
    const ild_icon *ic = &src->sets[o->ref.set].icons[o->ref.icon];
    double icon_box = (double)ic->width * ic->height;
    for (int32_t i = 0; i < o->parts.count; i++) {
        const float *b = o->part_bbox[i];
        bool limb = (b[2] - b[0]) * (b[3] - b[1]) < 0.35 * icon_box; /* a part spanning the icon is no limb */
        if (i != largest && limb && o->part_area[i] >= lo && o->part_area[i] <= hi) cand[nc++] = i;
    }
    double u = ild_rng_unit(rng);
    if (nc == 0) {
        p->part_motion = ILD_PART_NONE;
        p->part_index = -1;
    } else {
        p->part_index = cand[(int)(u * nc)];
    }
}

static const float glow_colours[4][3] = {{1, 0.92f, 0.45f}, {1, 0.6f, 0.8f}, {0.5f, 0.95f, 1}, {1, 1, 1}};

ildiff_status ild_plan_make(const ild_sources *src, uint64_t corpus_seed, int64_t index, ild_split split, ild_plan *p)
{
    memset(p, 0, sizeof *p);
    if ((unsigned)split >= ILD_SPLIT_COUNT || src->split_count[split] == 0)
        return ild_fail(ILDIFF_ERR_ARG, "the %s split has no icon in these sources", ild_split_name(split));
    p->index = index;
    p->seed = ild_sample_seed(corpus_seed, index);
    p->split = split;
    p->part_index = -1;
    ild_rng rng = ild_rng_new(p->seed);
    p->frame_count = frame_options[ild_rng_pick(&rng, frame_weights, 8)];
    p->fps = fps_options[ild_rng_pick(&rng, fps_weights, 6)];
    p->duration_ms = (int32_t)lround(1000.0 / p->fps);
    static const double count_w[] = {0.6, 0.3, 0.1};
    p->object_count = 1 + ild_rng_pick(&rng, count_w, 3);

    /* the subject, favouring icons with enclosed holes */
    bool hole = false;
    ildiff_status st = pick_icon(src, split, &rng, &p->obj[0], &hole);
    for (int tries = 0; st == ILDIFF_OK && !hole && tries < 4 && ild_rng_unit(&rng) < 0.75; tries++)
        st = pick_icon(src, split, &rng, &p->obj[0], &hole);
    for (int i = 1; i < p->object_count && st == ILDIFF_OK; i++) st = pick_icon(src, split, &rng, &p->obj[i], NULL);
    if (st != ILDIFF_OK) {
        ild_plan_clear(p);
        return st;
    }

    /* subject motion and part motion */
    static const double motion_w[ILD_MOTION_COUNT] = {[ILD_MOTION_STILL] = 1, [ILD_MOTION_BOUNCE] = 3,
        [ILD_MOTION_SQUASH] = 2, [ILD_MOTION_WOBBLE] = 2, [ILD_MOTION_PULSE] = 2, [ILD_MOTION_SPIN] = 1,
        [ILD_MOTION_SLIDE_IN] = 1, [ILD_MOTION_SHAKE] = 1, [ILD_MOTION_FLOAT] = 2, [ILD_MOTION_NOD] = 2};
    pick_motion(&rng, &p->obj[0], (ild_motion)ild_rng_pick(&rng, motion_w, ILD_MOTION_COUNT));
    static const double part_w[ILD_PART_COUNT] = {5, 2, 1, 2, 1, 1};
    p->part_motion = (ild_part_motion)ild_rng_pick(&rng, part_w, ILD_PART_COUNT);
    pick_part(src, &rng, p);
    if (p->obj[0].motion == ILD_MOTION_STILL && p->part_motion == ILD_PART_NONE) pick_motion(&rng, &p->obj[0], ILD_MOTION_BOUNCE);

    /* placement: the subject in the middle, companions small at its upper sides */
    ild_plan_object *s = &p->obj[0];
    s->side = p->object_count == 1 ? ild_rng_range(&rng, 0.62, 0.74) : ild_rng_range(&rng, 0.52, 0.6);
    s->cx = p->object_count == 1 ? 0.5 : ild_rng_range(&rng, 0.4, 0.46);
    s->cy = 0.5 + (s->motion == ILD_MOTION_BOUNCE ? s->amp * s->side / 2 : 0) + (p->object_count > 1 ? 0.06 : 0);
    static const double comp_w[ILD_MOTION_COUNT] = {[ILD_MOTION_POP_IN] = 4, [ILD_MOTION_PULSE] = 2,
        [ILD_MOTION_FLOAT] = 2, [ILD_MOTION_SPIN] = 1, [ILD_MOTION_BOUNCE] = 1, [ILD_MOTION_WOBBLE] = 1};
    for (int i = 1; i < p->object_count; i++) {
        ild_plan_object *o = &p->obj[i];
        pick_motion(&rng, o, (ild_motion)ild_rng_pick(&rng, comp_w, ILD_MOTION_COUNT));
        o->side = ild_rng_range(&rng, 0.2, 0.28);
        o->cx = i == 1 ? ild_rng_range(&rng, 0.74, 0.8) : ild_rng_range(&rng, 0.16, 0.22);
        o->cy = ild_rng_range(&rng, 0.2, 0.3);
    }

    /* effect */
    static const double effect_w[ILD_EFFECT_COUNT] = {5, 4, 3, 2, 2, 4};
    p->effect = (ild_effect)ild_rng_pick(&rng, effect_w, ILD_EFFECT_COUNT);
    if (p->effect == ILD_EFFECT_MOTION_BLUR && (s->motion == ILD_MOTION_STILL || s->motion == ILD_MOTION_NOD))
        p->effect = ILD_EFFECT_SHADOW;
    p->outline = ild_rng_unit(&rng) < 0.3;
    memcpy(p->effect_rgb, glow_colours[ild_rng_int(&rng, 4)], sizeof p->effect_rgb);
    if (p->effect == ILD_EFFECT_SPARKLES) {
        p->sparkle_count = 3 + (int32_t)ild_rng_int(&rng, ILD_MAX_SPARKLES - 2);
        for (int32_t i = 0; i < p->sparkle_count; i++) {
            double a = 6.283185307179586 * (i + ild_rng_unit(&rng) * 0.6) / p->sparkle_count;
            double r = ild_rng_range(&rng, 0.3, 0.42);
            p->sparkle[i][0] = (float)(0.5 + r * cos(a));
            p->sparkle[i][1] = (float)(0.5 + r * sin(a));
            p->sparkle[i][2] = (float)ild_rng_range(&rng, 0.025, 0.055);
            p->sparkle[i][3] = (float)ild_rng_unit(&rng);
        }
    }
    p->keyframe = ild_plan_keyframe(p);
    ild_plan_words(src, p);
    ild_caption_make(src, p, &rng);
    return ILDIFF_OK;
}

/* Adds vocabulary word `en` to the plan if it is not there and there is room. */
static void add_word(ild_plan *p, const char *en)
{
    int w = ild_vocab_find(en);
    ILD_ASSERT(w >= 0);
    for (int i = 0; i < p->word_count; i++)
        if (p->words[i] == w) return;
    if (p->word_count < ILD_MAX_WORDS) p->words[p->word_count++] = (int16_t)w;
}

void ild_plan_words(const ild_sources *src, ild_plan *p)
{
    static const char *const motion_words[ILD_MOTION_COUNT][2] = {
        [ILD_MOTION_BOUNCE] = {"bounce", "jump"}, [ILD_MOTION_SQUASH] = {"squash", NULL},
        [ILD_MOTION_WOBBLE] = {"wobble", NULL},   [ILD_MOTION_PULSE] = {"pulse", NULL},
        [ILD_MOTION_SPIN] = {"spin", NULL},       [ILD_MOTION_SLIDE_IN] = {"slide", NULL},
        [ILD_MOTION_SHAKE] = {"shake", NULL},     [ILD_MOTION_FLOAT] = {"float", NULL},
        [ILD_MOTION_NOD] = {"nod", NULL},         [ILD_MOTION_POP_IN] = {"pop", NULL}};
    static const char *const part_words[ILD_PART_COUNT][2] = {
        [ILD_PART_WAVE] = {"wave", NULL}, [ILD_PART_SWING] = {"swing", NULL}, [ILD_PART_BLINK] = {"blink", NULL},
        [ILD_PART_BOUNCE] = {"bounce", NULL}, [ILD_PART_PULSE] = {"pulse", NULL}};
    static const char *const effect_words[ILD_EFFECT_COUNT][2] = {
        [ILD_EFFECT_SHADOW] = {"shadow", NULL}, [ILD_EFFECT_GLOW] = {"glow", "shine"},
        [ILD_EFFECT_MOTION_BLUR] = {"blur", NULL}, [ILD_EFFECT_FADE] = {"fade", NULL},
        [ILD_EFFECT_SPARKLES] = {"sparkle", "magic"}};
    p->word_count = 0;
    /* the subject's name first, then one word per companion */
    const ild_icon *ic = &src->sets[p->obj[0].ref.set].icons[p->obj[0].ref.icon];
    p->word_count = ild_vocab_match_name(ic->name, p->words, 0, 4);
    for (int i = 1; i < p->object_count; i++) {
        const ild_icon *c = &src->sets[p->obj[i].ref.set].icons[p->obj[i].ref.icon];
        p->word_count = ild_vocab_match_name(c->name, p->words, p->word_count, p->word_count + 1);
    }
    for (int k = 0; k < 2; k++) {
        if (motion_words[p->obj[0].motion][k]) add_word(p, motion_words[p->obj[0].motion][k]);
        if (part_words[p->part_motion][k]) add_word(p, part_words[p->part_motion][k]);
        if (effect_words[p->effect][k]) add_word(p, effect_words[p->effect][k]);
    }
    if (p->part_motion == ILD_PART_WAVE) add_word(p, p->obj[0].phase < 0.5 ? "hello" : "goodbye");
    if (p->outline) add_word(p, "outline");
    if (p->object_count > 1 && p->obj[1].motion == ILD_MOTION_POP_IN) add_word(p, "pop");
}
