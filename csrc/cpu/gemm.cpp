// Packed SGEMM driver: the five BLIS loops around a register-tile micro-kernel, packing that
// absorbs transposes and any strides, and the split of C across threads. The micro-kernels and
// their blocking constants live in gemm_ukernel_*.cpp / gemm_config.h; no ISA code here.
#include "cpu/gemm.h"
#include "core/parallel.h"
#include "ref/ref.h"

#include <algorithm>
#include <atomic>
#include <new>

namespace tn {
namespace {

// B is read in place instead of packed when only one A micro-panel uses it, or a few do and the
// thread's B columns fit in L2 (bench/dev/02: +6% at 64x128x784, -7% at 32x1024x1024 if B
// does not fit).
constexpr int64_t kDirectPanels = 6;
constexpr double kDirectBytes = 1 << 20;
// K block when B rows of at least kStreamCols floats stream past a single micro-panel of A
// (bench/dev/02, 2 threads: 8x4096x1024 513 -> 409 us, 1x4096x4096 1858 -> 1201 us; with
// 500-float rows per thread it lost 40%, hence the threshold: two threads get >= 1024 each).
constexpr int64_t kStreamKC = 32;
constexpr int64_t kStreamCols = 2048;

// Packing B pays only when many A micro-panels reuse it; else the micro-kernel reads
// row-contiguous B in place (rows x cols is one thread's share of C).
bool reads_b_in_place(const GemmKernel& g, ConstMat B, int64_t rows, int64_t cols, int64_t K) {
    const int64_t panels = ceil_div(rows, g.MR);
    return g.direct_b && B.cs == 1 &&
           (panels == 1 ||
            (panels <= kDirectPanels && 4.0 * double(K) * double(cols) <= kDirectBytes));
}

ConstMat offset(ConstMat X, int64_t i, int64_t j) { return ConstMat{&X.at(i, j), X.rs, X.cs}; }

// The K block, chosen from the whole problem (never from a thread's share, so the summation
// order, and with it every bit of C, is the same for any thread count).
// K is split into equal blocks of at most KC: 784 = 3 x 262, not 384 + 384 + 16 (a thin last
// block pays a full pass over C for little work). One micro-panel of A against long rows of B
// read in place streams B from memory: short K blocks make that a few dozen sequential row
// streams the prefetchers follow, instead of hundreds of rows read 128 bytes at a time.
int64_t choose_kc(const GemmKernel& g, int64_t M, int64_t N, int64_t K, ConstMat B) {
    const bool streaming = g.direct_b && B.cs == 1 && M <= g.MR && N >= kStreamCols;
    const int64_t KC = streaming ? kStreamKC : g.KC;
    return ceil_div(K, ceil_div(K, KC));
}

// Rows [0, mc) of an A panel as micro-panels whose heights differ by at most one: 256 rows run
// as 9 x 14 + 10 x 13, not 18 x 14 + 4 (a 4-row tile has too few accumulators to hide the FMA
// latency).
struct Panels {
    int64_t count, base, extra;
    Panels(int64_t mc, int64_t MR) : count(ceil_div(mc, MR)), base(mc / count), extra(mc % count) {}
    int64_t row(int64_t p) const { return p * base + std::min(p, extra); }
};

void pack_a_panels(const GemmKernel& g, const Panels& P, int64_t kc, ConstMat A, float* Ap) {
    for (int64_t p = 0; p < P.count; ++p)
        g.pack_a(P.row(p + 1) - P.row(p), kc, offset(A, P.row(p), 0), Ap + p * g.MR * kc);
}

// Loops 2 and 1: every A micro-panel (it stays in L1) against every B micro-panel of the block
// (they stream from L2). B micro-panel q starts at Bblk + q * panel_step, rows ldb apart.
void macro_kernel(const GemmKernel& g, const Panels& P, int64_t kc, int64_t nc, const float* Ap,
                  const float* Bblk, int64_t ldb, int64_t panel_step, float alpha, float beta,
                  float* C, int64_t ldc) {
    const int64_t MR = g.MR, NR = g.NR;
    const GemmUkernelFn ukernel = g.ukernel;
    for (int64_t p = 0; p < P.count; ++p) {
        const int64_t ir = P.row(p), mr = P.row(p + 1) - ir;
        for (int64_t jr = 0, q = 0; jr < nc; jr += NR, ++q)
            ukernel(kc, Ap + p * MR * kc, Bblk + q * panel_step, ldb, C + ir * ldc + jr, ldc, mr,
                    std::min(NR, nc - jr), alpha, beta);
    }
}

// One thread's share: rows [m0, m1) x cols [n0, n1) of C, all of K in blocks of KC. Returns
// false when its packing buffers cannot be allocated (we are inside an OpenMP region: no
// throwing).
// B comes from packer when it is not null (B is then a placeholder).
bool gemm_block(const GemmKernel& g, int64_t KC, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                int64_t K, float alpha, ConstMat A, ConstMat B, const BPacker* packer, float beta,
                float* C, int64_t ldc) {
    const int64_t MR = g.MR, NR = g.NR;
    const bool direct_b = !packer && reads_b_in_place(g, B, m1 - m0, n1 - n0, K);
    const int64_t mc_max = std::min(g.MC, round_up(m1 - m0, MR));
    const int64_t nc_max = std::min(g.NC, round_up(n1 - n0, NR));
    float* Ap = thread_scratch(0, static_cast<std::size_t>(mc_max * KC));
    float* Bp = direct_b ? nullptr : thread_scratch(1, static_cast<std::size_t>(nc_max * KC));
    if (!Ap || (!direct_b && !Bp)) return false;

    // loop 5: ic over M in steps of MC (A panel, L3)
    for (int64_t ic = m0; ic < m1; ic += g.MC) {
        const Panels P(std::min(g.MC, m1 - ic), MR);
        // loop 4: pc over K in steps of KC (after the first block C already holds beta * C)
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = std::min(KC, K - pc);
            pack_a_panels(g, P, kc, offset(A, ic, pc), Ap);
            // loop 3: jc over N in steps of NC (B block, L2)
            for (int64_t jc = n0; jc < n1; jc += g.NC) {
                const int64_t nc = std::min(g.NC, n1 - jc);
                if (packer)
                    packer->pack(packer->ctx, pc, kc, jc, nc, NR, Bp);
                else if (!direct_b)
                    g.pack_b(kc, nc, offset(B, pc, jc), Bp);
                macro_kernel(g, P, kc, nc, Ap, direct_b ? &B.at(pc, jc) : Bp, direct_b ? B.rs : NR,
                             direct_b ? NR : NR * kc, alpha, pc == 0 ? beta : 1.0f,
                             C + ic * ldc + jc, ldc);
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

// Thread grid tm x tn over C: rows split evenly (micro-panel heights adapt), columns in whole
// NR micro-panels. Each thread packs its own A rows and B columns, so the best grid minimises
// per-thread compute (column padding included) plus per-thread packing, which costs about 4
// multiply-adds per packed element (1.5 per element of B read in place: it is still read).
// Skinny M (e.g. 8 rows) therefore splits along N; 64x128x784 along M (bench/dev/02).
struct Grid {
    int tm = 1, tn = 1;
};

Grid choose_grid(int nt, int64_t M, int64_t N, int64_t K, ConstMat B, const GemmKernel& g) {
    const int64_t n_tiles = ceil_div(N, g.NR);
    for (; nt > 1; --nt) {
        Grid best;
        double best_score = -1.0;
        // Ties go to the M split (tm counts down): at 1024^3 it ran 2-3% faster, as each thread
        // packs half of A (transposing) and all of B (a plain copy) instead of the reverse.
        for (int tm = nt; tm >= 1; --tm) {
            if (nt % tm) continue;
            const int tn = nt / tm;
            if (tm > M || tn > n_tiles) continue;
            const double rows = double(ceil_div(M, tm));
            const double cols = double(ceil_div(n_tiles, tn) * g.NR);
            const bool direct = reads_b_in_place(g, B, int64_t(rows), int64_t(cols), K);
            const double score = rows * cols + 4.0 * rows + (direct ? 1.5 : 4.0) * cols;
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

namespace {

// The driver behind sgemm_with and sgemm_packed_b (g not null; packer null for a plain B).
void sgemm_driver(const GemmKernel* g, int64_t M, int64_t N, int64_t K, float alpha, ConstMat A,
                  ConstMat B, const BPacker* packer, float beta, float* C, int64_t ldc) {

    const TeamLease lease(threads_for_work(double(M) * double(N) * double(K), kGemmGrain));
    const Grid grid = choose_grid(lease.threads(), M, N, K, B, *g);
    const int used = grid.tm * grid.tn;
    const int64_t KC = choose_kc(*g, M, N, K, B);
    const int64_t n_tiles = ceil_div(N, g->NR);
    std::atomic<bool> out_of_memory{false};

    auto run = [&](int t) {
        const int a = t / grid.tn, b = t % grid.tn;
        const int64_t m0 = M * a / grid.tm, m1 = M * (a + 1) / grid.tm;
        const int64_t n0 = std::min(N, n_tiles * b / grid.tn * g->NR);
        const int64_t n1 = std::min(N, n_tiles * (b + 1) / grid.tn * g->NR);
        if (m0 < m1 && n0 < n1 &&
            !gemm_block(*g, KC, m0, m1, n0, n1, K, alpha, A, B, packer, beta, C, ldc))
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

}  // namespace

void sgemm_with(const GemmKernel* g, int64_t M, int64_t N, int64_t K, float alpha, ConstMat A,
                ConstMat B, float beta, float* C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) return scale_c(M, N, beta, C, ldc);
    if (!g) return ref::gemm(M, N, K, alpha, A, B, beta, C, ldc);
    sgemm_driver(g, M, N, K, alpha, A, B, nullptr, beta, C, ldc);
}

void sgemm_packed_b(int64_t M, int64_t N, int64_t K, float alpha, ConstMat A, const BPacker& B,
                    float beta, float* C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) return scale_c(M, N, beta, C, ldc);
    // Every variant has a packed kernel (generic is always supported); only sgemm_with's
    // explicit nullptr selects the reference, which has no packed B.
    const GemmKernel* g = gemm_kernel_for(active_isa());
    sgemm_driver(g, M, N, K, alpha, A, ConstMat{nullptr, 0, 0}, &B, beta, C, ldc);
}

PackedB::PackedB(int64_t K, int64_t N, const BPacker& pack)
    : g_(gemm_kernel_for(active_isa())),
      K_(std::max<int64_t>(K, 0)),
      N_(std::max<int64_t>(N, 0)),
      KC_(K_ > 0 ? ceil_div(K_, ceil_div(K_, g_->KC)) : 1),
      Npad_(round_up(N_, g_->NR)),
      data_(new float[std::max<int64_t>(1, K_ * Npad_)]) {
    // Threads take whole panels of every K block (about 64 KiB of packing per thread at least).
    const int64_t NR = g_->NR, panels = Npad_ / NR;
    const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, K_ * NR / 4));
    for (int64_t pc = 0; pc < K_; pc += KC_) {
        const int64_t kc = std::min(KC_, K_ - pc);
        float* blk = data_.get() + pc * Npad_;
        parallel_chunks(panels, grain, [&](int64_t q0, int64_t q1) {
            const int64_t j0 = q0 * NR, j1 = std::min(N_, q1 * NR);
            if (j0 < j1) pack.pack(pack.ctx, pc, kc, j0, j1 - j0, NR, blk + q0 * NR * kc);
        });
    }
}

int64_t PackedB::a_scratch_floats(int64_t M) const {
    return std::max<int64_t>(1, round_up(std::min(std::max<int64_t>(M, 1), g_->MC), g_->MR) * KC_);
}

void sgemm_prepacked(int64_t M, int64_t n0, int64_t n1, float alpha, ConstMat A, const PackedB& B,
                     float beta, float* C, int64_t ldc, float* ap) {
    if (M <= 0 || n1 <= n0) return;
    if (B.K_ <= 0) return scale_c(M, n1 - n0, beta, C + n0, ldc);
    const GemmKernel& g = *B.g_;
    for (int64_t ic = 0; ic < M; ic += g.MC) {
        const Panels P(std::min(g.MC, M - ic), g.MR);
        for (int64_t pc = 0; pc < B.K_; pc += B.KC_) {
            const int64_t kc = std::min(B.KC_, B.K_ - pc);
            pack_a_panels(g, P, kc, offset(A, ic, pc), ap);
            macro_kernel(g, P, kc, n1 - n0, ap, B.data_.get() + pc * B.Npad_ + n0 * kc, g.NR,
                         g.NR * kc, alpha, pc == 0 ? beta : 1.0f, C + ic * ldc + n0, ldc);
        }
    }
}

// TileGemm's A micro-panels are the driver's (Panels: heights differ by at most one), so a
// 128-row tile runs as 8 x 13 + 2 x 12 rows rather than 9 x 14 + 2.
void TileGemm::pack_a(int64_t M, int64_t K, ConstMat A, float* Ap) const {
    if (M > 0 && K > 0) pack_a_panels(*g, Panels(M, g->MR), K, A, Ap);
}

void TileGemm::pack_b(int64_t K, int64_t N, ConstMat B, float* Bp) const {
    if (K <= 0 || N <= 0) return;
    g->pack_b(K, N, B, Bp);
}

void TileGemm::multiply(int64_t M, int64_t N, int64_t K, float alpha, A a, B b, float beta,
                        float* C, int64_t ldc, Band band) const {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) return scale_c(M, N, beta, C, ldc);
    const int64_t MR = g->MR, NR = g->NR;
    const GemmUkernelFn kernel =
        !a.ld ? g->ukernel : a.transposed ? g->ukernel_cols_a : g->ukernel_rows_a;
    const Panels P(M, MR);
    for (int64_t p = 0; p < P.count; ++p) {
        const int64_t i = P.row(p), mr = P.row(p + 1) - i;
        int64_t n_end = N, k0 = 0, k1 = K;
        if (band.kind == Band::cols) n_end = std::min(N, std::max<int64_t>(0, i + mr + band.off));
        if (band.kind == Band::k_upper) k1 = std::min(K, i + mr + band.off);
        if (band.kind == Band::k_lower) k0 = std::max<int64_t>(0, i + band.off);
        if (k1 <= k0) {  // these rows need no term of the sum
            scale_c(mr, N, beta, C + i * ldc, ldc);
            continue;
        }
        const int64_t computed = std::min(N, round_up(n_end, NR));
        if (computed < N && beta == 0.0f)  // past the band: defined zeros, not stale values
            for (int64_t r = 0; r < mr; ++r)
                std::fill(C + (i + r) * ldc + computed, C + (i + r) * ldc + N, 0.0f);
        const float* ap = !a.ld        ? a.p + p * MR * K + k0 * MR
                          : a.transposed ? a.p + k0 * a.ld + i
                                         : a.p + i * a.ld + k0;
        for (int64_t j = 0; j < n_end; j += NR) {
            const float* bp = b.ld ? b.p + k0 * b.ld + j : b.p + j * K + k0 * NR;
            kernel(k1 - k0, ap, bp, b.ld ? b.ld : NR, C + i * ldc + j, ldc, mr, std::min(NR, N - j),
                   alpha, beta);
        }
    }
}

void sgemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMat A, ConstMat B, float beta,
           float* C, int64_t ldc) {
    sgemm_with(gemm_kernel_for(active_isa()), M, N, K, alpha, A, B, beta, C, ldc);
}

}  // namespace tn
