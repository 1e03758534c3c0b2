/*
 * layers.h: what every model of src/models/ is built from: the activation arena (one planned allocation per model),
 * parameterised layers that register their tensors in an nn_params table under PyTorch state-dict names, and the
 * layout helpers the engine does not have (channel/axis transposes).
 *
 * Planning (llm.c's "fill in sizes, then point"): a model's plan function walks its layers twice with the same
 * arena. In the measuring pass (arena->acts == NULL) mdl_take only counts; mdl_arena_alloc then allocates the
 * counted floats once (plus as many for the activation gradients when training) and rewinds; the second pass
 * hands out the same offsets, now as pointers. Every activation has a gradient twin at the same offset, so one
 * memset (mdl_arena_zero_grads) clears all of them before a backward pass, and ops accumulate (+=) as nn.h says.
 *
 * Inference plans (train = false) also reuse memory: buffers taken with mdl_take_temp live only until the next
 * mdl_temp_reset, which a model calls between blocks, so a block's internals share one region with the next
 * block's. In a training plan mdl_take_temp is mdl_take (backward needs everything).
 *
 * Layers keep their weights' pointers (bound by nn_params_alloc) and, for convolutions, a oneDNN plan for the
 * planned input shape. All conv plans of a model share one scratch workspace (nn.h; convs run one after another),
 * sized by its largest layer: the arena's own, allocated by mdl_arena_alloc, or one that several models share
 * (ildiff_model.h), set in arena->ws before planning and allocated by its owner after every model is planned. An
 * inference arena (train = false) makes forward-only plans. Shapes are the callers' contract; only plan functions (allocation, oneDNN) can fail.
 *
 * Letters: N batch, C channels, D frames, H, W height and width, S = D*H*W positions.
 */
#ifndef ILDIFF_MODELS_LAYERS_H
#define ILDIFF_MODELS_LAYERS_H

#include "ildiff.h"
#include "nn/conv.h"
#include "nn/params.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- activation arena ---- */

typedef struct mdl_arena {
    float *acts;      /* (floats) activations; NULL while measuring */
    float *grads;     /* (floats) their gradients; NULL while measuring or for inference */
    float *temp;      /* (temp_floats) the reused region of an inference plan */
    size_t used;      /* floats handed out so far in this pass */
    size_t floats;    /* size of the allocated blocks */
    size_t temp_used; /* floats of the reused region handed out since the last mdl_temp_reset */
    size_t temp_max;  /* the most temp_used reached in this pass */
    size_t temp_floats;
    bool train;       /* allocate gradients too */
    nn_workspace *ws; /* conv plans' scratch shared with other models (kept by mdl_arena_free), or NULL: */
    nn_workspace own_ws; /* this model's own, shared by its conv plans */
    bool bf16;        /* inference arenas only: conv plans read bf16 copies (nn_conv_shape.bf16); kept by
                         mdl_arena_free */
} mdl_arena;

/* Hands out n floats (rounded up to 16, 64-byte aligned): *x gets the activation, *dx (may be NULL) its gradient
 * (NULL unless training). While measuring both are NULL. */
void mdl_take(mdl_arena *a, size_t n, float **x, float **dx);
/* Like mdl_take, but in an inference plan from the reused region (valid until the next mdl_temp_reset; *dx NULL). */
void mdl_take_temp(mdl_arena *a, size_t n, float **x, float **dx);
/* Starts a new window of the reused region (a no-op for training plans). */
void mdl_temp_reset(mdl_arena *a);
/* Allocates the counted floats (zeroed), and the conv plans' workspace when the arena owns it, and rewinds for the
 * pointing pass. Frees an earlier allocation of floats first. ILDIFF_ERR_NOMEM on failure. */
ildiff_status mdl_arena_alloc(mdl_arena *a);
/* Frees the blocks and its own workspace and resets the arena to measuring (keeps `train`, `ws` and `bf16`); the conv
 * plans made with it must be freed first. NULL is allowed. */
void mdl_arena_free(mdl_arena *a);
/* Zeroes every activation gradient (one memset). */
void mdl_arena_zero_grads(mdl_arena *a);

/* ---- parameter names ---- */

