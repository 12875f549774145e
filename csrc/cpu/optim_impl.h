// Fused optimizer updates written once and compiled once per CPU variant (like
// activation_impl.h): optim.cpp includes this file as tn::generic, isa/optim_avx2.cpp and
// isa/optim_avx512.cpp as tn::avx2 / tn::avx512 with their flags. Each step reads and writes a
// parameter and its state once, threads over contiguous chunks, option branches hoisted out of
// the loops so they vectorise (built with -fno-trapping-math -fno-math-errno: GCC may then
// if-convert selects and use the sqrt instruction; results are unchanged). Same arithmetic,
// element by element, as the references in ref/optim_ref.cpp. Define TN_ISA_NS first.
#include "core/parallel.h"
#include "cpu/optim.h"

#include <cmath>
#include <type_traits>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/optim_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

// Updates are memory-bound (12-24 bytes per element): a team pays off from ~64K elements.
constexpr int64_t kGrain = 1 << 16;

// g = (maximize ? -grad : grad) + weight_decay * p, the common prologue of every rule.
inline float effective_grad(float grad, float p, float wd, bool maximize) {
    const float g = maximize ? -grad : grad;
    return wd != 0.0f ? g + wd * p : g;
}

}  // namespace

void sgd_step(float* param, const float* grad, float* buf, int64_t n, const SgdHyper& hyper) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        const auto h = hyper;  // private copy: scalars in registers, no reloads after stores
        float* TN_RESTRICT p = param;
        const float* TN_RESTRICT gr = grad;
        float* TN_RESTRICT mb = buf;
        if (!mb) {
            for (int64_t i = b; i < e; ++i)
                p[i] = p[i] - h.lr * effective_grad(gr[i], p[i], h.weight_decay, h.maximize);
            return;
        }
        for (int64_t i = b; i < e; ++i) {
            const float g = effective_grad(gr[i], p[i], h.weight_decay, h.maximize);
            const float m = h.first_step ? g : h.momentum * mb[i] + (1.0f - h.dampening) * g;
            mb[i] = m;
            p[i] = p[i] - h.lr * (h.nesterov ? g + h.momentum * m : m);
        }
    });
}

// The scalars a loop uses are copied into locals inside each chunk's lambda: captured by
// reference, GCC reloaded them after every store to the arrays and kept the loop scalar.
struct AdamScalars {
    float beta1, beta2, eps, step_size, bc2_sqrt, decay, wd;
    bool decay_param, maximize;
};

template <bool AmsGrad>
void adam_chunk(float* TN_RESTRICT p, const float* TN_RESTRICT gr, float* TN_RESTRICT m,
                float* TN_RESTRICT v, float* TN_RESTRICT vm, int64_t b, int64_t e,
                const AdamScalars s) {
    for (int64_t i = b; i < e; ++i) {
        const float pi = s.decay_param ? p[i] * s.decay : p[i];
        const float g = effective_grad(gr[i], pi, s.wd, s.maximize);
        const float mi = m[i] + (1.0f - s.beta1) * (g - m[i]);
        const float vi = s.beta2 * v[i] + (1.0f - s.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float second = vi;
        if constexpr (AmsGrad) {  // a template argument: a run-time condition kept it scalar
            second = std::fmax(vm[i], vi);
            vm[i] = second;
        }
        p[i] = pi - s.step_size * (mi / (std::sqrt(second) / s.bc2_sqrt + s.eps));
    }
}

void adam_step(float* param, const float* grad, float* m1, float* m2, float* vmax, int64_t n,
               const AdamHyper& h) {
    const double bc1 = 1.0 - std::pow(double(h.beta1), double(h.step));
    const double bc2 = 1.0 - std::pow(double(h.beta2), double(h.step));
    const AdamScalars s{h.beta1,
                        h.beta2,
                        h.eps,
                        float(double(h.lr) / bc1),
                        float(std::sqrt(bc2)),
                        float(1.0 - double(h.lr) * double(h.weight_decay)),
                        h.decoupled ? 0.0f : h.weight_decay,
                        h.decoupled && h.weight_decay != 0.0f,
                        h.maximize};
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        if (vmax)
            adam_chunk<true>(param, grad, m1, m2, vmax, b, e, s);
        else
            adam_chunk<false>(param, grad, m1, m2, vmax, b, e, s);
    });
}

