/*
 * eval.h: `ildiff eval` as a library: run a matting method over an exchange-form sample set (sample.h), score
 * each clip (metrics.h), aggregate (each metric per frame, mean over a clip's frames, mean over clips; hole and
 * collapse over the clips that have them), overall and per tag, and write the Markdown and JSON reports.
 * Internal to libildiff.
 *
 * Methods live in one table (ild_methods): a name, and a function that turns a sample's input frames into alpha
 * (and optionally straight colour). A new method (the model, an ablation) is one more table entry.
 */
#ifndef ILDIFF_EVAL_EVAL_H
#define ILDIFF_EVAL_EVAL_H

#include "baselines.h"
#include "metrics.h"
#include "sample.h"

typedef struct ild_method_ctx {
    const char *arg;                     /* the text after "NAME:" ("dir:PATH" gives PATH), or NULL */
    const ild_baseline_params *baseline; /* parameters of the classical baselines */
    const ildiff_limits *limits;         /* for methods that read files */
} ild_method_ctx;

/* Fills alpha (T, H, W) for the sample's frames and, when it can, straight colour (T, H, W, 3) into rgb, setting
 * *has_rgb. Fails with a status set by ild_fail. */
typedef ildiff_status (*ild_method_fn)(const ild_method_ctx *ctx, const ild_sample *s, float *alpha, uint8_t *rgb,
                                       bool *has_rgb);

typedef struct ild_method {
    const char *name;  /* "key", "flood", "dir" */
    const char *usage; /* "dir:PATH" */
    const char *help;
    bool takes_arg;    /* written NAME:ARG */
    bool timed;        /* false when the work happened elsewhere (dir:), so no fps */
    ild_method_fn run;
} ild_method;

extern const ild_method ild_methods[];
extern const int ild_method_count;

/* The method named by `spec` ("key", "dir:PATH"); *arg points into spec after the colon (NULL if none).
 * Fails with ILDIFF_ERR_ARG for an unknown name or a missing / unexpected argument. */
ildiff_status ild_method_find(const char *spec, const ild_method **method, const char **arg);
/* A spec may name its report row: "LABEL=SPEC", the '=' before any ':' ("ildiff-d5=model:m.safetensors"; "dir:a=b"
 * has no label). Returns the spec after the label and sets *label_len, the label's length; an unlabelled spec
 * is returned as is with *label_len 0 ("=key" returns "key" with *label_len 0: an empty label). */
const char *ild_method_unlabel(const char *spec, size_t *label_len);

typedef struct ild_eval_options {
    const char *samples_dir;
    const char *method;           /* a spec for ild_method_find */
    ild_baseline_params baseline;
    ildiff_limits limits;
    int threads;                  /* samples scored at once, >= 1 */
    void (*progress)(void *user, int done, int total); /* after each sample, never concurrently; or NULL */
    void *progress_user;
} ild_eval_options;

ild_eval_options ild_eval_options_default(void);

/* Means over a group of clips. count[m] = clips that had metric m (0: mean is NaN). */
typedef struct ild_eval_group {
    char *tag;                    /* NULL for the overall group */
    int clips;
    double mean[ILD_METRIC_COUNT];
    int count[ILD_METRIC_COUNT];
} ild_eval_group;

typedef struct ild_eval_clip {
    char *name;
    int32_t frames, width, height;
    char **tags;
    int tag_count;
    double seconds;               /* method time */
    ild_clip_scores scores;
} ild_eval_clip;

typedef struct ild_eval_result {
    char *method, *samples_dir;
    bool timed;
    int64_t frames;
    double seconds, fps;          /* method time over every frame; fps NaN when not timed */
    ild_eval_group overall;
    ild_eval_group *tags;         /* (tag_count), sorted by tag */
    int tag_count;
    ild_eval_clip *clips;         /* (clip_count), sorted by name */
    int clip_count;
} ild_eval_result;

/* Runs and scores the method over every sample. Fails on the first sample that cannot be read, predicted or
 * scored (the reason names it), with nothing allocated. */
ildiff_status ild_eval_run(const ild_eval_options *opts, ild_eval_result **out);
void ild_eval_result_free(ild_eval_result *r);

/* The summary line: "PSNR x SSIM x MAD x MSE x Grad x Conn x dtSSD x hole x collapse x fps x" (no newline;
 * "nan" for a metric no clip had). */
void ild_eval_summary(const ild_eval_result *r, char *buf, size_t size);

/* Writes DIR/report.md and DIR/report.json (DIR is created if missing; existing reports are replaced).
 * Fails with ILDIFF_ERR_IO. */
ildiff_status ild_eval_write_reports(const ild_eval_result *r, const char *dir);

/* Picks the parameters of baseline `which` ("key" or "flood") that maximise the mean clip PSNR over the set,
 * by a grid search; the other parameters keep opts->baseline's values. Refuses a test split (a sample whose
 * meta.json says "split": "test", or a set folder whose name contains "test") with ILDIFF_ERR_ARG. */
ildiff_status ild_eval_tune(const ild_eval_options *opts, ild_baseline which, ild_baseline_params *best,
                            double *best_psnr, int *clips);

#endif
