/*
 * preset.h: the fitting search behind ildiff_preset_encode, with the encoder passed in so tests can drive the
 * search with a fake encoder of known sizes. Internal.
 */
#ifndef ILDIFF_PRESET_H
#define ILDIFF_PRESET_H

#include "io.h"

typedef ildiff_status (*ild_encode_fn)(const ildiff_anim *anim, ildiff_format format, const ildiff_write_options *opts,
                                       uint8_t **out, size_t *out_size);

/* ildiff_preset_encode with `encode` in place of ildiff_anim_encode. Same contract. */
ildiff_status ild_preset_encode_with(const ildiff_anim *anim, const ildiff_preset *preset, const ildiff_write_options *opts,
                                     ild_encode_fn encode, uint8_t **out, size_t *out_size, ildiff_fit_report *report);

/* Applies the preset's canvas, timing and loop rules without encoding: the animation the search starts from.
 * Caller frees *out. */
ildiff_status ild_preset_prepare(const ildiff_anim *anim, const ildiff_preset *preset, ildiff_anim **out);

#endif
