// Fast activations (ReLU, sigmoid, tanh): threads over contiguous chunks and inner loops the
// compiler vectorises (branch-free selects; exp as a polynomial after range reduction instead of
// a libm call, which no compiler vectorises without -ffast-math). The loops live in
// activation_impl.h, compiled here for the baseline and in isa/ for AVX2 and AVX-512; these
// entry points take the table of active_isa()'s variant.
#include "cpu/activation.h"
#include "core/dispatch.h"

#define TN_ISA_NS generic
#include "cpu/activation_impl.h"
#undef TN_ISA_NS

namespace tn {

TN_ISA_TABLE(ActivationTable, activation_table)

void relu_forward(float* out, const float* inp, int64_t n) { table().relu_forward(out, inp, n); }
void relu_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate) {
    table().relu_backward(dinp, dout, out, n, accumulate);
}
void sigmoid_forward(float* out, const float* inp, int64_t n) {
    table().sigmoid_forward(out, inp, n);
}
void sigmoid_backward(float* dinp, const float* dout, const float* out, int64_t n,
                      bool accumulate) {
    table().sigmoid_backward(dinp, dout, out, n, accumulate);
}
void tanh_forward(float* out, const float* inp, int64_t n) { table().tanh_forward(out, inp, n); }
void tanh_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate) {
    table().tanh_backward(dinp, dout, out, n, accumulate);
}

}  // namespace tn
