/*
 * act.h: elementwise activations, forward and backward (nn.h conventions), on n floats of any shape.
 *
 *   RELU     max(x, 0)                       (gradient 0 at x = 0, as PyTorch)
 *   SILU     x * sigmoid(x)
 *   GELU     0.5 x (1 + erf(x / sqrt 2))     (the exact form, torch's default approximate='none')
 *   SIGMOID  1 / (1 + exp(-x))
 *   TANH     tanh(x)
 *
 * Forward may run in place (out == inp). Backward takes the forward's input and accumulates
 * dinp += f'(inp) * dout. The fast path is float math split over OpenMP threads; *_ref is a plain loop in double.
 */
#ifndef ILDIFF_NN_ACT_H
#define ILDIFF_NN_ACT_H

#include <stddef.h>

typedef enum nn_act { NN_ACT_RELU, NN_ACT_SILU, NN_ACT_GELU, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_COUNT } nn_act;

/* "relu", "silu", "gelu", "sigmoid", "tanh"; "?" for a value out of range. */
const char *nn_act_name(nn_act act);
/* The activation named `name`, or NN_ACT_COUNT if none is. */
nn_act nn_act_from_name(const char *name);

void nn_act_forward(float *out, const float *inp, size_t n, nn_act act);
void nn_act_backward(float *dinp, const float *dout, const float *inp, size_t n, nn_act act);
void nn_act_forward_ref(float *out, const float *inp, size_t n, nn_act act);
void nn_act_backward_ref(float *dinp, const float *dout, const float *inp, size_t n, nn_act act);

#endif
