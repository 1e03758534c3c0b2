/*
 * norm.h: normalisation layers, forward and backward (nn.h conventions).
 *
 *   GroupNorm    inp (N, C, S), S = H*W or D*H*W; G groups (C % G == 0) -> out (N, C, S); saves mean, rstd (N, G)
 *   LayerNorm    inp (M, C), normalised over the last dim C                 -> out (M, C);    saves mean, rstd (M)
 *   LayerNorm2d  inp (N, C, S), normalised over the channels at each position -> out (N, C, S); saves mean, rstd (N, S)
 *                (the "LayerNorm2d" of SAM / EfficientSAM necks)
 *
 * All use the biased variance and rstd = 1 / sqrt(var + eps), as PyTorch; weight (gamma) and bias (beta) are (C)
 * and may be NULL (no affine: gamma 1, beta 0). Backward accumulates (+=) into dinp, dweight, dbias; dweight
 * and dbias may be NULL. The fast paths split work by (sample, group), rows or channel blocks, so results are
 * deterministic for a given thread count; the *_ref versions are plain single-threaded loops with double sums.
 */
#ifndef ILDIFF_NN_NORM_H
#define ILDIFF_NN_NORM_H

#include <stdint.h>

void nn_groupnorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                          const float *bias, int64_t N, int64_t C, int64_t S, int64_t G, float eps);
void nn_groupnorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                           const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                           int64_t S, int64_t G);
void nn_groupnorm_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int64_t N, int64_t C, int64_t S, int64_t G, float eps);
void nn_groupnorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                               int64_t S, int64_t G);

void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                          const float *bias, int64_t M, int64_t C, float eps);
void nn_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                           const float *weight, const float *mean, const float *rstd, int64_t M, int64_t C);
void nn_layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int64_t M, int64_t C, float eps);
void nn_layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int64_t M, int64_t C);

void nn_layernorm2d_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                            const float *bias, int64_t N, int64_t C, int64_t S, float eps);
void nn_layernorm2d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                             const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                             int64_t S);
void nn_layernorm2d_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                const float *bias, int64_t N, int64_t C, int64_t S, float eps);
void nn_layernorm2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                 const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                                 int64_t S);

#endif
