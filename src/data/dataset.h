/*
 * dataset.h: the TASD-style corpus machinery (paper section III). Internal.
 *
 * Flow of one sample: sources (icon sets) -> plan (which icons, motions, effect, timing, trigger words, caption;
 * deterministic from a per-sample seed) -> render (librsvg, per frame: RGBA, part masks) -> tar entries.
 * The corpus builder runs that over N samples in shards; stats and export read the shards back.
 *
 * Splits are by source icon: a hash of (set, icon name) puts every icon in exactly one of train/val/test, and a
 * sample of a split only uses icons of that split, so test art never appears in training.
 */
#ifndef ILDIFF_DATASET_H
#define ILDIFF_DATASET_H

#include "../base/base.h"
#include "rng.h"

/* ---- growable byte buffers (NUL kept after the data by ild_buf_printf) ---- */
typedef struct ild_buf {
    uint8_t *data;
    size_t size, cap;
} ild_buf;
ildiff_status ild_buf_append(ild_buf *b, const void *data, size_t n);
ildiff_status ild_buf_printf(ild_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ild_buf_free(ild_buf *b);
/* Re-records this thread's last error as "<where>: <reason>" and returns st (the reason is copied first, so this
 * is safe where ild_fail(st, "%s: %s", where, ildiff_last_error()) would format a buffer into itself). */
ildiff_status ild_fail_in(ildiff_status st, const char *where);

/* ---- splits ---- */
typedef enum ild_split { ILD_SPLIT_TRAIN, ILD_SPLIT_VAL, ILD_SPLIT_TEST, ILD_SPLIT_COUNT } ild_split;
const char *ild_split_name(ild_split s);
int ild_split_from_name(const char *name); /* -1 if unknown */
/* The split of an icon: FNV-1a of "set/name" mod 100: < 85 train, < 90 val, else test. */
ild_split ild_icon_split(const char *set, const char *name);

/* ---- sources: Iconify JSON icon sets ---- */
typedef struct ild_icon {
    char *name;       /* "grinning-face" */
    char *body;       /* SVG body: the drawable elements inside <svg> */
    float left, top, width, height; /* viewBox */
    char *name_zh;    /* Chinese name from CLDR, or NULL */
} ild_icon;

typedef struct ild_icon_set {
    char *prefix;                 /* "twemoji" */
    char *title;                  /* "Twitter Emoji" */
    char *license, *license_url;  /* "CC BY 4.0", SPDX id in license_spdx */
    char *license_spdx;
    char *author, *author_url;
    char *version;                /* the package file it came from, or "local" */
    ild_icon *icons;              /* (count) usable icons, in name order */
    int32_t count;
} ild_icon_set;

typedef struct ild_icon_ref {
    int32_t set, icon;
} ild_icon_ref;

typedef struct ild_sources {
    ild_icon_set *sets; /* (set_count) */
    int32_t set_count;
    ild_icon_ref *split_icons[ILD_SPLIT_COUNT]; /* icons of each split, in set then name order */
    int32_t split_count[ILD_SPLIT_COUNT];
} ild_sources;

/* Loads icon sets from `paths` (each an Iconify JSON file; a file named icons.json also reads the info.json,
 * chars.json and metadata.json beside it; a directory loads <dir>/<each sub-directory>/icons.json in name order).
 * `cldr_dir` is the CLDR "common" folder for Chinese names (NULL or missing: no CLDR names). Skips flags,
 * skin-tone variants, keycaps and bodies that cannot be split into parts. Fails with IO/FORMAT and a reason naming
 * the file, or ARG when no usable icon is left. Caller frees with ild_sources_free. */
ildiff_status ild_sources_load(const char *const *paths, int path_count, const char *cldr_dir, ild_sources **out);
void ild_sources_free(ild_sources *src);

/* Chinese names: the CLDR tts annotations of zh, keyed by the emoji's UTF-8 string. */
typedef struct ild_cldr ild_cldr;
/* Loads <dir>/annotations/zh.xml and <dir>/annotationsDerived/zh.xml. *out is NULL (and OK is returned) when
 * neither exists. Fails only with NOMEM. */
ildiff_status ild_cldr_load(const char *dir, ild_cldr **out);
/* The name for a codepoint sequence in hex ("1f600", "1f469-200d-1f4bb"), trying without U+FE0F too; NULL if
 * none. The string belongs to the table. */
const char *ild_cldr_lookup(const ild_cldr *c, const char *hex_seq);
void ild_cldr_free(ild_cldr *c);

/* ---- SVG bodies split into parts ---- */
#define ILD_MAX_PARTS 24
typedef struct ild_svg_parts {
    char *defs;                  /* non-drawable top-level elements (gradients, clip paths), verbatim */
    char *wrap_open;             /* opening tags of the single <g> wrappers that were unwrapped ("" if none) */
    int32_t wrap_depth;          /* how many </g> close them */
    char *parts[ILD_MAX_PARTS];  /* drawable elements; consecutive ones merged when there are more */
    int32_t count;
} ild_svg_parts;
/* Splits a body. Fails with FORMAT for unbalanced markup or no drawable element. Free with ild_svg_parts_free. */
ildiff_status ild_svg_parts_split(const char *body, ild_svg_parts *out);
void ild_svg_parts_free(ild_svg_parts *p);

/* ---- trigger-word vocabulary ---- */
typedef enum ild_word_kind { ILD_WORD_EMOTION, ILD_WORD_ACTION, ILD_WORD_OBJECT, ILD_WORD_EFFECT, ILD_WORD_OCCASION } ild_word_kind;
typedef struct ild_word {
    const char *en, *zh;
    ild_word_kind kind;
    const char *match; /* '|'-separated substrings of icon names that imply the word ("" for none) */
} ild_word;
const ild_word *ild_vocab(int *count);
int ild_vocab_find(const char *en); /* index, -1 if none */
/* Adds to words[] (up to max, no duplicates) the words an icon name implies. Returns the new count. */
int ild_vocab_match_name(const char *icon_name, int16_t *words, int count, int max);

/* ---- motions and effects ---- */
typedef enum ild_motion {
    ILD_MOTION_STILL, ILD_MOTION_BOUNCE, ILD_MOTION_SQUASH, ILD_MOTION_WOBBLE, ILD_MOTION_PULSE, ILD_MOTION_SPIN,
    ILD_MOTION_SLIDE_IN, ILD_MOTION_SHAKE, ILD_MOTION_FLOAT, ILD_MOTION_NOD, ILD_MOTION_POP_IN, ILD_MOTION_COUNT
} ild_motion;
typedef enum ild_part_motion {
    ILD_PART_NONE, ILD_PART_WAVE, ILD_PART_SWING, ILD_PART_BLINK, ILD_PART_BOUNCE, ILD_PART_PULSE, ILD_PART_COUNT
} ild_part_motion;
typedef enum ild_effect {
    ILD_EFFECT_NONE, ILD_EFFECT_SHADOW, ILD_EFFECT_GLOW, ILD_EFFECT_MOTION_BLUR, ILD_EFFECT_FADE, ILD_EFFECT_SPARKLES,
    ILD_EFFECT_COUNT
} ild_effect;
const char *ild_motion_name(ild_motion m);
const char *ild_part_motion_name(ild_part_motion m);
const char *ild_effect_name(ild_effect e);

/* An affine transform x' = a x + c y + e, y' = b x + d y + f (SVG matrix order). */
typedef struct ild_affine {
    double a, b, c, d, e, f;
} ild_affine;

/* ---- plan: everything about a sample except its pixels ---- */
#define ILD_MAX_OBJECTS 3
#define ILD_MAX_WORDS 10
#define ILD_MAX_SPARKLES 6
typedef struct ild_plan_object {
    ild_icon_ref ref;
    ild_svg_parts parts;
    double cx, cy, side;           /* placement on the canvas, in canvas units (0..1) */
    ild_motion motion;
    double amp, cycles, phase;     /* motion amplitude (motion-specific units), cycles per loop, phase (0..1) */
    float part_bbox[ILD_MAX_PARTS][4]; /* x0 y0 x1 y1 of each part in icon units */
    float part_area[ILD_MAX_PARTS];    /* share of the icon's drawn area */
} ild_plan_object;

typedef struct ild_plan {
    int64_t index;       /* position in the corpus */
    uint64_t seed;       /* per-sample seed */
    ild_split split;
    int32_t frame_count, fps, duration_ms;
    int32_t object_count;
    ild_plan_object obj[ILD_MAX_OBJECTS]; /* obj[0] is the subject */
    ild_part_motion part_motion;
    int32_t part_index;  /* part of obj[0] that part_motion moves, -1 if none */
    ild_effect effect;
    bool outline;        /* white die-cut outline */
    float effect_rgb[3]; /* glow / sparkle colour */
    int32_t sparkle_count;
    float sparkle[ILD_MAX_SPARKLES][4]; /* x, y, size (canvas units), phase */
    int32_t keyframe;
    int16_t words[ILD_MAX_WORDS];
    int32_t word_count;
    char caption_en[400], caption_zh[400];
} ild_plan;

/* Makes the plan of sample `index` of a corpus with seed `seed` and split `split` (icons drawn from that split
 * only). Parses the chosen icons' parts and measures them at low resolution to pick the moving part. Fails with
 * ARG when the split has no icon, FORMAT/INTERNAL when rendering fails. Free with ild_plan_clear. */
ildiff_status ild_plan_make(const ild_sources *src, uint64_t corpus_seed, int64_t index, ild_split split, ild_plan *out);
void ild_plan_clear(ild_plan *p);
/* The per-sample seed: hash(corpus seed, index). */
uint64_t ild_sample_seed(uint64_t corpus_seed, int64_t index);

/* Motion of one object at loop time t in [0, 1): its transform about the object's anchor, in canvas pixels for
 * an object of side `side_px`, and a pose magnitude (0 = rest) that picks the keyframe. */
ild_affine ild_motion_at(const ild_plan_object *o, double t, double side_px, double *pose);
/* Transform of the moving part at time t, in icon units. */
ild_affine ild_part_motion_at(const ild_plan *p, double t, double *pose);
/* The frame of extreme pose (first frame on ties). */
int32_t ild_plan_keyframe(const ild_plan *p);

/* Fills caption_en / caption_zh from the plan's choices; `rng` picks among phrasings. */
void ild_caption_make(const ild_sources *src, ild_plan *p, ild_rng *rng);
/* Fills words[]: from icon names, motions and effect. */
void ild_plan_words(const ild_sources *src, ild_plan *p);

/* ---- rendering ---- */
typedef struct ild_sample_tags {
    bool semi_open;   /* an enclosed transparent hole of >= 16 pixels in some frame */
    bool white_parts; /* >= 16 opaque (alpha > 0.95) pixels with every channel >= 225 in some frame */
    bool soft_alpha;  /* >= 2% of the drawn pixels have 0.05 < alpha < 0.95 */
} ild_sample_tags;

/* Renders the plan at size x size: rgba (frame_count, size, size, 4) straight RGBA8 and masks
 * (frame_count, size, size) part ids (0 background, 1.. parts in drawing order). Both malloc'd, caller frees.
 * Fails with NOMEM or INTERNAL (librsvg failure) with nothing allocated. */
ildiff_status ild_render_sample(const ild_sources *src, const ild_plan *p, int32_t size, uint8_t **rgba,
                                uint8_t **masks, int32_t *part_count, ild_sample_tags *tags);
/* Renders one SVG document string to a size x size premultiplied float RGBA buffer (size, size, 4), values in
 * 0..1. Fails with INTERNAL when librsvg rejects it. */
ildiff_status ild_render_svg(const char *svg, size_t len, int32_t size, float *premul);
/* Measures tags of one straight RGBA8 frame into *tags (ORs them in). Needs a scratch of size*size int32. */
void ild_tags_measure(const uint8_t *rgba, int32_t w, int32_t h, int32_t *scratch, ild_sample_tags *tags);

/* Number of drawn parts: every object's parts, then the sparkles. */
int32_t ild_plan_part_total(const ild_plan *p);
/* The SVG document of the plan at time t on a size x size canvas into b (replacing its contents); `only` >= 0
 * keeps just that global part (see render.c), -1 keeps everything. Fails with NOMEM. */
ildiff_status ild_frame_svg(const ild_sources *src, const ild_plan *p, double t, int32_t size, int32_t only, ild_buf *b);
/* Renders one SVG document's alpha only into (size, size) bytes. Fails with INTERNAL. */
ildiff_status ild_render_alpha(const char *svg, size_t len, int32_t size, uint8_t *alpha);
/* Measures object o's parts at rest at low resolution: part_bbox and part_area; *has_hole (may be NULL) tells
 * whether the icon has an enclosed transparent hole. Fails with INTERNAL/NOMEM. */
ildiff_status ild_measure_parts(const ild_sources *src, ild_plan_object *o, bool *has_hole);

/* ---- effects on premultiplied float frames (H, W, 4) ---- */
/* In-place blur of a (h, w) plane: box radius r, three passes (close to a Gaussian). `tmp` holds max(w, h) floats. */
void ild_blur_plane(float *plane, int32_t w, int32_t h, int32_t r, float *tmp);
/* Puts a layer of colour rgb with coverage cov (H, W) under the frame: frame = frame OVER layer. */
void ild_under_layer(float *frame, const float *cov, const float rgb[3], int32_t w, int32_t h);

/* ---- tar (POSIX ustar) ---- */
/* Appends one regular-file entry (header + data + padding). Fails with ARG for names over 99 bytes or NOMEM. */
ildiff_status ild_tar_add(ild_buf *tar, const char *name, const uint8_t *data, size_t size);
/* Appends the two zero blocks that end an archive. */
ildiff_status ild_tar_end(ild_buf *tar);
/* Walks an archive in memory: calls fn for each regular file; stops at the end blocks. fn returns non-zero to
 * stop. Fails with FORMAT for a bad header checksum or an entry running past the end. */
ildiff_status ild_tar_each(const uint8_t *data, size_t size,
                           int (*fn)(const char *name, const uint8_t *data, size_t size, void *user), void *user);

/* ---- samples: one sample's tar entries and metadata ---- */
/* Renders plan `p` (sample name `id`) and appends <id>/000.png.., <id>/mask_000.png.., <id>/meta.json to `tar`; *meta_line gets the
 * manifest line (malloc'd JSON, no newline). */
ildiff_status ild_sample_write(const ild_sources *src, const ild_plan *p, int32_t size, const char *id, ild_buf *tar,
                               char **meta_line);

/* ---- the corpus ---- */
typedef struct ild_build_options {
    const char *out_dir;
    int64_t count;
    uint64_t seed;
    ild_split split;
    int32_t size;        /* canvas side, default 512 */
    int32_t shard_size;  /* samples per shard, default 256 */
    int32_t threads;     /* 0 = OpenMP default */
    bool cover;          /* choose samples from a 10x pool to cover the trigger words (TASD-T) */
    bool quiet;
    int32_t rank, ranks; /* build only shards k with k % ranks == rank (ranks 0 or 1: all shards); under mpirun
                          * (more than one rank, dist.h) leave 0: the job's ranks split the shards (build.c) */
} ild_build_options;
/* Builds (or resumes) a corpus. Finished shards are skipped; each shard is written to a temporary name and renamed
 * when complete. Writes manifest.jsonl last, once every shard exists (so with ranks > 1 the last rank to finish
 * writes it; rerunning any rank after all finished writes it too). `progress` (may be NULL) is called after each
 * shard with (done samples, total). */
ildiff_status ild_corpus_build(const ild_sources *src, const ild_build_options *o,
                               void (*progress)(int64_t done, int64_t total, void *user), void *user);

/* Picks `count` plan indices out of a pool of `pool` plans greedily so that the chosen ones cover as many
 * trigger words as possible (ties and the rest in pool order). out: (count) indices. */
ildiff_status ild_cover_select(const ild_sources *src, uint64_t seed, ild_split split, int64_t pool, int64_t count,
                               int64_t *out);

/* ---- statistics (Table I, Fig. 3) ---- */
#define ILD_STATS_MAX_WORDS 128
#define ILD_STATS_MAX_FRAMES 32
typedef struct ild_corpus_stats {
    int64_t samples;
    double mean_caption_en, mean_caption_zh; /* characters (code points) */
    double mean_frames;
    int words_used, vocab_size;
    int64_t word_count[ILD_STATS_MAX_WORDS];
    int64_t frame_hist[ILD_STATS_MAX_FRAMES + 1]; /* the last bin holds longer clips */
    int64_t with_keyframe, semi_open, white_parts, soft_alpha;
    int64_t by_split[ILD_SPLIT_COUNT];
} ild_corpus_stats;
/* Reads DIR/manifest.jsonl. Fails with IO or FORMAT naming the file. */
ildiff_status ild_stats_compute(const char *dir, ild_corpus_stats *s);
/* Table I and the tag shares as Markdown, appended to md. */
ildiff_status ild_stats_markdown(const ild_corpus_stats *s, ild_buf *md);
/* Writes stats.md (the given text), stats.json, words.png and frames.png into dir (created if missing). */
ildiff_status ild_stats_write(const ild_corpus_stats *s, const char *markdown, const char *dir);

/* ---- clip sampler: RGBA stickers as the RGB inputs the model meets ---- */
typedef enum ild_bg_kind { ILD_BG_WHITE, ILD_BG_SOLID, ILD_BG_GRADIENT, ILD_BG_NOISE, ILD_BG_COUNT } ild_bg_kind;
typedef enum ild_damage {
    ILD_DAMAGE_NONE, ILD_DAMAGE_JPEG, ILD_DAMAGE_GIF, ILD_DAMAGE_GIF_JPEG, ILD_DAMAGE_H264, ILD_DAMAGE_COUNT
} ild_damage;
const char *ild_bg_kind_name(ild_bg_kind k);
const char *ild_damage_name(ild_damage d);
typedef struct ild_clip_info {
    ild_bg_kind background;
    ild_damage damage;
    int jpeg_quality;   /* 0 when no JPEG */
    int gif_colors;     /* 0 when no palette */
    int h264_crf;       /* 0 when no H.264 */
    uint8_t bg_rgb[3];  /* the base colour of the background */
} ild_clip_info;
/* Composites T frames of straight RGBA (T, H, W, 4) over a background drawn from `seed` (mostly white, other
 * solid colours, near-solid gradients, light noise) and applies the damage real files carry (GIF palette with
 * 1-bit alpha edges before compositing, JPEG re-encoding at a random quality, H.264 at a random CRF).
 * rgb_out: (T, H, W, 3);
 * bg_out: (H, W, 3) the clean background plate. Deterministic given the seed. Fails with NOMEM or INTERNAL. */
ildiff_status ild_clip_sample(const uint8_t *rgba, int32_t frames, int32_t w, int32_t h, uint64_t seed,
                              uint8_t *rgb_out, uint8_t *bg_out, ild_clip_info *info);

/* Encodes the (T, H, W, 3) clip with libx264 at `crf` and decodes it back in place (h264.c). Fails with
 * UNSUPPORTED without an H.264 encoder, INTERNAL when FFmpeg fails. */
ildiff_status ild_h264_roundtrip(uint8_t *rgb, int32_t frames, int32_t w, int32_t h, int crf);

/* ---- export: a split in the evaluation exchange form ---- */
/* For every sample of `split` in the corpus at dir: out/<id>/input/000.png.. (composited by ild_clip_sample with
 * the sample's seed), gt_alpha/, gt_rgba/, bg.png, meta.json (tags, background, damage, captions). *exported gets
 * the sample count. Fails with IO/FORMAT naming the shard, or EXISTS when out/<id> is there already. */
ildiff_status ild_corpus_export(const char *dir, ild_split split, const char *out, int64_t *exported);

/* ---- contact sheet ---- */
/* Draws the keyframes of the corpus's first `count` (1..400) samples over a checkerboard, 4 per row, each with its
 * English caption and trigger words, into one PNG at out_png (replaced if present). Fails with IO/FORMAT. */
ildiff_status ild_contact_sheet(const char *dir, int count, const char *out_png);

#endif
