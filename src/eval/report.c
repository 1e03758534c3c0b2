/*
 * report.c: writes an evaluation's Markdown and JSON reports (ild_eval_write_reports in eval.h): the overall
 * means, one row per tag, and one row per clip. Missing values are "n/a" in Markdown and null in JSON.
 */
#include "eval.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

/* A growing text buffer; `failed` is set once an allocation fails and later appends do nothing. */
typedef struct text {
    char *data;
    size_t len, cap;
    bool failed;
} text;

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt, ...)
{
    for (;;) {
        if (t->failed) return;
        va_list ap;
        va_start(ap, fmt);
        int need = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (need < 0) {
            t->failed = true;
            return;
        }
        if (t->data && t->len + (size_t)need < t->cap) {
            t->len += (size_t)need;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)need;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
}

static void put_value(text *t, double v, bool has)
{
    if (has && isfinite(v)) put(t, " %.4f |", v);
    else put(t, " n/a |");
}

static void md_header(text *t, const char *first, const char *second)
{
    put(t, "| %s | %s |", first, second);
    for (int m = 0; m < ILD_METRIC_COUNT; m++) put(t, " %s |", ild_metric_name((ild_metric)m));
    put(t, "\n|---|---:|");
    for (int m = 0; m < ILD_METRIC_COUNT; m++) put(t, "---:|");
    put(t, "\n");
}

static void md_group(text *t, const char *label, const ild_eval_group *g)
{
    put(t, "| %s | %d |", label, g->clips);
    for (int m = 0; m < ILD_METRIC_COUNT; m++) put_value(t, g->mean[m], g->count[m] > 0);
    put(t, "\n");
}

static void markdown(const ild_eval_result *r, text *t)
{
    char summary[512];
    ild_eval_summary(r, summary, sizeof summary);
    put(t, "# ildiff eval: %s\n\n", r->method);
    put(t, "Samples: `%s`, %d clips, %lld frames. ", r->samples_dir, r->clip_count, (long long)r->frames);
    if (r->timed) put(t, "Method time %.3f s, %.1f frames/s (one thread).\n\n", r->seconds, r->fps);
    else put(t, "Predictions were made elsewhere: no timing.\n\n");
    put(t, "    %s\n\n", summary);
    put(t, "Each metric per frame, mean over a clip's frames, mean over clips (hole and collapse: over the clips "
           "that have at least %d such pixels, pooled over their frames). PSNR in dB and SSIM (scikit-image "
           "defaults) are higher-better; the rest are errors with RVM's scalings: MAD, MSE, fgrMAD, fgrMSE x1e3, "
           "Grad and Conn /1e3, dtSSD x1e2. Definitions: src/eval/metrics.h.\n\n",
        ILD_POOL_MIN_PIXELS);
    put(t, "## Overall and per tag\n\n");
    md_header(t, "group", "clips");
    md_group(t, "all", &r->overall);
    for (int i = 0; i < r->tag_count; i++) md_group(t, r->tags[i].tag, &r->tags[i]);
    put(t, "\n## Per clip\n\n");
    md_header(t, "clip", "frames");
    for (int i = 0; i < r->clip_count; i++) {
        const ild_eval_clip *c = &r->clips[i];
        put(t, "| %s | %d |", c->name, c->frames);
        for (int m = 0; m < ILD_METRIC_COUNT; m++) put_value(t, c->scores.value[m], c->scores.has[m]);
        put(t, "\n");
    }
}

static void json_number(cJSON *o, const char *name, double v, bool has)
{
    if (has && isfinite(v)) cJSON_AddNumberToObject(o, name, v);
    else cJSON_AddNullToObject(o, name);
}

static cJSON *json_group(const ild_eval_group *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "clips", g->clips);
    for (int m = 0; m < ILD_METRIC_COUNT; m++) json_number(o, ild_metric_name((ild_metric)m), g->mean[m], g->count[m] > 0);
    return o;
}

static char *json(const ild_eval_result *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "method", r->method);
    cJSON_AddStringToObject(root, "samples", r->samples_dir);
    cJSON_AddNumberToObject(root, "clips", r->clip_count);
    cJSON_AddNumberToObject(root, "frames", (double)r->frames);
    json_number(root, "seconds", r->seconds, r->timed);
    json_number(root, "fps", r->fps, r->timed);
    cJSON_AddItemToObject(root, "overall", json_group(&r->overall));
    cJSON *tags = cJSON_AddObjectToObject(root, "tags");
    for (int i = 0; i < r->tag_count; i++) cJSON_AddItemToObject(tags, r->tags[i].tag, json_group(&r->tags[i]));
    cJSON *clips = cJSON_AddArrayToObject(root, "per_clip");
    for (int i = 0; i < r->clip_count; i++) {
        const ild_eval_clip *c = &r->clips[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddNumberToObject(o, "frames", c->frames);
        cJSON_AddNumberToObject(o, "width", c->width);
        cJSON_AddNumberToObject(o, "height", c->height);
        json_number(o, "seconds", c->seconds, r->timed);
        cJSON *ct = cJSON_AddArrayToObject(o, "tags");
        for (int j = 0; j < c->tag_count; j++) cJSON_AddItemToArray(ct, cJSON_CreateString(c->tags[j]));
        for (int m = 0; m < ILD_METRIC_COUNT; m++)
            json_number(o, ild_metric_name((ild_metric)m), c->scores.value[m], c->scores.has[m]);
        cJSON_AddItemToArray(clips, o);
    }
    char *s = cJSON_Print(root); /* NULL when any allocation above failed */
    cJSON_Delete(root);
    return s;
}

/* mkdir -p */
static ildiff_status make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != 0) continue;
        char keep = *s;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            ildiff_status st = ild_fail(ILDIFF_ERR_IO, "%s: cannot create folder: %s", p, strerror(errno));
            free(p);
            return st;
        }
        *s = keep;
        if (!keep) break;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return ild_fail(ILDIFF_ERR_IO, "%s: not a folder", dir);
    return ILDIFF_OK;
}

static ildiff_status write_text(const char *dir, const char *name, const char *data, size_t size)
{
    char *path = ild_path_join(dir, name);
    if (!path) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    ildiff_status st = ildiff_write_file_atomic(path, (const uint8_t *)data, size, true);
    free(path);
    return st;
}

ildiff_status ild_eval_write_reports(const ild_eval_result *r, const char *dir)
{
    ildiff_status st = make_dirs(dir);
    if (st != ILDIFF_OK) return st;
    text md = {0};
    markdown(r, &md);
    if (md.failed) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the report");
    if (st == ILDIFF_OK) st = write_text(dir, "report.md", md.data, md.len);
    free(md.data);
    if (st != ILDIFF_OK) return st;
    char *js = json(r);
    if (!js) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the JSON report");
    size_t len = strlen(js);
    char *withnl = realloc(js, len + 2);
    if (!withnl) {
        free(js);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the JSON report");
    }
    withnl[len] = '\n';
    withnl[len + 1] = 0;
    st = write_text(dir, "report.json", withnl, len + 1);
    free(withnl);
    return st;
}
