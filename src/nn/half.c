/* half.c: F16 / BF16 <-> F32 conversions with round-to-nearest-even (half.h). */
#include "nn/half.h"

#include <string.h>

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t nn_f32_to_f16(float f)
{
    uint32_t x = bits_of(f);
    uint32_t sign = x & 0x80000000u;
    x ^= sign;
    uint16_t o;
    if (x >= (127u + 16) << 23) { /* >= 65536, inf or NaN */
        o = x > 0x7f800000u ? 0x7e00 : 0x7c00;
    } else if (x < 113u << 23) { /* below 2^-14: a half subnormal or zero; let the FPU round at 2^-24 */
        const uint32_t magic = ((127u - 15) + (23 - 10) + 1) << 23;
        o = (uint16_t)(bits_of(float_of(x) + float_of(magic)) - magic);
    } else { /* normal: rebias, round the 13 dropped bits to nearest even (a carry may reach infinity) */
        uint32_t odd = (x >> 13) & 1;
        x += ((uint32_t)(15 - 127) << 23) + 0xfff + odd;
        o = (uint16_t)(x >> 13);
    }
    return (uint16_t)(o | (sign >> 16));
}

float nn_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in float */
        float f = (float)mant * 0x1.0p-24f;
        return float_of(bits_of(f) | sign);
    }
    if (exp == 31) return float_of(sign | 0x7f800000u | (mant << 13));
    return float_of(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t nn_f32_to_bf16(float f)
{
    uint32_t x = bits_of(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

float nn_bf16_to_f32(uint16_t h) { return float_of((uint32_t)h << 16); }
