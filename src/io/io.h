/*
 * io.h: the per-format readers and encoders behind ildiff_anim_read / ildiff_anim_encode. Internal.
 *
 * Contract for every reader: it gets the whole file in memory, checks sizes with ild_check_dims() before it
 * allocates pixels, never reads outside [data, data + size), and on failure returns a status set by ild_fail()
 * with *out left NULL and nothing leaked. On success *out is a complete animation (all frames, durations >= 1).
 *
 * Contract for every encoder: it fills *out (malloc'd) and *out_size, or fails with nothing allocated.
 */
#ifndef ILDIFF_IO_H
#define ILDIFF_IO_H

#include "../base/base.h"

typedef ildiff_status (*ild_reader_fn)(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out);
typedef ildiff_status (*ild_encoder_fn)(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out,
                                        size_t *out_size);

/* readers: one file each */
ildiff_status ild_gif_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out);
ildiff_status ild_webp_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out);
ildiff_status ild_png_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out); /* PNG and APNG */
ildiff_status ild_jpeg_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out);
ildiff_status ild_video_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out); /* FFmpeg */
ildiff_status ild_lottie_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out); /* JSON or TGS */
ildiff_status ild_svg_read(const uint8_t *data, size_t size, const ildiff_limits *limits, ildiff_anim **out);
ildiff_status ild_frames_read(const char *dir, const ildiff_limits *limits, ildiff_anim **out);

/* Directory listing shared by the frames reader and `ildiff matte` (frames folders, --batch). */
typedef enum ild_dir_filter {
    ILD_DIR_FRAMES, /* names ild_is_frame_name accepts (by name only) */
    ILD_DIR_FILES,  /* regular files (symbolic links followed) whose name does not start with '.' */
} ild_dir_filter;
/* True for a frame file name: *.png, *.jpg or *.jpeg (case-insensitive), not starting with '.'. */
bool ild_is_frame_name(const char *name);
/* The names in `dir` that `filter` keeps, malloc'd, in natural order (strverscmp: frame2 before frame10); none is
 * fine (*names NULL, *count 0). More than max_names (INT64_MAX: no limit) fails with ILDIFF_ERR_LIMIT as soon as
 * the listing passes it. Also ILDIFF_ERR_IO (cannot open), ILDIFF_ERR_NOMEM; on failure nothing is left allocated.
 * Free the list with ild_dir_names_free. */
ildiff_status ild_dir_list(const char *dir, ild_dir_filter filter, int64_t max_names, char ***names, size_t *count);
void ild_dir_names_free(char **names, size_t count);

/* encoders */
ildiff_status ild_gif_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size);
ildiff_status ild_webp_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size);
ildiff_status ild_apng_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size);
ildiff_status ild_webm_encode(const ildiff_anim *anim, const ildiff_write_options *opts, uint8_t **out, size_t *out_size);
/* Still RGBA PNG of one (height, width, 4) image, used by the frames writer and by pictures in reports. */
ildiff_status ild_png_encode_rgba(const uint8_t *rgba, int32_t width, int32_t height, uint8_t **out, size_t *out_size);
/* Still 8-bit grey PNG of one (height, width) image (alpha mattes). */
ildiff_status ild_png_encode_grey(const uint8_t *grey, int32_t width, int32_t height, uint8_t **out, size_t *out_size);
/* Writes 000000.png ... into a new directory `path` (made under a temporary name, renamed when complete). */
ildiff_status ild_frames_write(const ildiff_anim *anim, const char *path, bool overwrite);

/* The loop count to write: opts->loop_count unless it is -1, then the animation's own. */
int32_t ild_effective_loop(const ildiff_anim *anim, const ildiff_write_options *opts);

#endif
