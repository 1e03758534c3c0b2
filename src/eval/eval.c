/*
 * eval.c: the method table and the scoring run behind `ildiff eval` (contract in eval.h). Samples are scored
 * opts->threads at a time; each clip's method time is measured around its method call alone (CLOCK_MONOTONIC),
 * so fps = frames / summed method time is the throughput of one thread. Reports are written by report.c.
 */
#include "eval.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* ---- methods ---- */

static ildiff_status run_baseline(ild_baseline which, const ild_method_ctx *ctx, const ild_sample *s, float *alpha,
                                  uint8_t *rgb, bool *has_rgb)
{
    *has_rgb = true;
    return ild_baseline_run(which, ctx->baseline, s->input_rgb, s->width, s->height, s->frames, alpha, rgb);
}

static ildiff_status run_key(const ild_method_ctx *ctx, const ild_sample *s, float *alpha, uint8_t *rgb, bool *has_rgb)
{
    return run_baseline(ILD_BASELINE_KEY, ctx, s, alpha, rgb, has_rgb);
}

static ildiff_status run_flood(const ild_method_ctx *ctx, const ild_sample *s, float *alpha, uint8_t *rgb,
                               bool *has_rgb)
{
    return run_baseline(ILD_BASELINE_FLOOD, ctx, s, alpha, rgb, has_rgb);
}

/* Predictions made elsewhere: ARG/<sample>/<frame name>, RGBA (alpha and colour) or grey (alpha). */
static ildiff_status run_dir(const ild_method_ctx *ctx, const ild_sample *s, float *alpha, uint8_t *rgb, bool *has_rgb)
{
    char *dir = ild_path_join(ctx->arg, s->name);
    if (!dir) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    ildiff_status st = ild_read_alpha_frames(dir, s->frame_names, s->frames, s->width, s->height, ctx->limits, alpha,
                                             rgb, has_rgb);
    free(dir);
    return st;
}

/* The ILDiff model of the file ARG (ildiff.h, "Matting"), loaded for each sample, with default parameters. */
static ildiff_status run_model(const ild_method_ctx *ctx, const ild_sample *s, float *alpha, uint8_t *rgb,
                               bool *has_rgb)
{
    ildiff_matte_params mp = ildiff_matte_params_default();
    mp.threads = 1; /* samples run in parallel; one engine thread each */
    ildiff_matter *mt = NULL;
    ildiff_anim *in = NULL, *out = NULL;
    ildiff_status st = ildiff_matter_new(ctx->arg, &mp, &mt);
    if (st == ILDIFF_OK) st = ildiff_anim_new(s->width, s->height, s->frames, 100, &in);
    size_t n = (size_t)s->width * (size_t)s->height * (size_t)s->frames;
    if (st == ILDIFF_OK) {
        for (size_t i = 0; i < n; i++) {
            memcpy(in->rgba + i * 4, s->input_rgb + i * 3, 3);
            in->rgba[i * 4 + 3] = 255;
        }
        st = ildiff_matte_anim(mt, in, &out, NULL, NULL);
    }
    if (st == ILDIFF_OK) {
        for (size_t i = 0; i < n; i++) {
            alpha[i] = out->rgba[i * 4 + 3] * (1.0f / 255.0f);
            memcpy(rgb + i * 3, out->rgba + i * 4, 3);
        }
        *has_rgb = true;
    }
    ildiff_anim_free(out);
    ildiff_anim_free(in);
    ildiff_matter_free(mt);
    return st;
}

const ild_method ild_methods[] = {
    {"key", "key", "colour keying against the border's median colour (baselines.h)", false, true, run_key},
    {"flood", "flood", "flood fill from the border with a colour tolerance, feathered", false, true, run_flood},
    {"dir", "dir:PATH", "predictions made elsewhere: PATH/<sample>/<frame>.png, RGBA or grey", true, false, run_dir},
    {"model", "model:FILE", "an ILDiff model file (ildiff matte's matting, default parameters)", true, true, run_model},
};
const int ild_method_count = sizeof ild_methods / sizeof ild_methods[0];

