// Fast activations (ReLU, sigmoid, tanh) and their backward passes, elementwise over n floats.
// Same signatures and gradient convention as the references in ref/ref.h (backward takes the
// forward's output; accumulate adds into dinp instead of overwriting it).
#pragma once
#include "core/common.h"

namespace tn {

void relu_forward(float* out, const float* inp, int64_t n);
void relu_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate);
void sigmoid_forward(float* out, const float* inp, int64_t n);
void sigmoid_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate);
void tanh_forward(float* out, const float* inp, int64_t n);
void tanh_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate);

// The six kernels of one CPU variant (activation_impl.h builds one table per variant).
struct ActivationTable {
    void (*relu_forward)(float*, const float*, int64_t);
    void (*relu_backward)(float*, const float*, const float*, int64_t, bool);
    void (*sigmoid_forward)(float*, const float*, int64_t);
    void (*sigmoid_backward)(float*, const float*, const float*, int64_t, bool);
    void (*tanh_forward)(float*, const float*, int64_t);
    void (*tanh_backward)(float*, const float*, const float*, int64_t, bool);
};

}  // namespace tn
