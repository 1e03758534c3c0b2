/*
 * half.h: conversions between float32 and the 16-bit floats safetensors files carry (IEEE F16 and BF16).
 * float -> 16 bits rounds to nearest, ties to even (as numpy's astype(float16) and torch's .half()/.bfloat16());
 * overflow gives infinity, NaN stays NaN (quiet). 16 bits -> float is exact. No function here fails.
 */
#ifndef ILDIFF_NN_HALF_H
#define ILDIFF_NN_HALF_H

#include <stdint.h>

uint16_t nn_f32_to_f16(float f);
float nn_f16_to_f32(uint16_t h);
uint16_t nn_f32_to_bf16(float f);
float nn_bf16_to_f32(uint16_t h);

#endif
