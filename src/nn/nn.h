/*
 * nn.h: the conventions every op of the neural engine (src/nn/) follows, its thread control and its shared
 * scratch workspace.
 *
 * Dimension letters, used in every shape comment of src/nn/:
 *   N batch, C channels (OC output channels), G groups, D frames (temporal depth) of a 3D feature map,
 *   H height, W width, S = D*H*W spatial positions, K kernel size, M rows of a (M, C) matrix,
 *   B batch of token sequences, T tokens, NH attention heads.
 *
 * Layout: float32, row-major (C order). Feature maps are NCHW, (N, C, H, W), and NCDHW, (N, C, D, H, W); tokens
 * are (B, T, C). Weights follow PyTorch's state-dict layout (conv weight (OC, C, K, K), linear weight (OC, C)),
 * so a safetensors file loads with a plain copy. Counts and offsets are int64_t/size_t.
 *
 * Ops (llm.c style): each op is a pair `nn_x_forward(out..., inp..., weights..., shape...)` and
 * `nn_x_backward(dinp..., dweights..., dout, saved..., inp..., weights..., shape...)`: outputs first, then inputs
 * and weights, then shapes. A backward ACCUMULATES (+=) into every gradient it is given, so one memset zeroes all
 * gradients of a model; a NULL gradient pointer means "not wanted" where the op says so. The forward saves what
 * the backward needs (mean, rstd, ...) in buffers the caller passes. Every op has a plain-C reference `*_ref`
 * (straight loops, single-threaded) beside the fast path (OpenMP, oneDNN); the tests compare the two and
 * PyTorch. Ops never allocate, except plan constructors (nn_conv2d_plan_new, ...), which allocate once for a
 * shape so that the training step itself allocates nothing.
 *
 * Errors: shapes are the caller's contract (checked with ILD_ASSERT where cheap); only constructors that
 * allocate or call oneDNN return an ildiff_status.
 *
 * Scratch memory: plans need scratch only during a call (reordered copies of their tensors, oneDNN's
 * scratchpad). Plans that never run at the same time can share one nn_workspace: each plan made with it reserves
 * its need, then nn_workspace_alloc allocates the largest once (ggml's measure-then-allocate). A plan made
 * without a workspace owns its scratch.
 *
 * Threads: the fast paths use OpenMP (and OpenBLAS) with nn_threads_get() threads. Results are deterministic for
 * a given thread count (no atomics, fixed work splits); with 1 thread everything runs on the calling thread.
 */
#ifndef ILDIFF_NN_H
#define ILDIFF_NN_H

#include "ildiff.h"

#include <stddef.h>
#include <stdint.h>

/* Sets the number of threads the engine's fast paths use (n >= 1; values < 1 mean 1): OpenMP's count for the
 * calling thread (our loops and oneDNN; plans take it when they are made) and OpenBLAS's (process-wide). The
 * default is OpenMP's default (the number of cores), or 1 in a build without OpenMP. */
void nn_threads_set(int n);

/* The number of threads the engine's fast paths use now (>= 1). */
int nn_threads_get(void);

/* A scratch buffer shared by plans that run one after another (not at the same time). Zero-initialise it
 * (`nn_workspace ws = {0};`), make the plans, then call nn_workspace_alloc before running any of them. */
typedef struct nn_workspace {
    size_t need; /* bytes: the largest reservation so far */
    size_t size; /* bytes allocated */
    void *data;  /* 64-byte aligned; NULL until nn_workspace_alloc */
} nn_workspace;

/* Raises ws->need to at least `bytes`. */
void nn_workspace_reserve(nn_workspace *ws, size_t bytes);

/* Allocates ws->need bytes (touching every page now, not in the first step), replacing a smaller buffer; keeps
 * a large enough one. Returns ILDIFF_OK or ILDIFF_ERR_NOMEM (the old buffer is kept then). */
ildiff_status nn_workspace_alloc(nn_workspace *ws);

/* Frees the buffer and resets ws to zero. */
void nn_workspace_free(nn_workspace *ws);

#endif
