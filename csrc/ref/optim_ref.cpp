// Reference optimizer updates: one element at a time, written as torch.optim's single-tensor
// code reads (same operation order, float32). The oracle for cpu/optim.cpp.
#include "cpu/optim.h"

#include <cmath>

namespace tn::ref {

void sgd_step(float* p, const float* grad, float* buf, int64_t n, const SgdHyper& h) {
    for (int64_t i = 0; i < n; ++i) {
        float g = h.maximize ? -grad[i] : grad[i];
        if (h.weight_decay != 0.0f) g = g + h.weight_decay * p[i];
        if (buf) {
            buf[i] = h.first_step ? g : h.momentum * buf[i] + (1.0f - h.dampening) * g;
            g = h.nesterov ? g + h.momentum * buf[i] : buf[i];
        }
        p[i] = p[i] - h.lr * g;
    }
}

void adam_step(float* p, const float* grad, float* m, float* v, float* vmax, int64_t n,
               const AdamHyper& h) {
    // Scalars in double, as torch computes them in Python before the float32 tensor ops.
    const double bc1 = 1.0 - std::pow(double(h.beta1), double(h.step));
    const double bc2 = 1.0 - std::pow(double(h.beta2), double(h.step));
    const float step_size = float(double(h.lr) / bc1);
    const float bc2_sqrt = float(std::sqrt(bc2));
    const float decay = float(1.0 - double(h.lr) * double(h.weight_decay));
    for (int64_t i = 0; i < n; ++i) {
        float g = h.maximize ? -grad[i] : grad[i];
        if (h.weight_decay != 0.0f) {
            if (h.decoupled)
                p[i] = p[i] * decay;
            else
                g = g + h.weight_decay * p[i];
        }
        m[i] = m[i] + (1.0f - h.beta1) * (g - m[i]);  // torch: exp_avg.lerp_(grad, 1 - beta1)
        v[i] = h.beta2 * v[i] + (1.0f - h.beta2) * g * g;
        float second = v[i];
        if (vmax) {
            vmax[i] = std::fmax(vmax[i], v[i]);
            second = vmax[i];
        }
        const float denom = std::sqrt(second) / bc2_sqrt + h.eps;
        p[i] = p[i] - step_size * (m[i] / denom);
    }
}

void adagrad_step(float* p, const float* grad, float* sum, int64_t n, const AdagradHyper& h) {
    const float clr = float(double(h.lr) / (1.0 + double(h.step - 1) * double(h.lr_decay)));
    for (int64_t i = 0; i < n; ++i) {
        float g = h.maximize ? -grad[i] : grad[i];
        if (h.weight_decay != 0.0f) g = g + h.weight_decay * p[i];
        sum[i] = sum[i] + g * g;
        p[i] = p[i] - clr * (g / (std::sqrt(sum[i]) + h.eps));
    }
}

void rmsprop_step(float* p, const float* grad, float* sq, float* gavg, float* buf, int64_t n,
                  const RmspropHyper& h) {
    for (int64_t i = 0; i < n; ++i) {
        float g = h.maximize ? -grad[i] : grad[i];
        if (h.weight_decay != 0.0f) g = g + h.weight_decay * p[i];
        sq[i] = h.alpha * sq[i] + (1.0f - h.alpha) * g * g;
        float avg;
        if (gavg) {
            gavg[i] = gavg[i] + (1.0f - h.alpha) * (g - gavg[i]);  // torch: lerp_
            avg = std::sqrt(sq[i] - gavg[i] * gavg[i]) + h.eps;
        } else {
            avg = std::sqrt(sq[i]) + h.eps;
        }
        if (buf) {
            buf[i] = h.momentum * buf[i] + g / avg;
            p[i] = p[i] - h.lr * buf[i];
        } else {
            p[i] = p[i] - h.lr * (g / avg);
        }
    }
}

void adadelta_step(float* p, const float* grad, float* sq, float* acc, int64_t n,
                   const AdadeltaHyper& h) {
    for (int64_t i = 0; i < n; ++i) {
        float g = h.maximize ? -grad[i] : grad[i];
        if (h.weight_decay != 0.0f) g = g + h.weight_decay * p[i];
        sq[i] = h.rho * sq[i] + (1.0f - h.rho) * g * g;
        const float delta = std::sqrt(acc[i] + h.eps) / std::sqrt(sq[i] + h.eps) * g;
        acc[i] = h.rho * acc[i] + (1.0f - h.rho) * delta * delta;
        p[i] = p[i] - h.lr * delta;
    }
}

}  // namespace tn::ref