void adagrad_step(float* param, const float* grad, float* sum, int64_t n,
                  const AdagradHyper& hyper) {
    const float clr = float(double(hyper.lr) / (1.0 + double(hyper.step - 1) * double(hyper.lr_decay)));
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        const auto h = hyper;  // private copy: scalars in registers, no reloads after stores
        float* TN_RESTRICT p = param;
        const float* TN_RESTRICT gr = grad;
        float* TN_RESTRICT s = sum;
        for (int64_t i = b; i < e; ++i) {
            const float g = effective_grad(gr[i], p[i], h.weight_decay, h.maximize);
            const float si = s[i] + g * g;
            s[i] = si;
            p[i] = p[i] - clr * (g / (std::sqrt(si) + h.eps));
        }
    });
}

void rmsprop_step(float* param, const float* grad, float* square_avg, float* grad_avg, float* buf,
                  int64_t n, const RmspropHyper& hyper) {
    // Centered and momentum are template arguments, for the same reason as amsgrad above.
    auto run = [&](auto centered, auto with_momentum) {
        parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
            const auto h = hyper;  // private copy: scalars in registers, no reloads after stores
            float* TN_RESTRICT p = param;
            const float* TN_RESTRICT gr = grad;
            float* TN_RESTRICT sq = square_avg;
            float* TN_RESTRICT ga = grad_avg;
            float* TN_RESTRICT mb = buf;
            for (int64_t i = b; i < e; ++i) {
                const float g = effective_grad(gr[i], p[i], h.weight_decay, h.maximize);
                const float s = h.alpha * sq[i] + (1.0f - h.alpha) * g * g;
                sq[i] = s;
                float var = s;
                if constexpr (decltype(centered)::value) {
                    const float a = ga[i] + (1.0f - h.alpha) * (g - ga[i]);
                    ga[i] = a;
                    var = s - a * a;
                }
                const float avg = std::sqrt(var) + h.eps;
                if constexpr (decltype(with_momentum)::value) {
                    const float m = h.momentum * mb[i] + g / avg;
                    mb[i] = m;
                    p[i] = p[i] - h.lr * m;
                } else {
                    p[i] = p[i] - h.lr * (g / avg);
                }
            }
        });
    };
    if (grad_avg && buf)
        run(std::true_type{}, std::true_type{});
    else if (grad_avg)
        run(std::true_type{}, std::false_type{});
    else if (buf)
        run(std::false_type{}, std::true_type{});
    else
        run(std::false_type{}, std::false_type{});
}

void adadelta_step(float* param, const float* grad, float* square_avg, float* acc_delta, int64_t n,
                   const AdadeltaHyper& hyper) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        const auto h = hyper;  // private copy: scalars in registers, no reloads after stores
        float* TN_RESTRICT p = param;
        const float* TN_RESTRICT gr = grad;
        float* TN_RESTRICT sq = square_avg;
        float* TN_RESTRICT acc = acc_delta;
        for (int64_t i = b; i < e; ++i) {
            const float g = effective_grad(gr[i], p[i], h.weight_decay, h.maximize);
            const float s = h.rho * sq[i] + (1.0f - h.rho) * g * g;
            sq[i] = s;
            const float delta = std::sqrt(acc[i] + h.eps) / std::sqrt(s + h.eps) * g;
            acc[i] = h.rho * acc[i] + (1.0f - h.rho) * delta * delta;
            p[i] = p[i] - h.lr * delta;
        }
    });
}


const OptimTable& optim_table() {
    static const OptimTable t{sgd_step, adam_step, adagrad_step, rmsprop_step, adadelta_step};
    return t;
}

}  // namespace tn::TN_ISA_NS
