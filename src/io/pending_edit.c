/* pending_edit.c: placeholders until resizing, retiming and presets land. Deleted by the change that implements them. */
#include "io.h"
#define PENDING(what) return ild_fail(ILDIFF_ERR_UNSUPPORTED, what " is not implemented yet")
ildiff_status ildiff_anim_resize(const ildiff_anim *a, int32_t w, int32_t h, ildiff_anim **o) { *o = NULL; PENDING("resizing"); }
ildiff_status ildiff_anim_fit(const ildiff_anim *a, int32_t bw, int32_t bh, int32_t cw, int32_t ch, ildiff_anim **o) { *o = NULL; PENDING("fitting"); }
ildiff_status ildiff_anim_retime(const ildiff_anim *a, double f, int64_t d, ildiff_anim **o) { *o = NULL; PENDING("retiming"); }
const ildiff_preset *ildiff_presets(void) { static const ildiff_preset none[] = {{0}}; return none; }
const ildiff_preset *ildiff_preset_find(const char *name) { return NULL; }
ildiff_status ildiff_preset_encode(const ildiff_anim *a, const ildiff_preset *p, const ildiff_write_options *w, uint8_t **o, size_t *n, ildiff_fit_report *r) { *o = NULL; PENDING("presets"); }
