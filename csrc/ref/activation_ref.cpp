// Reference activations (ReLU, sigmoid, tanh) and their backward passes: plain loops, libm.
// The oracle for cpu/activation.cpp. Convention: see ref.h.
#include "ref/ref.h"

#include <cmath>

namespace tn::ref {
namespace {

inline void put(float* d, float v, bool accumulate) { *d = accumulate ? *d + v : v; }

}  // namespace

// x < 0 ? 0 : x keeps NaN (a NaN compares false), as torch.relu does.
void relu_forward(float* out, const float* inp, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = inp[i] < 0.0f ? 0.0f : inp[i];
}

// The gradient flows where the output is positive: none at 0 (torch's threshold_backward).
void relu_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate) {
    for (int64_t i = 0; i < n; ++i) put(dinp + i, out[i] > 0.0f ? dout[i] : 0.0f, accumulate);
}

// exp of a non-positive argument only, so nothing overflows: 1/(1+e^-x) for x >= 0,
// e^x/(1+e^x) below.
void sigmoid_forward(float* out, const float* inp, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float x = inp[i];
        const float e = std::exp(-std::fabs(x));
        out[i] = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        if (std::isnan(x)) out[i] = x;
    }
}

void sigmoid_backward(float* dinp, const float* dout, const float* out, int64_t n,
                      bool accumulate) {
    for (int64_t i = 0; i < n; ++i) put(dinp + i, dout[i] * out[i] * (1.0f - out[i]), accumulate);
}

void tanh_forward(float* out, const float* inp, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(inp[i]);
}

void tanh_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate) {
    for (int64_t i = 0; i < n; ++i) put(dinp + i, dout[i] * (1.0f - out[i] * out[i]), accumulate);
}

}  // namespace tn::ref
