// Fused optimizer updates: one pass over a parameter and its state per step, PyTorch's update
// rules exactly (torch.optim's single-tensor code paths, float32). All arrays hold n floats and
// are updated in place; optional state pointers are nullptr when the option is off.
#pragma once
#include "core/common.h"

namespace tn {

struct SgdHyper {
    float lr, momentum, dampening, weight_decay;
    bool nesterov, maximize;
    bool first_step;  // the momentum buffer starts as a copy of the first gradient
};
// buf: momentum buffer (nullptr when momentum == 0)
void sgd_step(float* param, const float* grad, float* buf, int64_t n, const SgdHyper& h);

struct AdamHyper {
    float lr, beta1, beta2, eps, weight_decay;
    int64_t step;  // 1 on the first update
    bool amsgrad, maximize;
    bool decoupled;  // AdamW: decay the parameter, not the gradient
};
// m, v: first and second moments; vmax: running max of v (nullptr unless amsgrad)
void adam_step(float* param, const float* grad, float* m, float* v, float* vmax, int64_t n,
               const AdamHyper& h);

struct AdagradHyper {
    float lr, lr_decay, weight_decay, eps;
    int64_t step;
    bool maximize;
};
void adagrad_step(float* param, const float* grad, float* sum, int64_t n, const AdagradHyper& h);

struct RmspropHyper {
    float lr, alpha, eps, weight_decay, momentum;
    bool centered, maximize;
};
// grad_avg: nullptr unless centered; buf: nullptr unless momentum > 0
void rmsprop_step(float* param, const float* grad, float* square_avg, float* grad_avg, float* buf,
                  int64_t n, const RmspropHyper& h);

struct AdadeltaHyper {
    float lr, rho, eps, weight_decay;
    bool maximize;
};
void adadelta_step(float* param, const float* grad, float* square_avg, float* acc_delta, int64_t n,
                   const AdadeltaHyper& h);

// The five updates of one CPU variant (optim_impl.h builds one table per variant).
struct OptimTable {
    void (*sgd)(float*, const float*, float*, int64_t, const SgdHyper&);
    void (*adam)(float*, const float*, float*, float*, float*, int64_t, const AdamHyper&);
    void (*adagrad)(float*, const float*, float*, int64_t, const AdagradHyper&);
    void (*rmsprop)(float*, const float*, float*, float*, float*, int64_t, const RmspropHyper&);
    void (*adadelta)(float*, const float*, float*, float*, int64_t, const AdadeltaHyper&);
};

namespace ref {  // plain-loop references, the oracle of the tests (ref/optim_ref.cpp)
void sgd_step(float* param, const float* grad, float* buf, int64_t n, const SgdHyper& h);
void adam_step(float* param, const float* grad, float* m, float* v, float* vmax, int64_t n,
               const AdamHyper& h);
void adagrad_step(float* param, const float* grad, float* sum, int64_t n, const AdagradHyper& h);
void rmsprop_step(float* param, const float* grad, float* square_avg, float* grad_avg, float* buf,
                  int64_t n, const RmspropHyper& h);
void adadelta_step(float* param, const float* grad, float* square_avg, float* acc_delta, int64_t n,
                   const AdadeltaHyper& h);
}  // namespace ref

}  // namespace tn
