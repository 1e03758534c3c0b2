/*
 * ildiff.h: the one public header of libildiff.
 *
 * ildiff turns RGB animated stickers (GIF, WebP, APNG, MP4/WebM, TGS, a folder of frames) into transparent
 * animated stickers, and reads and writes every sticker format on the way. The `ildiff` command-line tool is a
 * thin layer on this API.
 *
 * Usage:
 *
 *     ildiff_anim *a = NULL;
 *     ildiff_limits lim = ildiff_limits_default();
 *     if (ildiff_anim_read("in.gif", &lim, &a) != ILDIFF_OK) {
 *         fprintf(stderr, "in.gif: %s\n", ildiff_last_error());
 *         return 1;
 *     }
 *     ildiff_write_options wo = ildiff_write_options_default();
 *     ildiff_status st = ildiff_anim_write(a, "out.webp", ILDIFF_FORMAT_WEBP, &wo);
 *     ildiff_anim_free(a);
 *
 * Conventions:
 *   - Every fallible function returns ildiff_status; ILDIFF_OK is 0. On failure, ildiff_last_error() gives a
 *     one-line reason ("truncated LZW data", "frame count 5000 exceeds limit 1000"); it is thread-local and valid
 *     until the next failing call on the same thread. The library never calls exit() and never prints except
 *     through the log callback.
 *   - Objects returned through `**out` belong to the caller and are released with the matching *_free.
 *     On failure `*out` is left NULL.
 *   - Threads: distinct objects may be used from distinct threads; one object is not safe to share while written.
 *   - Counts and offsets that can grow with input size are int64_t / size_t.
 */
#ifndef ILDIFF_H
#define ILDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ILDIFF_VERSION_MAJOR 0
#define ILDIFF_VERSION_MINOR 1
#define ILDIFF_VERSION_PATCH 0
#define ILDIFF_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------------------------------------------ */
/* Status and errors                                                                                            */

typedef enum ildiff_status {
    ILDIFF_OK = 0,
    ILDIFF_ERR_IO,          /* a file could not be opened, read or written */
    ILDIFF_ERR_FORMAT,      /* corrupt, truncated or inconsistent data */
    ILDIFF_ERR_UNSUPPORTED, /* a valid file using a feature or format we do not handle */
    ILDIFF_ERR_LIMIT,       /* over a size limit (width, height, frames, pixels, bytes) */
    ILDIFF_ERR_NOMEM,       /* allocation failed */
    ILDIFF_ERR_ARG,         /* invalid argument or option value */
    ILDIFF_ERR_EXISTS,      /* output exists and overwrite was not allowed, or output is the input */
    ILDIFF_ERR_NOFIT,       /* a preset's limits cannot be met */
    ILDIFF_ERR_INTERNAL,    /* a library we call failed unexpectedly */
    ILDIFF_STATUS_COUNT
} ildiff_status;

/* Short constant name of a status ("format error"). Never NULL. */
const char *ildiff_status_name(ildiff_status status);

/* The reason for the last failure on this thread (one line, no trailing newline). Never NULL. */
const char *ildiff_last_error(void);

/* Log levels and callback. The default callback prints warnings and errors to stderr. */
typedef enum ildiff_log_level { ILDIFF_LOG_DEBUG, ILDIFF_LOG_INFO, ILDIFF_LOG_WARN, ILDIFF_LOG_ERROR } ildiff_log_level;
typedef void (*ildiff_log_fn)(ildiff_log_level level, const char *message, void *user_data);
void ildiff_log_set(ildiff_log_fn fn, void *user_data, ildiff_log_level min_level);

/* ------------------------------------------------------------------------------------------------------------ */
/* Formats                                                                                                      */

typedef enum ildiff_format {
    ILDIFF_FORMAT_UNKNOWN = 0,
    ILDIFF_FORMAT_GIF,
    ILDIFF_FORMAT_WEBP,   /* still or animated */
    ILDIFF_FORMAT_PNG,    /* still PNG; APNG when read with an acTL chunk */
    ILDIFF_FORMAT_APNG,   /* animated PNG (written with .png or .apng) */
    ILDIFF_FORMAT_JPEG,   /* still */
    ILDIFF_FORMAT_VIDEO,  /* MP4 / MOV / MKV and anything else FFmpeg demuxes */
    ILDIFF_FORMAT_WEBM,   /* WebM; written as VP9 with alpha (yuva420p) */
    ILDIFF_FORMAT_TGS,    /* gzip-compressed Lottie (read only) */
    ILDIFF_FORMAT_LOTTIE, /* Lottie JSON (read only) */
    ILDIFF_FORMAT_SVG,    /* still (read only) */
    ILDIFF_FORMAT_FRAMES, /* a directory of PNG/JPEG frames sorted by name; written as RGBA PNGs */
    ILDIFF_FORMAT_COUNT
} ildiff_format;

