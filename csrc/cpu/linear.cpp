// Fast dense layer: the bias is written into out first and the SGEMM adds the product on top
// (beta = 1), so no second pass over out; the backward is two SGEMMs whose transposes are
// strides (nothing transposed is materialised) plus a column sum for the bias.
#include "cpu/linear.h"
#include "core/parallel.h"
#include "cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace tn {
namespace {

// Columns per thread chunk in column_sum: a chunk's running sums stay in L1 while rows stream by.
constexpr int64_t kSumCols = 1024;
// Multiply-adds of both backward products below which they run serially: each thread then
// does one whole product, so this is the SGEMM's own grain (cpu/gemm.cpp) per thread.
constexpr double kConcurrentGrain = 1 << 18;

}  // namespace

void column_sum(float* dbias, ConstMat x, int64_t M, int64_t N, bool accumulate) {
    // Threads split columns (never rows), so every sum adds its M terms in the same order; a
    // thread wants ~32K elements before a team pays off.
    const int64_t grain = std::max<int64_t>(16, (int64_t(1) << 15) / std::max<int64_t>(M, 1));
    parallel_chunks(N, grain, [&](int64_t b, int64_t e) {
        float acc[kSumCols];
        for (int64_t j0 = b; j0 < e; j0 += kSumCols) {
            const int64_t w = std::min(kSumCols, e - j0);
            for (int64_t j = 0; j < w; ++j) acc[j] = 0.0f;
            for (int64_t i = 0; i < M; ++i) {
                const float* TN_RESTRICT row = &x.at(i, j0);
                if (x.cs == 1)
                    for (int64_t j = 0; j < w; ++j) acc[j] += row[j];
                else
                    for (int64_t j = 0; j < w; ++j) acc[j] += row[j * x.cs];
            }
            float* TN_RESTRICT d = dbias + j0;
            if (accumulate)
                for (int64_t j = 0; j < w; ++j) d[j] += acc[j];
            else
                for (int64_t j = 0; j < w; ++j) d[j] = acc[j];
        }
    });
}

void linear_forward(float* out, ConstMat inp, ConstMat weight, const float* bias, int64_t M,
                    int64_t N, int64_t K) {
    if (M == 0 || N == 0) return;
    if (bias) {
        parallel_chunks(M, std::max<int64_t>(1, (1 << 14) / N), [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) std::memcpy(out + i * N, bias, N * sizeof(float));
        });
    }
    sgemm(M, N, K, 1.0f, inp, weight.t(), bias ? 1.0f : 0.0f, out, N);
}

void linear_backward(float* dinp, float* dweight, float* dbias, ConstMat dout, ConstMat inp,
                     ConstMat weight, int64_t M, int64_t N, int64_t K, bool accumulate) {
    const float beta = accumulate ? 1.0f : 0.0f;
    const bool do_dinp = dinp && M > 0 && K > 0;
    const bool do_dweight = dweight && N > 0 && K > 0;
    auto dinp_gemm = [&] { sgemm(M, K, N, 1.0f, dout, weight, beta, dinp, K); };
    auto dweight_gemm = [&] { sgemm(N, K, M, 1.0f, dout.t(), inp, beta, dweight, K); };
#ifdef TURBONN_OPENMP
    // dX and dW cost the same 2*M*N*K flops: on a two-thread team each product runs whole on
    // its own thread (the sgemm calls inside see the team and stay serial; their results do not
    // depend on that) instead of each being split in two, which saves a team start-up and the
    // split's edge tiles. With more threads both still run one after the other on all of them.
    if (do_dinp && do_dweight && num_threads() == 2) {
        bool failed = false, done = false;  // sgemm may throw bad_alloc: never out of the region
        {
            const TeamLease lease(threads_for_work(2.0 * double(M) * double(N) * double(K),
                                                   kConcurrentGrain));
            if (lease.threads() == 2) {
#pragma omp parallel num_threads(2) reduction(|| : failed)
                {
                    const int t = omp_get_thread_num(), n = omp_get_num_threads();
                    try {
                        if (t == 0) dinp_gemm();
                        if (t == 1 || n == 1) dweight_gemm();
                    } catch (...) {
                        failed = true;
                    }
                }
                done = true;
            }
        }  // the lease ends here, so the column sum below may use the team
        if (failed) throw std::bad_alloc();
        if (done) {
            if (dbias && N > 0) column_sum(dbias, dout, M, N, accumulate);
            return;
        }
    }
#endif
    if (do_dinp) dinp_gemm();
    if (do_dweight) dweight_gemm();
    if (dbias && N > 0) column_sum(dbias, dout, M, N, accumulate);
}

}  // namespace tn
