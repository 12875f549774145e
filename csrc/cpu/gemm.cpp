// Packed SGEMM driver: the five BLIS loops around a register-tile micro-kernel, packing that
// absorbs transposes and any strides, and the split of C across threads. The micro-kernels and
// their blocking constants live in gemm_ukernel_*.cpp / gemm_config.h; no ISA code here.
#include "cpu/gemm.h"
#include "core/parallel.h"
#include "ref/ref.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

namespace tn {
namespace {

// Pack rows [0, mc) x cols [0, kc) of A into MR-row micro-panels: panel p holds element (i, k) at
// Ap[p * MR * kc + k * MR + i]; rows past mc are zero so the micro-kernel always runs a full tile.
void pack_a(int64_t mc, int64_t kc, ConstMat A, int64_t MR, float* TN_RESTRICT Ap) {
    for (int64_t i0 = 0; i0 < mc; i0 += MR) {
        const int64_t rows = std::min(MR, mc - i0);
        float* TN_RESTRICT dst = Ap + i0 * kc;
        if (A.rs == 1) {  // op(A) columns contiguous (trans_a of a row-major array)
            for (int64_t k = 0; k < kc; ++k) {
                const float* src = A.data + (i0) + k * A.cs;
                for (int64_t i = 0; i < rows; ++i) dst[k * MR + i] = src[i];
            }
        } else {
            for (int64_t i = 0; i < rows; ++i) {
                const float* src = A.data + (i0 + i) * A.rs;
                if (A.cs == 1)
                    for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
                else
                    for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = src[k * A.cs];
            }
        }
        if (rows < MR)
            for (int64_t k = 0; k < kc; ++k)
                for (int64_t i = rows; i < MR; ++i) dst[k * MR + i] = 0.0f;
    }
}

// Pack rows [0, kc) x cols [0, nc) of B into NR-column micro-panels: panel q holds element (k, j)
// at Bp[q * NR * kc + k * NR + j]; columns past nc are zero.
void pack_b(int64_t kc, int64_t nc, ConstMat B, int64_t NR, float* TN_RESTRICT Bp) {
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        const int64_t cols = std::min(NR, nc - j0);
        float* TN_RESTRICT dst = Bp + j0 * kc;
        if (B.cs == 1) {  // rows contiguous: the common, non-transposed case
            for (int64_t k = 0; k < kc; ++k) {
                std::memcpy(dst + k * NR, B.data + k * B.rs + j0, cols * sizeof(float));
                for (int64_t j = cols; j < NR; ++j) dst[k * NR + j] = 0.0f;
            }
        } else {
            for (int64_t k = 0; k < kc; ++k)
                for (int64_t j = cols; j < NR; ++j) dst[k * NR + j] = 0.0f;
            for (int64_t j = 0; j < cols; ++j) {
                const float* src = B.data + (j0 + j) * B.cs;
                if (B.rs == 1)
                    for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
                else
                    for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = src[k * B.rs];
            }
        }
    }
}

ConstMat offset(ConstMat X, int64_t i, int64_t j) { return ConstMat{&X.at(i, j), X.rs, X.cs}; }

// One thread's share: rows [m0, m1) x cols [n0, n1) of C, all of K. Returns false when its
// packing buffers cannot be allocated (we are inside an OpenMP region: no throwing).
bool gemm_block(const GemmKernel& g, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t K,
                float alpha, ConstMat A, ConstMat B, float beta, float* C, int64_t ldc) {
    const int64_t MR = g.MR, NR = g.NR;
    const int64_t mc_max = std::min(g.MC, round_up(m1 - m0, MR));
    const int64_t nc_max = std::min(g.NC, round_up(n1 - n0, NR));
    const int64_t kc_max = std::min(g.KC, K);
    float* Ap = thread_scratch(0, static_cast<std::size_t>(mc_max * kc_max));
    float* Bp = thread_scratch(1, static_cast<std::size_t>(nc_max * kc_max));
    if (!Ap || !Bp) return false;

    // loop 5: ic over M in steps of MC (A panel, L3)
    for (int64_t ic = m0; ic < m1; ic += g.MC) {
        const int64_t mc = std::min(g.MC, m1 - ic);
        // loop 4: pc over K in steps of KC (after the first block C already holds beta * C)
        for (int64_t pc = 0; pc < K; pc += g.KC) {
            const int64_t kc = std::min(g.KC, K - pc);
            const float beta_pc = pc == 0 ? beta : 1.0f;
            pack_a(mc, kc, offset(A, ic, pc), MR, Ap);
            // loop 3: jc over N in steps of NC (B block, L2)
            for (int64_t jc = n0; jc < n1; jc += g.NC) {
                const int64_t nc = std::min(g.NC, n1 - jc);
                pack_b(kc, nc, offset(B, pc, jc), NR, Bp);
                // loop 2: ir over the A panel in steps of MR (A micro-panel stays in L1)
                for (int64_t ir = 0; ir < mc; ir += MR) {
                    const int64_t mr = std::min(MR, mc - ir);
                    // loop 1: jr over the B block in steps of NR (B micro-panels stream from L2)
                    for (int64_t jr = 0; jr < nc; jr += NR) {
                        const int64_t nr = std::min(NR, nc - jr);
                        g.ukernel(kc, Ap + ir * kc, Bp + jr * kc, C + (ic + ir) * ldc + jc + jr,
                                  ldc, mr, nr, alpha, beta_pc);
                    }
                }
            }
        }
    }
    return true;
}

// C = beta * C for K == 0 (C not read when beta == 0).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
    for (int64_t i = 0; i < M; ++i) {
        float* c = C + i * ldc;
        if (beta == 0.0f)
            std::fill(c, c + N, 0.0f);
        else
            for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
}

// Thread grid tm x tn over C. Each thread packs its own A rows and B columns, so the best grid
// minimises per-thread compute (tile padding included) plus per-thread packing, which costs
// about 4 multiply-adds per packed element. Skinny M (e.g. 8 rows) therefore splits along N.
struct Grid {
    int tm = 1, tn = 1;
};

Grid choose_grid(int nt, int64_t M, int64_t N, const GemmKernel& g) {
    const int64_t m_tiles = ceil_div(M, g.MR), n_tiles = ceil_div(N, g.NR);
    for (; nt > 1; --nt) {
        Grid best;
        double best_score = -1.0;
        for (int tm = 1; tm <= nt; ++tm) {
            if (nt % tm) continue;
            const int tn = nt / tm;
            if (tm > m_tiles || tn > n_tiles) continue;
            const double rows = double(ceil_div(m_tiles, tm) * g.MR);
            const double cols = double(ceil_div(n_tiles, tn) * g.NR);
            const double score = rows * cols + 4.0 * (rows + cols);
            if (best_score < 0 || score < best_score) {
                best_score = score;
                best = Grid{tm, tn};
            }
        }
        if (best_score >= 0) return best;
    }
    return Grid{};
}

// Below this many multiply-adds per thread the fork/join costs more than it saves (~3 us).
constexpr double kGemmGrain = 1 << 18;

}  // namespace

