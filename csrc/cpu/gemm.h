// The packed SGEMM every dense, convolution, recurrent and attention kernel builds on.
#pragma once
#include "core/common.h"
#include "core/dispatch.h"
#include "cpu/gemm_config.h"

namespace tn {

// C = alpha * A @ B + beta * C.
// A is (M, K), B is (K, N): strided views, so op(A)/op(B) transposes are a swap of strides.
// C is (M, N) row-major with leading dimension ldc >= N. C is not read when beta == 0.
// K == 0 gives C = beta * C. Uses the variant chosen by active_isa(); throws std::bad_alloc (after
// any parallel region) when packing buffers cannot be allocated.
void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMat A, ConstMat B, float beta,
           float* C, int64_t ldc);

// The same with an explicit variant; nullptr means the plain-loop reference.
void sgemm_with(const GemmKernel* kernel, int64_t M, int64_t N, int64_t K, float alpha, ConstMat A,
                ConstMat B, float beta, float* C, int64_t ldc);

// Kernel of a variant (the reference is registered first: an ISA without a packed kernel gets
// nullptr, which sgemm_with runs as the reference).
const GemmKernel* gemm_kernel_for(Isa isa);

}  // namespace tn