const char *ildiff_format_name(ildiff_format format);      /* "gif", "webp", ... never NULL */
ildiff_format ildiff_format_from_name(const char *name);    /* inverse of ildiff_format_name; UNKNOWN if none */
/* The output format implied by a path: its extension (.gif .webp .png .apng .webm .mp4 ...) or, for a path that
 * ends in '/' or names an existing directory, FRAMES. ".png" maps to APNG (a one-frame APNG is a plain PNG). */
ildiff_format ildiff_format_from_path(const char *path);
/* The format of `size` bytes by their magic numbers (UNKNOWN if none matches). */
ildiff_format ildiff_format_sniff(const uint8_t *data, size_t size);

/* ------------------------------------------------------------------------------------------------------------ */
/* Animation: the one type every reader produces and every writer consumes                                      */

typedef struct ildiff_anim {
    int32_t width, height;    /* pixels, >= 1 */
    int32_t frame_count;      /* >= 1 */
    uint8_t *rgba;            /* (frame_count, height, width, 4) RGBA8, straight (not premultiplied) alpha */
    int32_t *durations_ms;    /* (frame_count) display time of each frame, >= 1 */
    int32_t loop_count;       /* 0 = loop forever, N = play N times */
    ildiff_format source;     /* the format it was read from (UNKNOWN for made ones) */
    bool source_has_alpha;    /* the source carried an alpha channel / transparency */
} ildiff_anim;

/* A new animation with zeroed pixels, durations of `duration_ms`, loop forever. Caller frees with
 * ildiff_anim_free. Returns ILDIFF_ERR_ARG for non-positive sizes, ILDIFF_ERR_NOMEM when out of memory. */
ildiff_status ildiff_anim_new(int32_t width, int32_t height, int32_t frame_count, int32_t duration_ms,
                              ildiff_anim **out);
/* Frees the animation and both of its arrays. NULL is allowed. */
void ildiff_anim_free(ildiff_anim *anim);
/* Pointer to frame i: (height, width, 4). */
uint8_t *ildiff_anim_frame(const ildiff_anim *anim, int32_t i);
/* Sum of durations in ms. */
int64_t ildiff_anim_duration_ms(const ildiff_anim *anim);
/* True if any pixel has alpha < 255. */
bool ildiff_anim_has_alpha(const ildiff_anim *anim);

/* ------------------------------------------------------------------------------------------------------------ */
/* Reading                                                                                                      */

/* Limits applied by every reader before it allocates. Input over any limit is rejected with ILDIFF_ERR_LIMIT. */
typedef struct ildiff_limits {
    int32_t max_width;        /* default 4096 */
    int32_t max_height;       /* default 4096 */
    int32_t max_frames;       /* default 1000 */
    int64_t max_total_pixels; /* width * height * frames, default 2^28 (1 GiB of RGBA) */
    int64_t max_file_bytes;   /* default 1 GiB */
} ildiff_limits;

ildiff_limits ildiff_limits_default(void);

/* Reads any supported file (format sniffed from its bytes, not its name) or a directory of frames. */
ildiff_status ildiff_anim_read(const char *path, const ildiff_limits *limits, ildiff_anim **out);
/* Reads from memory. `format` may be UNKNOWN to sniff. FRAMES is not readable from memory. */
ildiff_status ildiff_anim_read_memory(const uint8_t *data, size_t size, ildiff_format format,
                                      const ildiff_limits *limits, ildiff_anim **out);

/* ------------------------------------------------------------------------------------------------------------ */
/* Writing                                                                                                      */

typedef enum ildiff_gif_alpha {
    ILDIFF_GIF_ALPHA_THRESHOLD, /* alpha >= threshold is opaque */
    ILDIFF_GIF_ALPHA_DITHER     /* ordered dither of alpha to 1 bit */
} ildiff_gif_alpha;

