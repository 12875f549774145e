// Layer normalisation's row loops, written once and compiled once per CPU variant:
// layer_norm.cpp includes this file as tn::generic, isa/layer_norm_avx2.cpp and
// isa/layer_norm_avx512.cpp as tn::avx2 / tn::avx512 with their flags. Define TN_ISA_NS first.
//
// Rows are independent, so threads split rows and every row is computed the same way whatever
// the thread count. Row sums are `omp simd` reductions in float lanes over chunks of kSumChunk
// values (built with -fopenmp-simd: vectorised without -ffast-math), the chunk sums added in
// double.
//
// Mean and variance (why not E[x^2] - E[x]^2): a row of 4096 values around 1000 with unit spread
// loses every digit of its variance that way in float. Instead the row is shifted by its first
// value hi (the "shifted data" algorithm: lanes then add deviations, not magnitudes), its mean
// kept as hi + lo in two floats, and the variance is the corrected two-pass sum
// (sum d^2 - (sum d)^2 / N) / N over d = (x - hi) - lo, whose second term removes lo's own
// rounding error. x - hi is exact for x within a factor 2 of hi, so out = d * rstd keeps digits
// that a single float mean (ulp 6e-5 at 1000) would round away.
#include "core/parallel.h"
#include "cpu/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <limits>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/layer_norm_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

// Elements per thread before a team pays off (a few cheap passes over data in cache).
constexpr int64_t kGrain = 1 << 15;
// Values per float-lane partial sum: 512 / 16 lanes = 32 adds per lane at most.
constexpr int64_t kSumChunk = 512;

// sum over j of (x[j] - hi).
TN_ALWAYS_INLINE double shifted_sum(const float* TN_RESTRICT x, int64_t N, float hi) {
    double total = 0.0;
    for (int64_t s = 0; s < N; s += kSumChunk) {
        const int64_t e = std::min(N, s + kSumChunk);
        float p = 0.0f;
#pragma omp simd reduction(+ : p)
        for (int64_t j = s; j < e; ++j) p += x[j] - hi;
        total += p;
    }
    return total;
}

// s1 = sum d and s2 = sum d^2 over d = (x[j] - hi) - lo.
TN_ALWAYS_INLINE void centered_sums(const float* TN_RESTRICT x, int64_t N, float hi, float lo,
                                    double& s1, double& s2) {
    s1 = s2 = 0.0;
    for (int64_t s = 0; s < N; s += kSumChunk) {
        const int64_t e = std::min(N, s + kSumChunk);
        float p1 = 0.0f, p2 = 0.0f;
#pragma omp simd reduction(+ : p1, p2)
        for (int64_t j = s; j < e; ++j) {
            const float d = (x[j] - hi) - lo;
            p1 += d;
            p2 += d * d;
        }
        s1 += p1;
        s2 += p2;
    }
}

// A row's statistics: the mean as hi + lo (for the output) and rounded to one float (saved).
struct RowStats {
    float hi, lo, mean, rstd;
};

TN_ALWAYS_INLINE RowStats row_stats(const float* TN_RESTRICT x, int64_t N, double eps) {
    const double n = double(N);
    const float hi = x[0];
    const float lo0 = static_cast<float>(shifted_sum(x, N, hi) / n);
    double s1, s2;
    centered_sums(x, N, hi, lo0, s1, s2);
    const double c = s1 / n;  // what lo0 missed of the mean
    double var = s2 / n - c * c;
    var = var < 0.0 ? 0.0 : var;  // rounding only; NaN stays NaN
    RowStats st;
    st.hi = hi;
    st.lo = static_cast<float>(double(lo0) + c);
    st.mean = static_cast<float>(double(hi) + double(lo0) + c);
    st.rstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    return st;
}

template <bool HasW, bool HasB>
TN_ALWAYS_INLINE void write_row(float* TN_RESTRICT y, const float* TN_RESTRICT x,
                                const float* TN_RESTRICT w, const float* TN_RESTRICT b,
                                int64_t N, RowStats st) {
    const float hi = st.hi, lo = st.lo, r = st.rstd;
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) {
        float v = ((x[j] - hi) - lo) * r;
        if (HasW) v *= w[j];
        if (HasB) v += b[j];
        y[j] = v;
    }
}

