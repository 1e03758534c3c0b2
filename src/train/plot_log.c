/*
 * plot_log.c: draws a training log (train.jsonl, trainer.h) as loss.png (every loss term against the step) and
 * val.png (every validation metric), with plot.h. Long logs are averaged over consecutive steps down to at most
 * MAX_POINTS points per curve, which also smooths the per-step noise.
 */
#include "train/plot.h"

#include "base/base.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

enum { MAX_POINTS = 1000 };

typedef struct curve {
    char name[64];
    double *x, *y;
    int64_t n, cap;
} curve;

typedef struct curves {
    curve c[ILD_PLOT_MAX_SERIES];
    int count;
} curves;

static void curves_free(curves *cs)
{
    for (int i = 0; i < cs->count; i++) free(cs->c[i].x), free(cs->c[i].y);
    cs->count = 0;
}

/* Appends (x, y) to the curve named `name` (made if new; names past ILD_PLOT_MAX_SERIES are dropped). */
static ildiff_status curves_add(curves *cs, const char *name, double x, double y)
{
    int i = 0;
    while (i < cs->count && strcmp(cs->c[i].name, name) != 0) i++;
    if (i == cs->count) {
        if (cs->count == ILD_PLOT_MAX_SERIES) return ILDIFF_OK;
        memset(&cs->c[i], 0, sizeof cs->c[i]);
        snprintf(cs->c[i].name, sizeof cs->c[i].name, "%s", name);
        cs->count++;
    }
    curve *c = &cs->c[i];
    if (c->n == c->cap) {
        int64_t cap = c->cap ? c->cap * 2 : 256;
        double *nx = realloc(c->x, (size_t)cap * sizeof *nx);
        if (nx) c->x = nx;
        double *ny = nx ? realloc(c->y, (size_t)cap * sizeof *ny) : NULL;
        if (!ny) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory reading the training log");
        c->y = ny, c->cap = cap;
    }
    c->x[c->n] = x, c->y[c->n] = y;
    c->n++;
    return ILDIFF_OK;
}

/* Averages consecutive points in place so that at most MAX_POINTS remain (non-finite values are left out of
 * the means; a bin with none stays NaN). */
static void thin(curve *c)
{
    if (c->n <= MAX_POINTS) return;
    int64_t per = (c->n + MAX_POINTS - 1) / MAX_POINTS, out = 0;
    for (int64_t b = 0; b < c->n; b += per, out++) {
        double sx = 0, sy = 0;
        int64_t e = ILD_MIN(b + per, c->n), fin = 0;
        for (int64_t k = b; k < e; k++) {
            sx += c->x[k];
            if (isfinite(c->y[k])) sy += c->y[k], fin++;
        }
        c->x[out] = sx / (double)(e - b);
        c->y[out] = fin ? sy / (double)fin : NAN;
    }
    c->n = out;
}

/* Adds every member of the object `terms` of one log line at x = step. */
static ildiff_status add_terms(curves *cs, const cJSON *terms, double step)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, terms)
    {
        double v = cJSON_IsNumber(t) ? t->valuedouble : NAN; /* null: a non-finite value */
        ildiff_status st = curves_add(cs, t->string, step, v);
        if (st != ILDIFF_OK) return st;
    }
    return ILDIFF_OK;
}

static ildiff_status draw(const curves *cs, const char *path, const char *title, const char *ylabel, bool log_y)
{
    ild_plot_series s[ILD_PLOT_MAX_SERIES];
    for (int i = 0; i < cs->count; i++)
        s[i] = (ild_plot_series){.name = cs->c[i].name, .x = cs->c[i].x, .y = cs->c[i].y, .n = cs->c[i].n};
    ild_plot pl = ild_plot_defaults();
    pl.title = title, pl.xlabel = "step", pl.ylabel = ylabel, pl.log_y = log_y;
    return ild_plot_write(path, &pl, s, cs->count);
}

ildiff_status ild_plot_train_log(const char *jsonl_path, const char *dir, bool log_y)
{
    uint8_t *data = NULL;
    size_t size = 0;
    ildiff_status st = ildiff_read_file(jsonl_path, (int64_t)1 << 32, &data, &size);
    if (st != ILDIFF_OK) return ild_fail(st, "%s: cannot read the training log", jsonl_path);
    curves train = {0}, val = {0};
    const char *text = (const char *)data;
    for (size_t b = 0; b < size && st == ILDIFF_OK;) {
        size_t e = b;
        while (e < size && text[e] != '\n') e++;
        cJSON *j = e > b ? cJSON_ParseWithLength(text + b, e - b) : NULL;
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
        if (cJSON_IsString(kind) && cJSON_IsNumber(step)) {
            if (strcmp(kind->valuestring, "train") == 0)
                st = add_terms(&train, cJSON_GetObjectItemCaseSensitive(j, "loss"), step->valuedouble);
            else if (strcmp(kind->valuestring, "val") == 0)
                st = add_terms(&val, cJSON_GetObjectItemCaseSensitive(j, "metrics"), step->valuedouble);
        }
        cJSON_Delete(j);
        b = e + 1;
    }
    free(data);
    if (st == ILDIFF_OK && train.count == 0)
        st = ild_fail(ILDIFF_ERR_FORMAT, "%s: no training record to draw", jsonl_path);
    char path[4200];
    for (int i = 0; i < train.count; i++) thin(&train.c[i]);
    for (int i = 0; i < val.count; i++) thin(&val.c[i]);
    snprintf(path, sizeof path, "%s/loss.png", dir);
    if (st == ILDIFF_OK) st = draw(&train, path, "training loss", log_y ? "loss (log)" : "loss", log_y);
    snprintf(path, sizeof path, "%s/val.png", dir);
    if (st == ILDIFF_OK && val.count > 0) st = draw(&val, path, "validation", "metric", false);
    curves_free(&train);
    curves_free(&val);
    return st;
}