typedef struct ildiff_write_options {
    float quality;             /* 0..100: WebP lossy quality; WebM maps it to crf (100 = best). default 90 */
    float alpha_quality;       /* 0..100: WebP alpha plane quality. default 100 */
    bool lossless;             /* WebP lossless. default false */
    int method;                /* WebP effort 0..6. default 4 */
    int kmin, kmax;            /* WebP key-frame interval; kmax <= 0 disables; default kmin 0, kmax 1 (every frame) */
    ildiff_gif_alpha gif_alpha;/* default THRESHOLD */
    int gif_threshold;         /* 1..255, default 128 */
    uint8_t matte[3];          /* GIF: soft edges are composited over this colour before quantizing. default white */
    int32_t loop_count;        /* -1 = keep the animation's own (default); 0 = forever; N = N plays */
    bool overwrite;            /* replace an existing output. default false */
} ildiff_write_options;

ildiff_write_options ildiff_write_options_default(void);

/* Encodes the animation to memory. *out is malloc'd; the caller frees it with free(). FRAMES is not allowed. */
ildiff_status ildiff_anim_encode(const ildiff_anim *anim, ildiff_format format, const ildiff_write_options *opts,
                                 uint8_t **out, size_t *out_size);
/* Writes the animation to `path` atomically: it goes to a temporary name in the same directory and is renamed
 * when complete, so a failure never leaves a partial output. FRAMES writes a directory of 000000.png ...
 * Returns ILDIFF_ERR_EXISTS if `path` exists and opts->overwrite is false. */
ildiff_status ildiff_anim_write(const ildiff_anim *anim, const char *path, ildiff_format format,
                                const ildiff_write_options *opts);

/* ------------------------------------------------------------------------------------------------------------ */
/* Editing (used by presets; each returns a new animation, the input is not changed)                           */

/* Resamples to new_width x new_height (area filter on premultiplied colour). */
ildiff_status ildiff_anim_resize(const ildiff_anim *anim, int32_t new_width, int32_t new_height, ildiff_anim **out);
/* Scales to fit inside box_w x box_h keeping the aspect ratio, then centres it on a transparent canvas of
 * canvas_w x canvas_h (0 = the scaled size). */
ildiff_status ildiff_anim_fit(const ildiff_anim *anim, int32_t box_w, int32_t box_h, int32_t canvas_w,
                              int32_t canvas_h, ildiff_anim **out);
/* Resamples time: at most max_fps frames per second (drops/merges frames, keeps total duration), and cuts the
 * animation at max_duration_ms (0 = no cut). */
ildiff_status ildiff_anim_retime(const ildiff_anim *anim, double max_fps, int64_t max_duration_ms, ildiff_anim **out);

/* ------------------------------------------------------------------------------------------------------------ */
/* Platform presets                                                                                             */

typedef struct ildiff_preset {
    const char *name;          /* "telegram", "whatsapp", ... */
    const char *description;   /* one line for --help */
    ildiff_format format;      /* output format */
    int32_t canvas_w, canvas_h;/* exact canvas; 0 = free (then max_side applies) */
    int32_t max_side;          /* longest side limit when the canvas is free; 0 = none */
    bool one_side_exact;       /* Telegram: one side exactly max_side, the other <= */
    double max_fps;            /* 0 = no limit */
    int64_t max_duration_ms;   /* 0 = no limit */
    int32_t min_frame_ms;      /* shortest frame; 0 = no limit */
    int64_t max_bytes;         /* file size limit */
    int32_t loop_count;        /* forced loop count (-1 = keep) */
} ildiff_preset;

/* The built-in presets, ended by an entry whose name is NULL. */
const ildiff_preset *ildiff_presets(void);
/* A preset by name, or NULL. */
const ildiff_preset *ildiff_preset_find(const char *name);

/* What the fitting search did, for the user. */
typedef struct ildiff_fit_report {
    int32_t width, height, frame_count;
    double fps;
    float quality;
    size_t bytes;
    int attempts;              /* encodes tried */
    bool reduced;              /* quality, fps or size had to be lowered to fit the byte limit */
} ildiff_fit_report;

/* Applies the preset (canvas, fps, duration, frame timing, loop) and searches quality, then fps, then size until
 * the encoded file fits the byte limit. *out is malloc'd (caller frees). ILDIFF_ERR_NOFIT when nothing fits. */
