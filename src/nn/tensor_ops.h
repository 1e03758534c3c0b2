/*
 * tensor_ops.h: data movement and elementwise arithmetic with backward (nn.h conventions).
 *
 *   concat   inps[i] (N, C_i, S) -> out (N, sum C_i, S)                 along channels
 *   slice    inp (N, C, S) -> out (N, CS, S), channels [c0, c0 + CS)
 *   add      out = a + b;  mul  out = a * b;  scale  out = s * a        (n floats, any shape)
 *   flip     (N, C, H, W) reversed along H and/or W                     (torch.flip(x, dims))
 *   rot90    (N, C, H, W) -> (N, C, H, W) for k = 2, (N, C, W, H) for k = 1, 3: torch.rot90(x, k, (2, 3)),
 *            counter-clockwise; for test-time augmentation
 *
 * Backward accumulates (+=) into the input gradients; a NULL gradient is skipped. Forward outputs must not
 * alias their inputs, except for add, mul and scale (elementwise, in place allowed). The fast paths split rows
 * or chunks over OpenMP threads; *_ref are per-element loops from the definitions.
 */
#ifndef ILDIFF_NN_TENSOR_OPS_H
#define ILDIFF_NN_TENSOR_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void nn_concat_forward(float *out, const float *const *inps, const int64_t *C, int count, int64_t N, int64_t S);
void nn_concat_backward(float *const *dinps, const float *dout, const int64_t *C, int count, int64_t N, int64_t S);
void nn_concat_forward_ref(float *out, const float *const *inps, const int64_t *C, int count, int64_t N,
                           int64_t S);
void nn_concat_backward_ref(float *const *dinps, const float *dout, const int64_t *C, int count, int64_t N,
                            int64_t S);

void nn_slice_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t CS);
void nn_slice_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t CS);
void nn_slice_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t CS);
void nn_slice_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S, int64_t c0,
                           int64_t CS);

void nn_add_forward(float *out, const float *a, const float *b, size_t n);
void nn_add_backward(float *da, float *db, const float *dout, size_t n);
void nn_add_forward_ref(float *out, const float *a, const float *b, size_t n);
void nn_add_backward_ref(float *da, float *db, const float *dout, size_t n);

void nn_mul_forward(float *out, const float *a, const float *b, size_t n);
void nn_mul_backward(float *da, float *db, const float *dout, const float *a, const float *b, size_t n);
void nn_mul_forward_ref(float *out, const float *a, const float *b, size_t n);
void nn_mul_backward_ref(float *da, float *db, const float *dout, const float *a, const float *b, size_t n);

void nn_scale_forward(float *out, const float *a, float s, size_t n);
void nn_scale_backward(float *da, const float *dout, float s, size_t n);
void nn_scale_forward_ref(float *out, const float *a, float s, size_t n);
void nn_scale_backward_ref(float *da, const float *dout, float s, size_t n);

void nn_flip_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                     bool flip_w);
void nn_flip_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                      bool flip_w);
void nn_flip_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                         bool flip_w);
void nn_flip_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                          bool flip_w);

/* H, W are the input's; k is taken mod 4 (k = 0 copies). */
void nn_rot90_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int k);
void nn_rot90_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, int k);
void nn_rot90_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int k);
void nn_rot90_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, int k);

#endif
