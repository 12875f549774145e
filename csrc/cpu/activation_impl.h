// Activation kernels written once and compiled once per CPU variant: activation.cpp includes
// this file as tn::generic, isa/activation_avx2.cpp and isa/activation_avx512.cpp as tn::avx2 and
// tn::avx512 with their own flags (the same loops, vectorised 4, 8 or 16 wide). Define
// TN_ISA_NS before including it; nothing here may be included twice in one file.
#include "core/parallel.h"
#include "cpu/activation.h"
#include "cpu/tanh_sigmoid_impl.h"

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/activation_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

// Elementwise work is memory-bound: a thread needs a few hundred KiB before a team pays off.
constexpr int64_t kGrain = 1 << 16;

template <typename F>
void unary(float* out, const float* inp, int64_t n, F f) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        float* TN_RESTRICT o = out;
        const float* TN_RESTRICT x = inp;
        for (int64_t i = b; i < e; ++i) o[i] = f(x[i]);
    });
}

// dinp = (accumulate ? dinp : 0) + dout * g(out)
template <typename G>
void unary_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate,
                    G g) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        float* TN_RESTRICT d = dinp;
        const float* TN_RESTRICT dy = dout;
        const float* TN_RESTRICT y = out;
        if (accumulate)
            for (int64_t i = b; i < e; ++i) d[i] += g(dy[i], y[i]);
        else
            for (int64_t i = b; i < e; ++i) d[i] = g(dy[i], y[i]);
    });
}

}  // namespace

void relu_forward(float* out, const float* inp, int64_t n) {
    unary(out, inp, n, [](float x) { return x < 0.0f ? 0.0f : x; });
}
void relu_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate) {
    unary_backward(dinp, dout, out, n, accumulate,
                   [](float dy, float y) { return y > 0.0f ? dy : 0.0f; });
}
void sigmoid_forward(float* out, const float* inp, int64_t n) {
    // A lambda inlines into the loop; passing sigmoid_fast as a pointer would not.
    unary(out, inp, n, [](float x) { return sigmoid_fast(x); });
}
void sigmoid_backward(float* dinp, const float* dout, const float* out, int64_t n,
                      bool accumulate) {
    unary_backward(dinp, dout, out, n, accumulate,
                   [](float dy, float y) { return dy * y * (1.0f - y); });
}
void tanh_forward(float* out, const float* inp, int64_t n) {
    unary(out, inp, n, [](float x) { return tanh_fast(x); });
}
void tanh_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate) {
    unary_backward(dinp, dout, out, n, accumulate,
                   [](float dy, float y) { return dy * (1.0f - y * y); });
}

const ActivationTable& activation_table() {
    static const ActivationTable t{relu_forward,    relu_backward, sigmoid_forward,
                                   sigmoid_backward, tanh_forward,  tanh_backward};
    return t;
}

}  // namespace tn::TN_ISA_NS
