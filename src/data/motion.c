/*
 * motion.c: what moves where at loop time t in [0, 1): whole-object motions (bounce, squash-and-stretch, wobble,
 * pulse, spin, slide in, shake, float, nod, pop in) as affine transforms about the object's centre in canvas
 * pixels, part motions (wave, swing, blink, bounce, pulse of one part) in icon units, and the keyframe: the frame
 * of extreme pose. Periodic motions complete whole cycles per loop, so the animation loops without a jump.
 * Pure functions of the plan; cannot fail.
 */
#include "dataset.h"

#include <math.h>

#define TAU 6.283185307179586

static ild_affine identity(void) { return (ild_affine){1, 0, 0, 1, 0, 0}; }

/* m * n (apply n first). */
static ild_affine mul(ild_affine m, ild_affine n)
{
    return (ild_affine){m.a * n.a + m.c * n.b, m.b * n.a + m.d * n.b, m.a * n.c + m.c * n.d,
                        m.b * n.c + m.d * n.d, m.a * n.e + m.c * n.f + m.e, m.b * n.e + m.d * n.f + m.f};
}
static ild_affine translate(double x, double y) { return (ild_affine){1, 0, 0, 1, x, y}; }
static ild_affine scale(double sx, double sy) { return (ild_affine){sx, 0, 0, sy, 0, 0}; }
static ild_affine rotate(double deg)
{
    double r = deg * TAU / 360, c = cos(r), s = sin(r);
    return (ild_affine){c, s, -s, c, 0, 0};
}
/* t about the point (x, y). */
static ild_affine about(ild_affine t, double x, double y) { return mul(translate(x, y), mul(t, translate(-x, -y))); }

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

ild_affine ild_motion_at(const ild_plan_object *o, double t, double side, double *pose)
{
    double w = TAU * (o->cycles * t + o->phase), s = sin(w), bottom = side / 2;
    *pose = 0;
    switch (o->motion) {
    case ILD_MOTION_BOUNCE: {
        double h = fabs(sin(w / 2)), squash = 0.12 * pow(1 - h, 4);
        *pose = h;
        return mul(translate(0, -o->amp * side * h), about(scale(1 + squash, 1 - squash), 0, bottom));
    }
    case ILD_MOTION_SQUASH:
        *pose = fabs(s);
        return about(scale(1 + o->amp * s, 1 - o->amp * s), 0, bottom);
    case ILD_MOTION_WOBBLE:
        *pose = fabs(s);
        return about(rotate(o->amp * s), 0, bottom);
    case ILD_MOTION_PULSE:
        *pose = fabs(s);
        return scale(1 + o->amp * s, 1 + o->amp * s);
    case ILD_MOTION_SPIN:
        return rotate(360.0 * o->cycles * t * (o->amp < 0 ? -1 : 1));
    case ILD_MOTION_SLIDE_IN: {
        double u = clamp01(t / 0.6), e = 1 - pow(1 - u, 3);
        *pose = e;
        return translate((1 - e) * o->amp * side, 0);
    }
    case ILD_MOTION_SHAKE:
        *pose = fabs(s);
        return mul(translate(o->amp * side * s, 0), rotate(4 * s));
    case ILD_MOTION_FLOAT:
        *pose = fabs(s);
        return mul(translate(0, o->amp * side * s), rotate(3 * cos(w)));
    case ILD_MOTION_NOD: {
        double f = fmax(0, s);
        *pose = f;
        return mul(translate(0, 0.03 * side * f), about(rotate(o->amp * f), 0, bottom));
    }
    case ILD_MOTION_POP_IN: {
        double u = clamp01((t - o->phase * 0.3) / 0.35), c = 1.70158;
        double k = u <= 0 ? 0.001 : 1 + (c + 1) * pow(u - 1, 3) + c * pow(u - 1, 2); /* ease-out-back */
        *pose = k;
        return scale(fmax(k, 0.001), fmax(k, 0.001));
    }
    case ILD_MOTION_STILL:
    case ILD_MOTION_COUNT:
        break;
    }
    return identity();
}

ild_affine ild_part_motion_at(const ild_plan *p, double t, double *pose)
{
    *pose = 0;
    if (p->part_index < 0 || p->part_motion == ILD_PART_NONE) return identity();
    const float *bb = p->obj[0].part_bbox[p->part_index];
    double cx = (bb[0] + bb[2]) / 2, cy = (bb[1] + bb[3]) / 2, h = bb[3] - bb[1];
    double ph = p->obj[0].phase, w = TAU * (t + ph), s = sin(w);
    switch (p->part_motion) {
    case ILD_PART_WAVE:
        s = sin(2 * w);
        *pose = fabs(s);
        return about(rotate(25 * s), cx, bb[3]);
    case ILD_PART_SWING:
        *pose = fabs(s);
        return about(rotate(15 * s), cx, bb[1]);
    case ILD_PART_BLINK: {
        double d = fabs(t - fmod(ph + 0.5, 1.0));
        d = fmin(d, 1 - d);
        double sy = d < 0.12 ? 0.1 + 0.9 * d / 0.12 : 1;
        *pose = 1 - sy;
        return about(scale(1, sy), cx, cy);
    }
    case ILD_PART_BOUNCE: {
        double a = fabs(sin(w / 1)) * 0.35 * fmax(h, 1);
        *pose = fabs(sin(w));
        return translate(0, -a);
    }
    case ILD_PART_PULSE:
        *pose = fabs(s);
        return about(scale(1 + 0.15 * s, 1 + 0.15 * s), cx, cy);
    case ILD_PART_NONE:
    case ILD_PART_COUNT:
        break;
    }
    return identity();
}

int32_t ild_plan_keyframe(const ild_plan *p)
{
    int32_t best = 0;
    double best_pose = -1;
    for (int32_t f = 0; f < p->frame_count; f++) {
        double t = (double)f / p->frame_count, a = 0, b = 0;
        ild_motion_at(&p->obj[0], t, 1, &a);
        ild_part_motion_at(p, t, &b);
        if (a + b > best_pose + 1e-9) {
            best_pose = a + b;
            best = f;
        }
    }
    return best;
}

const char *ild_motion_name(ild_motion m)
{
    static const char *const names[ILD_MOTION_COUNT] = {"still", "bounce", "squash", "wobble", "pulse", "spin",
                                                        "slide_in", "shake", "float", "nod", "pop_in"};
    return (unsigned)m < ILD_MOTION_COUNT ? names[m] : "unknown";
}

const char *ild_part_motion_name(ild_part_motion m)
{
    static const char *const names[ILD_PART_COUNT] = {"none", "wave", "swing", "blink", "bounce", "pulse"};
    return (unsigned)m < ILD_PART_COUNT ? names[m] : "unknown";
}

const char *ild_effect_name(ild_effect e)
{
    static const char *const names[ILD_EFFECT_COUNT] = {"none", "shadow", "glow", "motion_blur", "fade", "sparkles"};
    return (unsigned)e < ILD_EFFECT_COUNT ? names[e] : "unknown";
}