ildiff_status ild_method_find(const char *spec, const ild_method **method, const char **arg)
{
    *method = NULL;
    *arg = NULL;
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int i = 0; i < ild_method_count; i++) {
        const ild_method *m = &ild_methods[i];
        if (strlen(m->name) != len || strncmp(m->name, spec, len) != 0) continue;
        if (m->takes_arg && (!colon || !colon[1])) return ild_fail(ILDIFF_ERR_ARG, "method %s is written %s", m->name, m->usage);
        if (!m->takes_arg && colon) return ild_fail(ILDIFF_ERR_ARG, "method %s takes no ':' argument", m->name);
        *method = m;
        *arg = colon ? colon + 1 : NULL;
        return ILDIFF_OK;
    }
    return ild_fail(ILDIFF_ERR_ARG, "unknown method '%s' (key, flood, dir:PATH, model:FILE)", spec);
}

const char *ild_method_unlabel(const char *spec, size_t *label_len)
{
    const char *eq = strchr(spec, '='), *colon = strchr(spec, ':');
    bool labelled = eq && (!colon || eq < colon);
    *label_len = labelled ? (size_t)(eq - spec) : 0;
    return labelled ? eq + 1 : spec;
}

ild_eval_options ild_eval_options_default(void)
{
    return (ild_eval_options){.baseline = ild_baseline_params_default(), .limits = ildiff_limits_default(), .threads = 1};
}

/* ---- one clip ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Loads, predicts and scores one sample into *c. */
static ildiff_status eval_clip(const ild_eval_options *o, const ild_method *m, const char *arg, const char *name,
                               ild_eval_clip *c)
{
    ild_sample *s;
    ildiff_status st = ild_sample_load(o->samples_dir, name, &o->limits, &s);
    if (st != ILDIFF_OK) return st; /* the reason names the file */
    size_t n = (size_t)s->width * (size_t)s->height * (size_t)s->frames;
    float *alpha = malloc(n * sizeof *alpha);
    uint8_t *rgb = malloc(n * 3);
    if (!alpha || !rgb) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for predictions");
    bool has_rgb = false;
    if (st == ILDIFF_OK) {
        ild_method_ctx ctx = {.arg = arg, .baseline = &o->baseline, .limits = &o->limits};
        double t0 = now_seconds();
        st = m->run(&ctx, s, alpha, rgb, &has_rgb);
        c->seconds = now_seconds() - t0;
    }
    if (st == ILDIFF_OK) {
        ild_clip_view v = {.width = s->width, .height = s->height, .frames = s->frames, .pred = alpha, .gt = s->gt,
                           .pred_rgb = has_rgb ? rgb : NULL, .gt_rgba = s->gt_rgba, .bg_rgb = s->bg_rgb};
        st = ild_score_clip(&v, &c->scores);
    }
    if (st == ILDIFF_OK) {
        c->frames = s->frames;
        c->width = s->width;
        c->height = s->height;
        c->tags = s->tags; /* taken over from the sample */
        c->tag_count = s->tag_count;
        s->tags = NULL;
        s->tag_count = 0;
    } else {
        char why[400];
        snprintf(why, sizeof why, "%s", ildiff_last_error());
        st = ild_fail(st, "sample %s: %s", name, why);
    }
    free(alpha);
    free(rgb);
    ild_sample_free(s);
    return st;
}

/* ---- aggregation ---- */

static void group_add(ild_eval_group *g, const ild_clip_scores *s)
{
    g->clips++;
    for (int m = 0; m < ILD_METRIC_COUNT; m++)
        if (s->has[m]) {
            g->mean[m] += s->value[m];
            g->count[m]++;
        }
}

