// The packed SGEMM every dense, convolution, recurrent and attention kernel builds on.
#pragma once
#include "core/common.h"
#include "core/dispatch.h"
#include "cpu/gemm_config.h"

#include <memory>

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

// Kernel of a variant (the reference is registered first: an ISA without a packed kernel gets
// nullptr, which sgemm_with runs as the reference).
const GemmKernel* gemm_kernel_for(Isa isa);

// B packed once for many products against it (a recurrent weight, which every timestep
// multiplies): the active variant's micro-panels, K in the driver's equal blocks. The packer is
// called as for sgemm_packed_b, from several threads at once. Throws std::bad_alloc.
class PackedB {
public:
    PackedB(int64_t K, int64_t N, const BPacker& pack);
    int64_t K() const { return K_; }
    int64_t N() const { return N_; }
    // Column offsets given to sgemm_prepacked must be multiples of this (8, 16 or 32).
    int64_t NR() const { return g_->NR; }
    // Scratch floats sgemm_prepacked needs for M rows of A.
    int64_t a_scratch_floats(int64_t M) const;

private:
    friend void sgemm_prepacked(int64_t, int64_t, int64_t, float, ConstMat, const PackedB&, float,
                                float*, int64_t, float*);
    const GemmKernel* g_;
    int64_t K_, N_, KC_, Npad_;
    std::unique_ptr<float[]> data_;  // K block at data_ + k0 * Npad_, its panel q at + q * NR * kc
};

// C[:, n0:n1] = alpha * A @ B[:, n0:n1] + beta * C[:, n0:n1], A (M, K), on the calling thread
// only: for kernels that run their own parallel region (each thread its own columns, n0 a
// multiple of B.NR()). ap: B.a_scratch_floats(M) floats. Never throws; the bits of C do not
// depend on the column split.
void sgemm_prepacked(int64_t M, int64_t n0, int64_t n1, float alpha, ConstMat A, const PackedB& B,
                     float beta, float* C, int64_t ldc, float* ap);

// Small products on packed operands, on the calling thread, for kernels that tile their own
// work (attention: a query tile against a key tile). Layouts are the micro-kernel's: A in
// micro-panels of at most MR rows, heights balanced as the driver's (panel p at
// Ap + p * MR * K), B in NR-column ones (panel q at Bp + q * NR * K), K whole. Nothing here
// allocates or throws.
struct TileGemm {
    const GemmKernel* g = gemm_kernel_for(active_isa());
    int64_t MR() const { return g->MR; }
    int64_t NR() const { return g->NR; }
    int64_t a_floats(int64_t M, int64_t K) const { return round_up(M, g->MR) * K; }
    int64_t b_floats(int64_t K, int64_t N) const { return round_up(N, g->NR) * K; }
    void pack_a(int64_t M, int64_t K, ConstMat A, float* Ap) const;
    void pack_b(int64_t K, int64_t N, ConstMat B, float* Bp) const;
    // Which part of a product a causal (triangular) pattern needs, for row i of C:
    //   cols:    C[i, j] only for j <= i + off (micro-tiles wholly past that are not computed:
    //            zeros when beta == 0, else left as they were);
    //   k_upper: the sum over k <= i + off only;  k_lower: over k >= i + off only.
    // Rows are rounded out to whole micro-panels, so a few masked terms are still computed;
    // callers mask those (they multiply zeros, or land in scores set to -inf).
    struct Band {
        enum Kind { none, cols, k_upper, k_lower } kind;  // Band{} is none
        int64_t off;
    };
    // A B operand: packed panels (ld 0), or a row-major matrix read in place (row stride ld;
    // only when reads_b_in_place(): the variant's kernel can).
    struct B {
        const float* p;
        int64_t ld;
    };
    bool reads_b_in_place() const { return g->direct_b; }
    // An A operand likewise: packed micro-panels (ld 0), or read in place (only when
    // reads_a_in_place(ld): the variant has kernels compiled for that ld), row-major or, with
    // transposed, A^T row-major (element (i, k) at p[k * ld + i]).
    struct A {
        const float* p;
        int64_t ld;
        bool transposed = false;
    };
    bool reads_a_in_place(int64_t ld) const { return g->ukernel_rows_a && ld == g->in_place_a_ld; }
    // C (M, N), leading dimension ldc, = alpha * A @ B + beta * C (C not read when beta == 0).
    void multiply(int64_t M, int64_t N, int64_t K, float alpha, A a, B b, float beta, float* C,
                  int64_t ldc, Band band = {}) const;
    void multiply(int64_t M, int64_t N, int64_t K, float alpha, const float* Ap, B b, float beta,
                  float* C, int64_t ldc, Band band = {}) const {
        multiply(M, N, K, alpha, A{Ap, 0}, b, beta, C, ldc, band);
    }
    void multiply(int64_t M, int64_t N, int64_t K, float alpha, const float* Ap, const float* Bp,
                  float beta, float* C, int64_t ldc, Band band = {}) const {
        multiply(M, N, K, alpha, A{Ap, 0}, B{Bp, 0}, beta, C, ldc, band);
    }
};

// The same with an explicit variant; nullptr means the plain-loop reference.
void sgemm_with(const GemmKernel* kernel, int64_t M, int64_t N, int64_t K, float alpha, ConstMat A,
                ConstMat B, float beta, float* C, int64_t ldc);


}  // namespace tn
