/*
 * sample.h: reads a sample set in the exchange form (DESIGN.md section 4). Internal to libildiff.
 *
 *   SET/<sample>/input/      RGB PNG frames, sorted by name (byte order)
 *   SET/<sample>/gt_alpha/   8-bit grey PNG frames with the same names
 *   SET/<sample>/gt_rgba/    optional: straight RGBA PNG frames with the same names (clean colour)
 *   SET/<sample>/bg.png      optional: the clean background plate, the frames' size
 *   SET/<sample>/meta.json   optional: {"tags": [...], "background": ...}
 *
 * meta.json: "tags" is an array of strings, or an object whose members are true (tag NAME) or a string (tag
 * NAME=VALUE). "background" is a kind ("white", "solid", ...; adds the tag background=KIND), a colour "#RRGGBB",
 * or an object {"kind": "...", "color": "#RRGGBB" or [r, g, b]}. The colour stands in for bg.png when that is
 * absent. "split": "test" marks a test split (tuning refuses it). Other members are ignored.
 *
 * Each frame file is a still PNG; one with an alpha channel gives its alpha, a grey or RGB one its first channel.
 * Every failure names the file and leaves nothing allocated.
 */
#ifndef ILDIFF_EVAL_SAMPLE_H
#define ILDIFF_EVAL_SAMPLE_H

#include "../base/base.h"

typedef struct ild_sample {
    char *name;              /* the folder name */
    int32_t width, height, frames;
    char **frame_names;      /* (T) file names, sorted */
    uint8_t *input_rgb;      /* (T, H, W, 3) */
    float *gt;               /* (T, H, W) alpha in [0, 1] (k / 255.0f) */
    uint8_t *gt_rgba;        /* (T, H, W, 4) or NULL */
    uint8_t *bg_rgb;         /* (H, W, 3) or NULL */
    char **tags;             /* (tag_count) */
    int tag_count;
    bool is_test;            /* meta.json "split": "test" */
} ild_sample;

/* The sample folders of a set (subfolders holding input/), sorted. *names is (count) strings; free with
 * ild_names_free. Fails with ILDIFF_ERR_IO if `dir` cannot be read, ILDIFF_ERR_FORMAT if it holds no sample. */
ildiff_status ild_samples_list(const char *dir, char ***names, int *count);
/* The *.png file names in `dir`, sorted. Fails with ILDIFF_ERR_IO, or ILDIFF_ERR_FORMAT when there is none. */
ildiff_status ild_png_names(const char *dir, char ***names, int *count);
void ild_names_free(char **names, int count);

/* Loads one sample. Frames over `limits` fail with ILDIFF_ERR_LIMIT; names or sizes that disagree between the
 * folders fail with ILDIFF_ERR_FORMAT. */
ildiff_status ild_sample_load(const char *set_dir, const char *name, const ildiff_limits *limits, ild_sample **out);
void ild_sample_free(ild_sample *s);

/* Reads the frames `names` from `dir` into an alpha plane (T, H, W) and, when rgb is not NULL, their colour
 * (T, H, W, 3). *has_alpha tells whether every file had an alpha channel (NULL allowed). Every frame must be
 * w x h. */
ildiff_status ild_read_alpha_frames(const char *dir, char *const *names, int32_t frames, int32_t w, int32_t h,
                                    const ildiff_limits *limits, float *alpha, uint8_t *rgb, bool *has_alpha);

/* Joins a path: a + "/" + b; NULL when out of memory. */
char *ild_path_join(const char *a, const char *b);

#endif