static void group_finish(ild_eval_group *g)
{
    for (int m = 0; m < ILD_METRIC_COUNT; m++) g->mean[m] = g->count[m] ? g->mean[m] / g->count[m] : NAN;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Fills r->overall and r->tags from r->clips. */
static ildiff_status aggregate(ild_eval_result *r)
{
    int total = 0;
    for (int i = 0; i < r->clip_count; i++) total += r->clips[i].tag_count;
    char **all = malloc(sizeof *all * (size_t)(total ? total : 1));
    if (!all) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < r->clip_count; i++)
        for (int j = 0; j < r->clips[i].tag_count; j++) all[k++] = r->clips[i].tags[j];
    qsort(all, (size_t)total, sizeof *all, cmp_str);
    int unique = 0;
    for (int i = 0; i < total; i++)
        if (i == 0 || strcmp(all[i], all[i - 1]) != 0) all[unique++] = all[i];
    r->tags = calloc((size_t)(unique ? unique : 1), sizeof *r->tags);
    if (!r->tags) {
        free(all);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    for (int t = 0; t < unique; t++) {
        if (!(r->tags[t].tag = strdup(all[t]))) {
            free(all);
            return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        }
        r->tag_count = t + 1;
    }
    free(all);
    for (int i = 0; i < r->clip_count; i++) {
        const ild_eval_clip *c = &r->clips[i];
        group_add(&r->overall, &c->scores);
        r->frames += c->frames;
        r->seconds += c->seconds;
        for (int t = 0; t < r->tag_count; t++)
            for (int j = 0; j < c->tag_count; j++)
                if (strcmp(r->tags[t].tag, c->tags[j]) == 0) {
                    group_add(&r->tags[t], &c->scores);
                    break;
                }
    }
    group_finish(&r->overall);
    for (int t = 0; t < r->tag_count; t++) group_finish(&r->tags[t]);
    r->fps = r->timed && r->seconds > 0 ? (double)r->frames / r->seconds : NAN;
    return ILDIFF_OK;
}

void ild_eval_result_free(ild_eval_result *r)
{
    if (!r) return;
    free(r->method);
    free(r->samples_dir);
    for (int t = 0; t < r->tag_count; t++) free(r->tags[t].tag);
    free(r->tags);
    for (int i = 0; i < r->clip_count; i++) {
        free(r->clips[i].name);
        ild_names_free(r->clips[i].tags, r->clips[i].tag_count);
    }
    free(r->clips);
    free(r);
}

ildiff_status ild_eval_run(const ild_eval_options *o, ild_eval_result **out)
{
    *out = NULL;
    const ild_method *m;
    const char *arg;
    ildiff_status st = ild_method_find(o->method, &m, &arg);
    if (st != ILDIFF_OK) return st;
    if (o->threads < 1) return ild_fail(ILDIFF_ERR_ARG, "threads must be at least 1");
    char **names;
    int count;
    if ((st = ild_samples_list(o->samples_dir, &names, &count)) != ILDIFF_OK) return st;
    ild_eval_result *r = calloc(1, sizeof *r);
    ild_eval_clip *clips = calloc((size_t)count, sizeof *clips);
    ildiff_status *status = calloc((size_t)count, sizeof *status);
    char(*why)[512] = calloc((size_t)count, sizeof *why);
    if (!r || !clips || !status || !why) {
        free(r);
        free(clips);
        free(status);
        free(why);
        ild_names_free(names, count);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    r->clips = clips;
    r->clip_count = count;
    int failed = 0, done = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads)
#endif
    for (int i = 0; i < count; i++) {
        int stop;
#ifdef _OPENMP
#pragma omp atomic read
#endif
        stop = failed;
        if (stop) continue;
        status[i] = eval_clip(o, m, arg, names[i], &clips[i]);
        if (status[i] != ILDIFF_OK) {
            snprintf(why[i], sizeof why[i], "%s", ildiff_last_error());
#ifdef _OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        }
        clips[i].name = names[i];
        names[i] = NULL;
#ifdef _OPENMP
#pragma omp critical(ild_eval_progress)
#endif
        {
            done++;
            if (o->progress) o->progress(o->progress_user, done, count);
        }
    }
    st = ILDIFF_OK;
    for (int i = 0; i < count && st == ILDIFF_OK; i++)
        if (status[i] != ILDIFF_OK) st = ild_fail(status[i], "%s", why[i]);
    free(status);
    free(why);
    ild_names_free(names, count);
    r->timed = m->timed;
    if (st == ILDIFF_OK && (!(r->method = strdup(o->method)) || !(r->samples_dir = strdup(o->samples_dir))))
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK) st = aggregate(r);
    if (st != ILDIFF_OK) {
        ild_eval_result_free(r);
        return st;
    }
    *out = r;
    return ILDIFF_OK;
}

void ild_eval_summary(const ild_eval_result *r, char *buf, size_t size)
{
    static const ild_metric shown[] = {ILD_METRIC_PSNR, ILD_METRIC_SSIM,  ILD_METRIC_MAD,  ILD_METRIC_MSE,
                                       ILD_METRIC_GRAD, ILD_METRIC_CONN,  ILD_METRIC_DTSSD, ILD_METRIC_HOLE,
                                       ILD_METRIC_COLLAPSE};
    size_t len = 0;
    for (size_t i = 0; i < sizeof shown / sizeof shown[0] && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s %.4f ", ild_metric_name(shown[i]),
                                r->overall.mean[shown[i]]);
    if (len < size) snprintf(buf + len, size - len, "fps %.1f", r->fps);
}
