// GEMM packing routines, templated on the register tile so each micro-kernel file instantiates
// them with its own ISA flags (constant MR/NR let the compiler unroll and vectorise the copies).
// Everything here has internal linkage on purpose: an inline function compiled with -mavx512f in
// one file and without in another must never be merged by the linker.
#pragma once
#include "core/common.h"

#include <algorithm>

namespace tn {
namespace {  // NOLINT: internal linkage per including file, see above

// Pack rows [0, rows) x cols [0, kc) of A, rows <= MR, into one micro-panel: element (i, k) at
// Ap[k * MR + i]; rows past `rows` are zero so the micro-kernel may read a full MR-wide column.
template <int MR>
void pack_a_tmpl(int64_t rows, int64_t kc, ConstMat A, float* TN_RESTRICT Ap) {
    if (A.rs == 1) {  // op(A) columns contiguous: trans_a of a row-major array
        for (int64_t k = 0; k < kc; ++k) {
            for (int64_t i = 0; i < rows; ++i) Ap[k * MR + i] = A.data[k * A.cs + i];
            for (int64_t i = rows; i < MR; ++i) Ap[k * MR + i] = 0.0f;
        }
    } else if (rows == MR) {
        for (int64_t k = 0; k < kc; ++k)
            for (int i = 0; i < MR; ++i) Ap[k * MR + i] = A.data[i * A.rs + k * A.cs];
    } else {
        for (int64_t k = 0; k < kc; ++k) {
            for (int64_t i = 0; i < rows; ++i) Ap[k * MR + i] = A.data[i * A.rs + k * A.cs];
            for (int64_t i = rows; i < MR; ++i) Ap[k * MR + i] = 0.0f;
        }
    }
}

// Pack rows [0, kc) x cols [0, nc) of B into NR-column micro-panels: panel q holds element (k, j)
// at Bp[q * NR * kc + k * NR + j]; columns past nc are zero.
template <int NR>
void pack_b_tmpl(int64_t kc, int64_t nc, ConstMat B, float* TN_RESTRICT Bp) {
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        const int64_t cols = std::min<int64_t>(NR, nc - j0);
        float* TN_RESTRICT dst = Bp + j0 * kc;
        const float* src = B.data + j0 * B.cs;
        if (cols == NR && B.cs == 1) {  // rows contiguous: the common, non-transposed case
            for (int64_t k = 0; k < kc; ++k)
                for (int j = 0; j < NR; ++j) dst[k * NR + j] = src[k * B.rs + j];
        } else if (cols == NR) {
            for (int64_t k = 0; k < kc; ++k)
                for (int j = 0; j < NR; ++j) dst[k * NR + j] = src[k * B.rs + j * B.cs];
        } else {
            for (int64_t k = 0; k < kc; ++k) {
                for (int64_t j = 0; j < cols; ++j) dst[k * NR + j] = src[k * B.rs + j * B.cs];
                for (int64_t j = cols; j < NR; ++j) dst[k * NR + j] = 0.0f;
            }
        }
    }
}

}  // namespace
}  // namespace tn
