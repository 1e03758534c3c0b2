/* pending_raster.c: placeholders until the raster formats land (GIF, WebP, PNG/APNG, JPEG, frames). Deleted by
 * the change that implements them. */
#include "io.h"
#define PENDING(what) return ild_fail(ILDIFF_ERR_UNSUPPORTED, what " is not implemented yet")
ildiff_status ild_gif_read(const uint8_t *d, size_t n, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("GIF reading"); }
ildiff_status ild_webp_read(const uint8_t *d, size_t n, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("WebP reading"); }
ildiff_status ild_png_read(const uint8_t *d, size_t n, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("PNG reading"); }
ildiff_status ild_jpeg_read(const uint8_t *d, size_t n, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("JPEG reading"); }
ildiff_status ild_frames_read(const char *dir, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("frame folders"); }
ildiff_status ild_gif_encode(const ildiff_anim *a, const ildiff_write_options *w, uint8_t **o, size_t *n) { PENDING("GIF writing"); }
ildiff_status ild_webp_encode(const ildiff_anim *a, const ildiff_write_options *w, uint8_t **o, size_t *n) { PENDING("WebP writing"); }
ildiff_status ild_apng_encode(const ildiff_anim *a, const ildiff_write_options *w, uint8_t **o, size_t *n) { PENDING("APNG writing"); }
ildiff_status ild_png_encode_rgba(const uint8_t *p, int32_t w, int32_t h, uint8_t **o, size_t *n) { PENDING("PNG writing"); }
ildiff_status ild_png_encode_grey(const uint8_t *p, int32_t w, int32_t h, uint8_t **o, size_t *n) { PENDING("PNG writing"); }
ildiff_status ild_frames_write(const ildiff_anim *a, const char *path, bool ow) { PENDING("frame folders"); }
