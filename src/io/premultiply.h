/*
 * premultiply.h: converts the ARGB32 premultiplied pixels that cairo (SVG) and rlottie (Lottie) render into the
 * RGBA straight-alpha bytes of ildiff_anim. Internal.
 */
#ifndef ILDIFF_PREMULTIPLY_H
#define ILDIFF_PREMULTIPLY_H

#include <stddef.h>
#include <stdint.h>

/* Converts `count` native-endian uint32 pixels 0xAARRGGBB with colour premultiplied by alpha into RGBA bytes with
 * straight alpha. `dst` holds count * 4 bytes and must not overlap `src`. Colour channels larger than alpha (not
 * valid premultiplied data) are clamped to 255. Cannot fail. */
void ild_argb32_premul_to_rgba(uint8_t *dst, const uint32_t *src, size_t count);

#endif