void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                        const float* bias, int64_t M, int64_t N, double eps) {
    if (N == 0) {
        std::fill(mean, mean + M, 0.0f);
        std::fill(rstd, rstd + M, std::numeric_limits<float>::quiet_NaN());
        return;
    }
    parallel_chunks(M, std::max<int64_t>(1, kGrain / N), [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            const float* xr = x + i * N;
            float* yr = out + i * N;
            const RowStats st = row_stats(xr, N, eps);
            mean[i] = st.mean;
            rstd[i] = st.rstd;
            if (weight && bias)
                write_row<true, true>(yr, xr, weight, bias, N, st);
            else if (weight)
                write_row<true, false>(yr, xr, weight, bias, N, st);
            else if (bias)
                write_row<false, true>(yr, xr, weight, bias, N, st);
            else
                write_row<false, false>(yr, xr, weight, bias, N, st);
        }
    });
}

// One row's dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * weight.
template <bool HasW>
TN_ALWAYS_INLINE void dx_row(float* TN_RESTRICT dx, const float* TN_RESTRICT dy,
                             const float* TN_RESTRICT x, const float* TN_RESTRICT w, int64_t N,
                             float mu, float r) {
    double sg = 0.0, sgx = 0.0;
    for (int64_t s = 0; s < N; s += kSumChunk) {
        const int64_t e = std::min(N, s + kSumChunk);
        float p = 0.0f, q = 0.0f;
#pragma omp simd reduction(+ : p, q)
        for (int64_t j = s; j < e; ++j) {
            const float g = HasW ? dy[j] * w[j] : dy[j];
            p += g;
            q += g * ((x[j] - mu) * r);
        }
        sg += p;
        sgx += q;
    }
    const float a = static_cast<float>(sg / double(N)), b = static_cast<float>(sgx / double(N));
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) {
        const float g = HasW ? dy[j] * w[j] : dy[j];
        dx[j] = r * (g - a - ((x[j] - mu) * r) * b);
    }
}

// A chunk's running dweight (pw) and dbias (pb) column sums, either null.
TN_ALWAYS_INLINE void add_partials(float* TN_RESTRICT pw, float* TN_RESTRICT pb,
                                   const float* TN_RESTRICT dy, const float* TN_RESTRICT x,
                                   int64_t N, float mu, float r) {
    if (pw) {
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) pw[j] += dy[j] * ((x[j] - mu) * r);
    }
    if (pb) {
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) pb[j] += dy[j];
    }
}

void layer_norm_backward(float* dx, float* dweight, float* dbias, const float* dout,
                         const float* x, const float* mean, const float* rstd,
                         const float* weight, int64_t M, int64_t N, float* part, double* wsum) {
    const bool sums = dweight || dbias;
    if (M == 0 || N == 0) {
        if (dweight) std::fill(dweight, dweight + N, 0.0f);
        if (dbias) std::fill(dbias, dbias + N, 0.0f);
        return;
    }
    const int64_t R = layer_norm_chunk_rows(M), chunks = ceil_div(M, R);
    parallel_chunks(chunks, std::max<int64_t>(1, kGrain / (R * N)), [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            float* pw = dweight ? part + c * 2 * N : nullptr;
            float* pb = dbias ? part + c * 2 * N + N : nullptr;
            if (pw) std::fill(pw, pw + N, 0.0f);
            if (pb) std::fill(pb, pb + N, 0.0f);
            for (int64_t i = c * R; i < std::min(M, (c + 1) * R); ++i) {
                const float *dy = dout + i * N, *xr = x + i * N;
                if (dx) {
                    if (weight)
                        dx_row<true>(dx + i * N, dy, xr, weight, N, mean[i], rstd[i]);
                    else
                        dx_row<false>(dx + i * N, dy, xr, weight, N, mean[i], rstd[i]);
                }
                if (sums) add_partials(pw, pb, dy, xr, N, mean[i], rstd[i]);
            }
        }
    });
    if (!sums) return;
    // Column k of the chunk partials (k < N: dweight, else dbias), summed in chunk order.
    const int64_t k0 = dweight ? 0 : N, k1 = dbias ? 2 * N : N;
    parallel_chunks(k1 - k0, std::max<int64_t>(1, kGrain / chunks), [&](int64_t b, int64_t e) {
        double* TN_RESTRICT acc = wsum;
        std::fill(acc + k0 + b, acc + k0 + e, 0.0);
        for (int64_t c = 0; c < chunks; ++c) {
            const float* TN_RESTRICT p = part + c * 2 * N;
            for (int64_t k = k0 + b; k < k0 + e; ++k) acc[k] += p[k];
        }
        for (int64_t k = k0 + b; k < k0 + e; ++k) {
            if (k < N)
                dweight[k] = static_cast<float>(acc[k]);
            else
                dbias[k - N] = static_cast<float>(acc[k]);
        }
    });
}

}  // namespace

const LayerNormTable& layer_norm_table() {
    static const LayerNormTable t{layer_norm_forward, layer_norm_backward};
    return t;
}

}  // namespace tn::TN_ISA_NS
