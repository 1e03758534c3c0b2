/*
 * params.h: the parameter table of a model: named tensors (names = PyTorch state-dict keys) living in one
 * allocation for the values, one for the gradients, and one each for the AdamW moments and the EMA copy.
 * llm.c's fill_in_parameter_sizes / malloc_and_point_parameters, generalised:
 *
 *     nn_params p;
 *     nn_params_init(&p);
 *     nn_params_add(&p, "proj.weight", 2, (int64_t[]){256, 192}, NN_PARAM_DECAY, &m->proj_w, &m->dproj_w);
 *     nn_params_add(&p, "proj.bias", 1, (int64_t[]){256}, 0, &m->proj_b, &m->dproj_b);
 *     if (nn_params_alloc(&p) != ILDIFF_OK) ...       // fills m->proj_w, m->dproj_w, ...
 *     nn_params_zero_grad(&p);                        // one memset
 *     nn_params_free(&p);
 *
 * Every tensor starts on a 64-byte boundary inside the blocks (gaps between tensors are zero and carry no
 * gradient). After nn_params_alloc the table is frozen (nn_params_add fails). Values start at 0; initialise
 * them through the bound pointers or load them (safetensors.h). Not thread-safe while being built.
 */
#ifndef ILDIFF_NN_PARAMS_H
#define ILDIFF_NN_PARAMS_H

#include "ildiff.h"

#include <stddef.h>
#include <stdint.h>

#define NN_PARAM_NAME_MAX 128 /* bytes, including the terminating 0 */
#define NN_PARAM_MAX_DIMS 8

enum {
    NN_PARAM_DECAY = 1, /* AdamW applies weight decay to it (weights); biases and norm scales usually do not */
    NN_PARAM_FROZEN = 2 /* the optimizer leaves it alone */
};

typedef struct nn_param {
    char name[NN_PARAM_NAME_MAX];
    int ndim;                        /* 0 (a scalar) .. NN_PARAM_MAX_DIMS */
    int64_t shape[NN_PARAM_MAX_DIMS];
    size_t numel;
    size_t offset;                   /* in floats, from the start of each block; a multiple of 16 */
    unsigned flags;                  /* NN_PARAM_* */
    float **bind_data, **bind_grad;  /* where nn_params_alloc writes the tensor's pointers (may be NULL) */
} nn_param;

typedef struct nn_params {
    nn_param *items;
    int count, cap;
    size_t total;        /* floats in each block (padding included) */
    float *data;         /* (total) values */
    float *grad;         /* (total) gradients */
    float *m, *v;        /* (total) AdamW moments, NULL until nn_params_alloc_adam */
    float *ema;          /* (total) EMA of the values, NULL until nn_params_alloc_ema */
} nn_params;

void nn_params_init(nn_params *p);
/* Frees every block and the table; the struct can be initialised again. NULL is allowed. */
void nn_params_free(nn_params *p);

/* Registers a tensor. `name` must be unique, non-empty and shorter than NN_PARAM_NAME_MAX; every dim >= 1.
 * bind_data / bind_grad (may be NULL) receive the tensor's pointers at nn_params_alloc; they must stay valid
 * until then (point into a struct that does not move).
 * Returns ILDIFF_ERR_ARG (bad name or shape, duplicate, table already allocated), ILDIFF_ERR_LIMIT (size
 * overflow), ILDIFF_ERR_NOMEM. */
ildiff_status nn_params_add(nn_params *p, const char *name, int ndim, const int64_t *shape, unsigned flags,
                            float **bind_data, float **bind_grad);
/* Allocates the value and gradient blocks (zeroed) and fills the bound pointers. ILDIFF_ERR_NOMEM on failure;
 * ILDIFF_ERR_ARG if called twice. */
ildiff_status nn_params_alloc(nn_params *p);
/* Allocates the zeroed AdamW moment blocks (once; later calls do nothing). ILDIFF_ERR_NOMEM, ILDIFF_ERR_ARG before
 * nn_params_alloc. */
ildiff_status nn_params_alloc_adam(nn_params *p);
/* Allocates the EMA block as a copy of the current values (once). ILDIFF_ERR_NOMEM, ILDIFF_ERR_ARG as above. */
ildiff_status nn_params_alloc_ema(nn_params *p);

/* The entry named `name`, or NULL. */
const nn_param *nn_params_find(const nn_params *p, const char *name);
/* Values / gradient of entry i (NULL before nn_params_alloc). */
float *nn_params_data(const nn_params *p, int i);
float *nn_params_grad(const nn_params *p, int i);
/* Sum of numel over all entries (without padding). */
size_t nn_params_numel(const nn_params *p);
/* Zeroes every gradient: one memset. */
void nn_params_zero_grad(nn_params *p);

#endif