/* Registers "<prefix><name>" (e.g. prefix "decoder.", name "conv_in.weight") with nn_params_add. */
ildiff_status mdl_param(nn_params *p, const char *prefix, const char *name, int ndim, const int64_t *shape,
                        unsigned flags, float **w, float **dw);

/* Initialises every tensor of the table as PyTorch's defaults do, from `seed` (deterministic): a ".weight" of 2+
 * dims (conv, linear) kaiming-uniform, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the ".bias" of the same layer
 * U(+-1/sqrt(fan_in)); a 1-dim ".weight" (a norm) 1 and its ".bias" 0; anything else (pos_embed, mask_token)
 * truncated normal with std 0.02. Zero-initialised layers are the models' own business (their *_init). */
void mdl_init_params(nn_params *p, uint64_t seed);

/* ---- convolution layer (conv2d or conv3d, groups 1, zero padding K/2) ---- */

typedef struct mdl_conv {
    int64_t C, OC, K, stride;
    bool bias, is3d;
    float *w, *b;         /* (OC, C, K, K[, K]), (OC) or NULL */
    float *dw, *db;
    nn_conv_shape s;      /* the planned input shape */
    nn_conv2d_plan *plan; /* oneDNN plan for s (nn_conv3d_plan is the same type) */
} mdl_conv;

/* Registers "<prefix><name>.weight" (decayed) and, with bias, "<prefix><name>.bias". */
ildiff_status mdl_conv_add(mdl_conv *c, nn_params *p, const char *prefix, const char *name, int64_t C, int64_t OC,
                           int64_t K, int64_t stride, bool bias, bool is3d);
/* Makes the plan for input (N, C, D, H, W) (D = 1 for conv2d) with its scratch in the arena's workspace (a
 * forward-only plan for an inference arena, in bf16 if the arena says so); keeps the current plan if the shape is the same. Fails like
 * nn_conv2d_plan_new. */
ildiff_status mdl_conv_plan(mdl_conv *c, mdl_arena *a, int64_t N, int64_t D, int64_t H, int64_t W);
/* Output size of a spatial dimension of length `in`. */
int64_t mdl_conv_out(const mdl_conv *c, int64_t in);
void mdl_conv_forward(mdl_conv *c, float *out, const float *inp);
/* Accumulates into dinp (may be NULL) and the weight gradients (skipped when `frozen`). */
void mdl_conv_backward(mdl_conv *c, float *dinp, const float *dout, const float *inp, bool frozen);
void mdl_conv_free(mdl_conv *c);
/* Sets the weight and bias to 0 (the zero-initialised layers of the reference: latent_conv_in, temporal out, ...). */
void mdl_conv_zero(mdl_conv *c);

/* ---- normalisation and linear layers: parameters only; the ops of nn/norm.h and nn/linear.h take them ---- */

typedef struct mdl_norm {
    int64_t C, G;  /* channels and groups (G unused for LayerNorm) */
    float eps;
    float *w, *b, *dw, *db; /* (C) each */
} mdl_norm;

/* Registers "<prefix><name>.weight" and "<prefix><name>.bias", (C) each, not decayed. */
ildiff_status mdl_norm_add(mdl_norm *n, nn_params *p, const char *prefix, const char *name, int64_t C, int64_t G,
                           float eps);

typedef struct mdl_linear {
    int64_t in, out;
    float *w, *b, *dw, *db; /* (out, in), (out) */
} mdl_linear;

/* Registers "<prefix><name>.weight" (decayed) and "<prefix><name>.bias". */
ildiff_status mdl_linear_add(mdl_linear *l, nn_params *p, const char *prefix, const char *name, int64_t in,
                             int64_t out);

/* ---- layout helpers ---- */

/* out (N, B, A, S) = inp (N, A, B, S) with the middle axes swapped; with `accumulate` out += instead of =.
 * NCHW -> tokens (N, HW, C) is (A = C, B = HW, S = 1); (N, T, C, HW) -> (N, C, T, HW) is (A = T, B = C, S = HW). */
void mdl_swap_axes(float *out, const float *inp, int64_t N, int64_t A, int64_t B, int64_t S, bool accumulate);

#endif
