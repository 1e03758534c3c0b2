/*
 * vit_ops.h: the ViT-specific ops: patch embedding, bicubic resize of a positional-embedding grid, and MAE-style
 * random token masking with its gather/scatter, and the feature-map <-> token transposes, each forward and
 * backward.
 *
 * Letters: B batch, CI image channels, H, W image size, P patch size, D embedding width, HP = H / P, WP = W / P
 * (floor, as a stride-P conv), T tokens, K kept tokens, C channels.
 *
 * Backward functions ACCUMULATE (+=) into gradients (NULL ones are skipped). Nothing here allocates or fails;
 * shapes and indices are asserted.
 */
#ifndef ILDIFF_NN_VIT_OPS_H
#define ILDIFF_NN_VIT_OPS_H

#include "nn/rng.h"

#include <stdint.h>

/* ---- patch embedding: nn.Conv2d(CI, D, kernel_size=P, stride=P) then flatten to tokens ----
 * img (B, CI, H, W); w (D, CI, P, P); b (D) or NULL; out (B, HP * WP, D), tokens in row-major patch order
 * (SAM's x.permute(0, 2, 3, 1) flattened). The fast path is im2col into cols (B * HP * WP, CI * P * P), which
 * backward reads again, plus one GEMM; backward needs dcols of the same size as scratch (overwritten). */
void nn_patch_embed_forward(float *out, float *cols, const float *img, const float *w, const float *b, int64_t B,
                            int64_t CI, int64_t H, int64_t W, int64_t P, int64_t D);
void nn_patch_embed_backward(float *dimg, float *dw, float *db, float *dcols, const float *dout, const float *cols,
                             const float *w, int64_t B, int64_t CI, int64_t H, int64_t W, int64_t P, int64_t D);
/* Direct loops; no cols. */
void nn_patch_embed_forward_ref(float *out, const float *img, const float *w, const float *b, int64_t B, int64_t CI,
                                int64_t H, int64_t W, int64_t P, int64_t D);
void nn_patch_embed_backward_ref(float *dimg, float *dw, float *db, const float *dout, const float *img,
                                 const float *w, int64_t B, int64_t CI, int64_t H, int64_t W, int64_t P, int64_t D);

/* ---- bicubic resize of a channels-last grid, as torch.nn.functional.interpolate(mode='bicubic',
 * align_corners=False, size=(HO, WO)) applied to inp.permute(2, 0, 1) (cubic coefficient A = -0.75, taps clamped
 * to the border). inp (HI, WI, C), out (HO, WO, C): a (1, HI*WI, C) position embedding viewed as a grid. */
void nn_bicubic_resize_forward(float *out, const float *inp, int64_t HI, int64_t WI, int64_t HO, int64_t WO, int64_t C);
void nn_bicubic_resize_backward(float *dinp, const float *dout, int64_t HI, int64_t WI, int64_t HO, int64_t WO,
                                int64_t C);
void nn_bicubic_resize_forward_ref(float *out, const float *inp, int64_t HI, int64_t WI, int64_t HO, int64_t WO,
                                   int64_t C);
void nn_bicubic_resize_backward_ref(float *dinp, const float *dout, int64_t HI, int64_t WI, int64_t HO, int64_t WO,
                                    int64_t C);

/* ---- MAE random masking ---- */

/* The kept-token count for a mask ratio, as MAE: int(T * (1 - ratio)), at least 1 and at most T. */
int64_t nn_mask_keep_count(int64_t T, float mask_ratio);
/* For each of B sequences, a uniformly random subset of K of its T tokens (seeded: the same rng state gives the
 * same masks). keep_idx (B, K) receives the kept token indices and mask_idx (B, T - K) the masked ones (may be
 * NULL), each in ascending order. 1 <= K <= T. */
void nn_mask_random(int64_t *keep_idx, int64_t *mask_idx, nn_rng *rng, int64_t B, int64_t T, int64_t K);

/* out (B, K, C) = x[b, idx[b, i], :] with x (B, T, C), idx (B, K); backward: dx[b, idx[b, i], :] += dout[b, i, :]. */
void nn_gather_tokens_forward(float *out, const float *x, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                              int64_t C);
void nn_gather_tokens_backward(float *dx, const float *dout, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                               int64_t C);
/* out[b, idx[b, i], :] = x[b, i, :] with x (B, K, C), out (B, T, C) (rows not named by idx are left as they are:
 * puts decoded tokens back in their places); backward: dx[b, i, :] += dout[b, idx[b, i], :]. Indices within a row
 * must be distinct. */
void nn_scatter_tokens_forward(float *out, const float *x, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                               int64_t C);
void nn_scatter_tokens_backward(float *dx, const float *dout, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                                int64_t C);

/* ---- feature map <-> tokens: (N, C, S) <-> (N, S, C), S = H * W (a spatial attention block's reshapes) ----
 * Each backward is the opposite transpose, accumulated. */
void nn_map_to_tokens_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t S);
void nn_map_to_tokens_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S);
void nn_tokens_to_map_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t S);
void nn_tokens_to_map_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S);

#endif
