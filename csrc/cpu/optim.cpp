// Fused optimizer updates (see optim.h): the loops live in optim_impl.h, compiled here for the
// baseline and in isa/ for AVX2 and AVX-512; these entry points take the table of
// active_isa()'s variant.
#include "cpu/optim.h"
#include "core/dispatch.h"

#define TN_ISA_NS generic
#include "cpu/optim_impl.h"
#undef TN_ISA_NS

namespace tn {

TN_ISA_TABLE(OptimTable, optim_table)

void sgd_step(float* param, const float* grad, float* buf, int64_t n, const SgdHyper& h) {
    table().sgd(param, grad, buf, n, h);
}
void adam_step(float* param, const float* grad, float* m, float* v, float* vmax, int64_t n,
               const AdamHyper& h) {
    table().adam(param, grad, m, v, vmax, n, h);
}
void adagrad_step(float* param, const float* grad, float* sum, int64_t n, const AdagradHyper& h) {
    table().adagrad(param, grad, sum, n, h);
}
void rmsprop_step(float* param, const float* grad, float* square_avg, float* grad_avg, float* buf,
                  int64_t n, const RmspropHyper& h) {
    table().rmsprop(param, grad, square_avg, grad_avg, buf, n, h);
}
void adadelta_step(float* param, const float* grad, float* square_avg, float* acc_delta, int64_t n,
                   const AdadeltaHyper& h) {
    table().adadelta(param, grad, square_avg, acc_delta, n, h);
}

}  // namespace tn