const GemmKernel* gemm_kernel_for(Isa isa) {
    const GemmKernel* k = nullptr;  // the reference, registered first
    if (isa_supported(Isa::generic)) k = &gemm_kernel_generic();
#ifdef TURBONN_HAVE_X86_KERNELS
    if (isa == Isa::avx2 || isa == Isa::avx512) k = &gemm_kernel_avx2();
    if (isa == Isa::avx512) k = &gemm_kernel_avx512();
#endif
    return k;
}

void sgemm_with(const GemmKernel* g, int64_t M, int64_t N, int64_t K, float alpha, ConstMat A,
                ConstMat B, float beta, float* C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) return scale_c(M, N, beta, C, ldc);
    if (!g) return ref::gemm(M, N, K, alpha, A, B, beta, C, ldc);

    const int nt = threads_for_work(double(M) * double(N) * double(K), kGemmGrain);
    const Grid grid = choose_grid(nt, M, N, *g);
    const int used = grid.tm * grid.tn;
    const int64_t m_tiles = ceil_div(M, g->MR), n_tiles = ceil_div(N, g->NR);
    std::atomic<bool> out_of_memory{false};

    auto run = [&](int t) {
        const int a = t / grid.tn, b = t % grid.tn;
        const int64_t m0 = std::min(M, m_tiles * a / grid.tm * g->MR);
        const int64_t m1 = std::min(M, m_tiles * (a + 1) / grid.tm * g->MR);
        const int64_t n0 = std::min(N, n_tiles * b / grid.tn * g->NR);
        const int64_t n1 = std::min(N, n_tiles * (b + 1) / grid.tn * g->NR);
        if (m0 < m1 && n0 < n1 && !gemm_block(*g, m0, m1, n0, n1, K, alpha, A, B, beta, C, ldc))
            out_of_memory.store(true);
    };
    if (used == 1) {
        run(0);
    } else {
#ifdef TURBONN_OPENMP
#pragma omp parallel num_threads(used)
        {
            // The runtime may grant fewer threads than asked (nesting, thread limits): every
            // share still runs.
            const int got = omp_get_num_threads();
            for (int t = omp_get_thread_num(); t < used; t += got) run(t);
        }
#else
        for (int t = 0; t < used; ++t) run(t);
#endif
    }
    if (out_of_memory.load()) throw std::bad_alloc();
}

void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMat A, ConstMat B, float beta,
           float* C, int64_t ldc) {
    sgemm_with(gemm_kernel_for(active_isa()), M, N, K, alpha, A, B, beta, C, ldc);
}

}  // namespace tn
