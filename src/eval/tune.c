/*
 * tune.c: picks a classical baseline's parameters on a validation set (ild_eval_tune in eval.h). A grid search
 * maximises the mean clip alpha PSNR (the paper's headline metric). Each sample is loaded once; its colour
 * distance maps are computed once and every grid point is scored on them. Refuses test splits.
 */
#include "eval.h"

#include <math.h>
#include <string.h>
#include <strings.h>

static const double key_lo_grid[] = {0, 4, 8, 12, 16, 24, 32, 48};
static const double key_span_grid[] = {4, 8, 16, 24, 32, 48, 64, 96};
static const double flood_tol_grid[] = {4, 8, 12, 16, 24, 32, 48, 64, 96};
static const double flood_feather_grid[] = {0, 1, 2};
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Grid point g of baseline `which`, on top of base. */
static ild_baseline_params grid_point(ild_baseline which, const ild_baseline_params *base, int g)
{
    ild_baseline_params p = *base;
    if (which == ILD_BASELINE_KEY) {
        p.key_lo = key_lo_grid[g / LEN(key_span_grid)];
        p.key_hi = p.key_lo + key_span_grid[g % LEN(key_span_grid)];
    } else {
        p.flood_tol = flood_tol_grid[g / LEN(flood_feather_grid)];
        p.flood_feather = flood_feather_grid[g % LEN(flood_feather_grid)];
    }
    return p;
}

static int grid_size(ild_baseline which)
{
    return which == ILD_BASELINE_KEY ? LEN(key_lo_grid) * LEN(key_span_grid)
                                     : LEN(flood_tol_grid) * LEN(flood_feather_grid);
}

/* Adds the sample's mean frame PSNR at every grid point to psnr_sum (grid). */
static ildiff_status tune_sample(const ild_sample *s, ild_baseline which, const ild_baseline_params *base,
                                 double *psnr_sum)
{
    size_t n = (size_t)s->width * (size_t)s->height;
    float *dist = malloc(n * (size_t)s->frames * sizeof *dist);
    float *alpha = malloc(n * sizeof *alpha), *tmp = malloc(n * sizeof *tmp);
    int32_t *stack = malloc(n * sizeof *stack);
    ildiff_status st = ILDIFF_OK;
    if (!dist || !alpha || !tmp || !stack) st = ild_fail(ILDIFF_ERR_NOMEM, "sample %s: out of memory", s->name);
    for (int32_t f = 0; st == ILDIFF_OK && f < s->frames; f++) {
        uint8_t bg[3];
        const uint8_t *in = s->input_rgb + (size_t)f * n * 3;
        ild_border_colour(in, s->width, s->height, bg);
        ild_colour_distance(in, n, bg, dist + (size_t)f * n);
    }
    for (int g = 0; st == ILDIFF_OK && g < grid_size(which); g++) {
        ild_baseline_params p = grid_point(which, base, g);
        double sum = 0;
        for (int32_t f = 0; f < s->frames; f++) {
            const float *d = dist + (size_t)f * n;
            if (which == ILD_BASELINE_KEY) ild_key_alpha(d, n, &p, alpha);
            else ild_flood_alpha(d, s->width, s->height, &p, alpha, stack, tmp);
            sum += ild_metric_psnr(alpha, s->gt + (size_t)f * n, n);
        }
        psnr_sum[g] += sum / s->frames;
    }
    free(dist);
    free(alpha);
    free(tmp);
    free(stack);
    return st;
}

static bool name_says_test(const char *dir)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/') start--;
    for (size_t i = start; i + 4 <= len; i++)
        if (strncasecmp(dir + i, "test", 4) == 0) return true;
    return false;
}

ildiff_status ild_eval_tune(const ild_eval_options *o, ild_baseline which, ild_baseline_params *best,
                            double *best_psnr, int *clips)
{
    if (name_says_test(o->samples_dir))
        return ild_fail(ILDIFF_ERR_ARG, "%s: refusing to tune on a test split; give the validation set",
                        o->samples_dir);
    ildiff_status st = ild_baseline_params_check(&o->baseline);
    if (st != ILDIFF_OK) return st;
    char **names;
    int count;
    if ((st = ild_samples_list(o->samples_dir, &names, &count)) != ILDIFF_OK) return st;
    int g_count = grid_size(which);
    double *psnr_sum = calloc((size_t)g_count, sizeof *psnr_sum);
    if (!psnr_sum) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (int i = 0; st == ILDIFF_OK && i < count; i++) {
        ild_sample *s;
        if ((st = ild_sample_load(o->samples_dir, names[i], &o->limits, &s)) != ILDIFF_OK) break;
        if (s->is_test)
            st = ild_fail(ILDIFF_ERR_ARG, "sample %s: its meta.json says split \"test\"; refusing to tune on it",
                          names[i]);
        else
            st = tune_sample(s, which, &o->baseline, psnr_sum);
        ild_sample_free(s);
        if (o->progress) o->progress(o->progress_user, i + 1, count);
    }
    if (st == ILDIFF_OK) {
        int at = 0;
        for (int g = 1; g < g_count; g++)
            if (psnr_sum[g] > psnr_sum[at]) at = g;
        *best = grid_point(which, &o->baseline, at);
        *best_psnr = psnr_sum[at] / count;
        *clips = count;
    }
    free(psnr_sum);
    ild_names_free(names, count);
    return st;
}
