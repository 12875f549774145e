// GEMM blocking constants, one place for every variant, and the micro-kernel interface.
//
// Row-major C = A @ B. The register tile is MR rows x NR columns of C; vectors run along N and
// elements of A are broadcast. Cache roles (mirroring BLIS's column-major Zen/SKX kernels):
//   A micro-panel (KC x MR) stays in L1 while loop 1 sweeps the B micro-panels;
//   B block (KC x NC) stays in L2 (one per core: threads split N, each packs its own);
//   A panel (MC x KC) stays in L3.
#pragma once
#include "core/common.h"

namespace tn {

// C[0:mr, 0:nr] = alpha * (Ap @ Bp) + beta * C, C row-major with leading dimension ldc.
// Ap: packed A micro-panel, element (i, k) at Ap[k * MR + i], rows mr..MR zero.
// Bp: B micro-panel, element (k, j) at Bp[k * ldb + j]: packed (ldb == NR, columns nr..NR zero)
//     or, for kernels with direct_b, B itself read in place (only columns < nr are touched).
// 1 <= mr <= MR, 1 <= nr <= NR, kc >= 1. C is never read when beta == 0.
using GemmUkernelFn = void (*)(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C,
                               int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta);

// Pack A rows [0, rows <= MR) x cols [0, kc) into one micro-panel / B rows [0, kc) x cols
// [0, nc) into NR-column micro-panels (layouts above; gemm_pack.h). Any strides: transposes are
// free.
using GemmPackAFn = void (*)(int64_t rows, int64_t kc, ConstMat A, float* Ap);
using GemmPackBFn = void (*)(int64_t kc, int64_t nc, ConstMat B, float* Bp);

struct GemmKernel {
    const char* name;
    GemmUkernelFn ukernel;
    GemmPackAFn pack_a;
    GemmPackBFn pack_b;
    int64_t MR, NR;      // register tile
    int64_t MC, KC, NC;  // cache blocks: MC multiple of MR, NC multiple of NR
    bool direct_b;       // may read row-contiguous B in place (skinny M: packing B would not pay)
    // Optional: the same kernel with A read in place, its leading dimension in_place_a_ld
    // compiled in (so a broadcast is a fixed displacement from one pointer), only rows < mr
    // touched: row-major, element (i, k) at Ap[i * ld + k], or transposed (A^T row-major),
    // element (i, k) at Ap[k * ld + i]. Tile products whose A is a freshly written tile
    // (attention's probabilities and their gradient, or its transpose) skip the pack.
    GemmUkernelFn ukernel_rows_a = nullptr;
    GemmUkernelFn ukernel_cols_a = nullptr;
    int64_t in_place_a_ld = 0;
};

namespace gemm_config {

// AVX-512: 14 x 32 tile = 28 zmm accumulators + 2 B vectors + 1 broadcast (31 of 32 registers,
// no spills): 28 FMAs per 16 loads. bench/dev/01 measured it ~2% ahead of 12 x 32 (the BLIS
// Zen 4 shape, transposed). KC * MR * 4 B = 21 KiB of A in L1; KC * NC * 4 B = 720 KiB of B in L2.
namespace avx512 {
constexpr int64_t MR = 14, NR = 32, MC = 3080, KC = 384, NC = 480;
}
// AVX2 + FMA: 6 x 16 tile = 12 ymm accumulators + 2 B vectors + broadcasts.
namespace avx2 {
constexpr int64_t MR = 6, NR = 16, MC = 3072, KC = 384, NC = 480;
}
// Portable C++: 6 x 8 tile, left to the compiler's baseline (SSE2) vectoriser: 12 of the 16 xmm
// registers hold the accumulators (4 x 16 needed all 16 and spilled: 8 GFLOP/s).
namespace generic {
constexpr int64_t MR = 6, NR = 8, MC = 1020, KC = 256, NC = 512;
}

}  // namespace gemm_config

const GemmKernel& gemm_kernel_generic();
#ifdef TURBONN_HAVE_X86_KERNELS
const GemmKernel& gemm_kernel_avx2();
const GemmKernel& gemm_kernel_avx512();
GemmPackAFn gemm_pack_a_avx512();  // transposing packs (isa/gemm_pack_avx512.cpp)
GemmPackBFn gemm_pack_b_avx512();
#endif

}  // namespace tn
