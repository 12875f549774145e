// Fast layer normalisation (see layer_norm.h for the convention): the entry points allocate the
// backward's chunk-sum scratch, then run the table of active_isa()'s variant (layer_norm_impl.h,
// compiled here as tn::generic and in isa/ for AVX2 and AVX-512).
#include "cpu/layer_norm.h"
#include "core/dispatch.h"

#define TN_ISA_NS generic
#include "cpu/layer_norm_impl.h"
#undef TN_ISA_NS

#include <memory>

namespace tn {

TN_ISA_TABLE(LayerNormTable, layer_norm_table)

void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                        const float* bias, int64_t M, int64_t N, double eps) {
    table().forward(out, mean, rstd, x, weight, bias, M, N, eps);
}

void layer_norm_backward(float* dx, float* dweight, float* dbias, const float* dout,
                         const float* x, const float* mean, const float* rstd,
                         const float* weight, int64_t M, int64_t N) {
    // Scratch is allocated here, before any team starts: a failed allocation throws
    // std::bad_alloc to the caller, never inside an OpenMP region.
    std::unique_ptr<float[]> part;
    std::unique_ptr<double[]> wsum;
    if ((dweight || dbias) && M > 0 && N > 0) {
        part.reset(new float[layer_norm_partial_floats(M, N)]);
        wsum.reset(new double[2 * N]);
    }
    table().backward(dx, dweight, dbias, dout, x, mean, rstd, weight, M, N, part.get(),
                     wsum.get());
}

}  // namespace tn
