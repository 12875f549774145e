// Fused optimizer updates (see optim.h): each step reads and writes a parameter and its state
// once, threads over contiguous chunks, option branches hoisted out of the loops so they
// vectorise (built with -fno-trapping-math -fno-math-errno: GCC may then if-convert selects and
// use the sqrt instruction; results are unchanged). Same arithmetic, element by element, as the
// references in ref/optim_ref.cpp.
#include "cpu/optim.h"
#include "core/parallel.h"

#include <cmath>
#include <type_traits>

namespace tn {
namespace {

// Updates are memory-bound (12-24 bytes per element): a team pays off from ~64K elements.
constexpr int64_t kGrain = 1 << 16;

// g = (maximize ? -grad : grad) + weight_decay * p, the common prologue of every rule.
inline float effective_grad(float grad, float p, float wd, bool maximize) {
    const float g = maximize ? -grad : grad;
    return wd != 0.0f ? g + wd * p : g;
}

}  // namespace

void sgd_step(float* param, const float* grad, float* buf, int64_t n, const SgdHyper& h) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
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

void adam_step(float* param, const float* grad, float* m1, float* m2, float* vmax, int64_t n,
               const AdamHyper& h) {
    const double bc1 = 1.0 - std::pow(double(h.beta1), double(h.step));
    const double bc2 = 1.0 - std::pow(double(h.beta2), double(h.step));
    const float step_size = float(double(h.lr) / bc1), bc2_sqrt = float(std::sqrt(bc2));
    const float decay = float(1.0 - double(h.lr) * double(h.weight_decay));
    const float wd = h.decoupled ? 0.0f : h.weight_decay;
    const bool decay_param = h.decoupled && h.weight_decay != 0.0f;
    // The amsgrad branch is a template argument: stores under a run-time condition keep GCC
    // from vectorising the loop.
    auto run = [&](auto amsgrad) {
        parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
            float* TN_RESTRICT p = param;
            const float* TN_RESTRICT gr = grad;
            float* TN_RESTRICT m = m1;
            float* TN_RESTRICT v = m2;
            float* TN_RESTRICT vm = vmax;
            for (int64_t i = b; i < e; ++i) {
                const float pi = decay_param ? p[i] * decay : p[i];
                const float g = effective_grad(gr[i], pi, wd, h.maximize);
                const float mi = m[i] + (1.0f - h.beta1) * (g - m[i]);
                const float vi = h.beta2 * v[i] + (1.0f - h.beta2) * g * g;
                m[i] = mi;
                v[i] = vi;
                float second = vi;
                if constexpr (decltype(amsgrad)::value) {
                    second = std::fmax(vm[i], vi);
                    vm[i] = second;
                }
                p[i] = pi - step_size * (mi / (std::sqrt(second) / bc2_sqrt + h.eps));
            }
        });
    };
    if (vmax)
        run(std::true_type{});
    else
        run(std::false_type{});
}

void adagrad_step(float* param, const float* grad, float* sum, int64_t n, const AdagradHyper& h) {
    const float clr = float(double(h.lr) / (1.0 + double(h.step - 1) * double(h.lr_decay)));
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
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
                  int64_t n, const RmspropHyper& h) {
    // Centered and momentum are template arguments, for the same reason as amsgrad above.
    auto run = [&](auto centered, auto with_momentum) {
        parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
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
                   const AdadeltaHyper& h) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
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

}  // namespace tn
