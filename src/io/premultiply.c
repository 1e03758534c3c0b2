/* premultiply.c: ARGB32 premultiplied (cairo, rlottie) -> RGBA straight alpha. See premultiply.h. */
#include "premultiply.h"

/* c * 255 / a rounded to nearest, clamped to 255 (a >= 1). */
static inline uint8_t unpremul(uint32_t c, uint32_t a)
{
    uint32_t v = (c * 255 + a / 2) / a;
    return (uint8_t)(v > 255 ? 255 : v);
}

void ild_argb32_premul_to_rgba(uint8_t *dst, const uint32_t *src, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t p = src[i];
        uint32_t a = p >> 24, r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
        uint8_t *o = dst + i * 4;
        if (a == 255) {
            o[0] = (uint8_t)r, o[1] = (uint8_t)g, o[2] = (uint8_t)b;
        } else if (a == 0) {
            o[0] = o[1] = o[2] = 0;
        } else {
            o[0] = unpremul(r, a), o[1] = unpremul(g, a), o[2] = unpremul(b, a);
        }
        o[3] = (uint8_t)a;
    }
}