ildiff_status ildiff_preset_encode(const ildiff_anim *anim, const ildiff_preset *preset,
                                   const ildiff_write_options *opts, uint8_t **out, size_t *out_size,
                                   ildiff_fit_report *report);

/* ------------------------------------------------------------------------------------------------------------ */
/* Files                                                                                                        */

/* Writes `size` bytes to `path` atomically (temporary name in the same directory, fsync, rename). Refuses to
 * replace an existing file unless `overwrite`. */
ildiff_status ildiff_write_file_atomic(const char *path, const uint8_t *data, size_t size, bool overwrite);
/* Reads a whole file; *out is malloc'd (caller frees). Files over max_bytes give ILDIFF_ERR_LIMIT. */
ildiff_status ildiff_read_file(const char *path, int64_t max_bytes, uint8_t **out, size_t *out_size);
/* True if the two paths name the same existing file (same device and inode). */
bool ildiff_same_file(const char *a, const char *b);

/* ------------------------------------------------------------------------------------------------------------ */
/* Matting                                                                                                      */
/*
 * An ildiff_matter holds a loaded matting model (a model file: safetensors whose metadata carries the model's
 * configuration and format version) and turns RGB animations into transparent ones:
 *
 *     ildiff_matte_params mp = ildiff_matte_params_default();
 *     ildiff_matter *m;
 *     if (ildiff_matter_new("model.safetensors", &mp, &m) != ILDIFF_OK) ... ildiff_last_error() ...
 *     ildiff_anim *rgba;
 *     ildiff_status st = ildiff_matte_anim(m, anim, &rgba, NULL, NULL);
 *     ildiff_matter_free(m);
 *
 * Frames are padded to the model's size multiple by edge replication and cropped back; clips longer than
 * `window` frames run in windows that share `overlap` frames, blended linearly across the overlap. Alpha is the
 * model's alpha channel; colour is straight and decontaminated: the model's foreground colour where alpha is low,
 * moving to the input un-composited from the background (the hint, or the median of the frames' border) as alpha
 * rises, so no background rim remains. Timing and loop count are kept. One matter is not safe to share between
 * threads while it runs; use one per thread.
 */

typedef struct ildiff_matter ildiff_matter;

typedef struct ildiff_matte_params {
    int threads;           /* compute threads, 0 = the machine's default (every core). default 0 */
    int tta;               /* 1, or 8: flips x rot90, per-value median of the 8 results (as LayerDiffuse). default 1 */
    bool bg_auto;          /* estimate the background from the frames' border (default true) */
    uint8_t bg[3];         /* the background hint when bg_auto is false */
    int32_t window;        /* frames per temporal window, 1 .. 4096. default 16 */
    int32_t overlap;       /* frames shared by neighbouring windows, 0 .. window - 1. default 4 */
    int64_t max_model_bytes; /* largest model file accepted. default 2 GiB */
} ildiff_matte_params;

ildiff_matte_params ildiff_matte_params_default(void);

/* Loads the model file. ILDIFF_ERR_ARG (bad params), ILDIFF_ERR_IO (unreadable), ILDIFF_ERR_FORMAT (not a model
 * file, bad config or tensors), ILDIFF_ERR_UNSUPPORTED (a newer model file version), ILDIFF_ERR_NOMEM. */
ildiff_status ildiff_matter_new(const char *model_path, const ildiff_matte_params *params, ildiff_matter **out);

/* Called after each model run with the runs done and their total (windows x TTA transforms). */
typedef void (*ildiff_progress_fn)(void *user_data, int64_t done, int64_t total);

/* Mattes `in` (its alpha is ignored) into *out: straight RGBA of the same size, frame count, durations and loop
 * count. `progress` may be NULL. ILDIFF_ERR_NOMEM, ILDIFF_ERR_LIMIT (a frame too large for the model's buffers),
 * ILDIFF_ERR_INTERNAL (the compute engine failed). */
ildiff_status ildiff_matte_anim(ildiff_matter *matter, const ildiff_anim *in, ildiff_anim **out,
                                ildiff_progress_fn progress, void *user_data);

/* Frees the matter and its model. NULL is allowed. */
void ildiff_matter_free(ildiff_matter *matter);

#ifdef __cplusplus
}
#endif
#endif /* ILDIFF_H */
