/*
 * pool.h: resampling of (N, C, H, W) feature maps, forward and backward (nn.h conventions).
 *
 *   upsample2x     nearest, (N, C, H, W) -> (N, C, 2H, 2W)             (nn.Upsample(scale_factor=2))
 *   avgpool        kernel = stride = k, (N, C, H, W) -> (N, C, H/k, W/k) (floor; nn.AvgPool2d(k))
 *   adaptive_avgpool  (N, C, H, W) -> (N, C, OH, OW); output cell i covers input rows
 *                  [floor(i*H/OH), ceil((i+1)*H/OH)) and likewise columns, exactly PyTorch's formula
 *
 * Backward accumulates (+=) into dinp. The fast paths split rows over OpenMP threads; *_ref are per-element
 * loops written from the definitions.
 */
#ifndef ILDIFF_NN_POOL_H
#define ILDIFF_NN_POOL_H

#include <stdint.h>

void nn_upsample2x_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W);
void nn_upsample2x_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W);
void nn_upsample2x_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W);
void nn_upsample2x_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W);

void nn_avgpool_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int64_t k);
void nn_avgpool_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, int64_t k);
void nn_avgpool_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int64_t k);
void nn_avgpool_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W,
                             int64_t k);

void nn_adaptive_avgpool_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW);
void nn_adaptive_avgpool_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W,
                                  int64_t OH, int64_t OW);
void nn_adaptive_avgpool_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W,
                                     int64_t OH, int64_t OW);
void nn_adaptive_avgpool_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W,
                                      int64_t OH, int64_t OW);

#endif
