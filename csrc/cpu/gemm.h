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

// B built on the fly instead of read from memory (implicit GEMM: a convolution packs image
// patches straight into the panels, and no unfolded matrix ever exists). pack(ctx, k0, kc, j0,
// nc, NR, Bp) writes B rows [k0, k0 + kc) x columns [j0, j0 + nc) as NR-column micro-panels:
// element (k, j) of panel q at Bp[q * NR * kc + k * NR + j], columns of the last panel past nc
// zero. Called from the SGEMM's threads at once (each for its own columns): it must not throw.
struct BPacker {
    void (*pack)(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t NR,
                 float* Bp);
    const void* ctx;
};

// C = alpha * A @ B + beta * C with B given by a packer; otherwise as sgemm (same blocking, so
// the same bits for any thread count).
void sgemm_packed_b(int64_t M, int64_t N, int64_t K, float alpha, ConstMat A, const BPacker& B,
                    float beta, float* C, int64_t ldc);

// The same with an explicit variant; nullptr means the plain-loop reference.
void sgemm_with(const GemmKernel* kernel, int64_t M, int64_t N, int64_t K, float alpha, ConstMat A,
                ConstMat B, float beta, float* C, int64_t ldc);

// Kernel of a variant (the reference is registered first: an ISA without a packed kernel gets
// nullptr, which sgemm_with runs as the reference).
const GemmKernel* gemm_kernel_for(Isa isa);

}  // namespace tn
