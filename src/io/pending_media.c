/* pending_media.c: placeholders until video, Lottie/TGS and SVG land. Deleted by the change that implements them. */
#include "io.h"
#define PENDING(what) return ild_fail(ILDIFF_ERR_UNSUPPORTED, what " is not implemented yet")
ildiff_status ild_video_read(const uint8_t *d, size_t n, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("video reading"); }
ildiff_status ild_lottie_read(const uint8_t *d, size_t n, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("Lottie reading"); }
ildiff_status ild_svg_read(const uint8_t *d, size_t n, const ildiff_limits *l, ildiff_anim **o) { *o = NULL; PENDING("SVG reading"); }
ildiff_status ild_webm_encode(const ildiff_anim *a, const ildiff_write_options *w, uint8_t **o, size_t *n) { PENDING("WebM writing"); }
