// Fast conv2d: each image is unfolded (im2col) into a per-thread buffer and multiplied by the
// weight with our SGEMM (per group); the backward reuses the same unfolding for dW and folds
// W^T @ dout back (col2im) for dX. Not here: implicit GEMM, a direct kernel for tiny C*KH*KW.
#include "cpu/conv.h"
#include "core/parallel.h"
#include "cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

namespace tn {
namespace {

// Multiply-adds per thread below which images are not spread over threads (cpu/gemm.cpp's grain).
constexpr double kImageGrain = 1 << 18;

// 1x1 kernel, stride 1, no padding: the image itself is its im2col matrix.
bool is_pointwise(const ConvDims& d) {
    return d.KH == 1 && d.KW == 1 && d.SH == 1 && d.SW == 1 && d.PH == 0 && d.PW == 0;
}

// One image x (C, H, W) -> cols (C*KH*KW, OH*OW), rows [r0, r1) only.
void im2col_rows(float* cols, const float* x, const ConvDims& d, int64_t r0, int64_t r1) {
    const int64_t L = d.L();
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t j = r % d.KW, i = (r / d.KW) % d.KH, c = r / (d.KW * d.KH);
        const float* xc = x + c * d.H * d.W;
        float* TN_RESTRICT row = cols + r * L;
        for (int64_t oh = 0; oh < d.OH; ++oh) {
            const int64_t ih = oh * d.SH - d.PH + i * d.DH;
            float* TN_RESTRICT o = row + oh * d.OW;
            if (ih < 0 || ih >= d.H) {
                for (int64_t ow = 0; ow < d.OW; ++ow) o[ow] = 0.0f;
                continue;
            }
            const float* xr = xc + ih * d.W;
            for (int64_t ow = 0; ow < d.OW; ++ow) {
                const int64_t iw = ow * d.SW - d.PW + j * d.DW;
                o[ow] = (iw >= 0 && iw < d.W) ? xr[iw] : 0.0f;
            }
        }
    }
}

// One image: dx (C, H, W) = fold(cols), channels [c0, c1) only (a channel's rows touch only it,
// so channel chunks never write the same element and each sum runs in row order).
void col2im_channels(float* dx, const float* cols, const ConvDims& d, int64_t c0, int64_t c1) {
    const int64_t L = d.L();
    for (int64_t c = c0; c < c1; ++c) {
        float* TN_RESTRICT xc = dx + c * d.H * d.W;
        std::memset(xc, 0, sizeof(float) * d.H * d.W);
        for (int64_t i = 0; i < d.KH; ++i)
            for (int64_t j = 0; j < d.KW; ++j) {
                const float* row = cols + ((c * d.KH + i) * d.KW + j) * L;
                for (int64_t oh = 0; oh < d.OH; ++oh) {
                    const int64_t ih = oh * d.SH - d.PH + i * d.DH;
                    if (ih < 0 || ih >= d.H) continue;
                    float* xr = xc + ih * d.W;
                    const float* o = row + oh * d.OW;
                    for (int64_t ow = 0; ow < d.OW; ++ow) {
                        const int64_t iw = ow * d.SW - d.PW + j * d.DW;
                        if (iw >= 0 && iw < d.W) xr[iw] += o[ow];
                    }
                }
            }
    }
}

// Per-thread buffers of n floats each, allocated before any parallel region (bad_alloc is thrown
// here, on the calling thread).
struct Buffers {
    std::unique_ptr<float[]> mem;
    int64_t each = 0;
    Buffers(int threads, int64_t n) : mem(new float[std::max<int64_t>(1, threads * n)]), each(n) {}
    float* get(int t) { return mem.get() + t * each; }
};

// Runs fn(n, buffer) for every image n, images spread over threads when the work allows (each
// image's arithmetic is the same on any thread, so the result does not depend on the count).
// fn may throw std::bad_alloc (from the SGEMM): it is rethrown after the region.
template <typename Fn>
void for_each_image(int64_t N, double work_per_image, int64_t buf_floats, Fn&& fn) {
    if (N <= 0) return;
    const int want = threads_for_work(work_per_image * double(N), kImageGrain);
    if (want > 1 && N >= want) {
        const TeamLease lease(want);
        const int nt = lease.threads();
        if (nt > 1) {
            Buffers buf(nt, buf_floats);
            bool failed = false;
#ifdef TURBONN_OPENMP
#pragma omp parallel num_threads(nt) reduction(|| : failed)
            {
                const int got = omp_get_num_threads();
                for (int t = omp_get_thread_num(); t < nt; t += got) {
                    try {
                        for (int64_t n = N * t / nt; n < N * (t + 1) / nt; ++n)
                            fn(n, buf.get(t));
                    } catch (...) {
                        failed = true;
                    }
                }
            }
#endif
            if (failed) throw std::bad_alloc();
            return;
        }
    }
    Buffers buf(1, buf_floats);  // serial over images; each SGEMM may use the whole team
    for (int64_t n = 0; n < N; ++n) fn(n, buf.get(0));
}

// im2col of image n into buf (rows split over threads when called outside a team).
const float* unfold(float* buf, const float* x, const ConvDims& d, int64_t n) {
    const float* xn = x + n * d.C * d.H * d.W;
    if (is_pointwise(d)) return xn;
    const int64_t L = d.L();
    parallel_chunks(d.CKK(), std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(L, 1)),
                    [&](int64_t r0, int64_t r1) { im2col_rows(buf, xn, d, r0, r1); });
    return buf;
}

}  // namespace

void im2col(float* cols, const float* x, const ConvDims& d) {
    const int64_t rows = d.N * d.CKK(), L = d.L(), ckk = d.CKK();
    if (rows == 0 || L == 0) return;
    parallel_chunks(rows, std::max<int64_t>(1, (int64_t(1) << 14) / L), [&](int64_t b, int64_t e) {
        while (b < e) {  // a chunk may span images
            const int64_t n = b / ckk, r0 = b % ckk, r1 = std::min(ckk, r0 + (e - b));
            im2col_rows(cols + n * ckk * L, x + n * d.C * d.H * d.W, d, r0, r1);
            b += r1 - r0;
        }
    });
}

void col2im(float* dx, const float* cols, const ConvDims& d) {
    const int64_t planes = d.N * d.C, hw = d.H * d.W, ckk = d.CKK(), L = d.L();
    if (planes == 0 || hw == 0) return;
    const int64_t per_plane = std::max<int64_t>(1, d.KH * d.KW * L);
    parallel_chunks(planes, std::max<int64_t>(1, (int64_t(1) << 14) / per_plane),
                    [&](int64_t b, int64_t e) {
                        for (int64_t p = b; p < e; ++p) {
                            const int64_t n = p / d.C, c = p % d.C;
                            col2im_channels(dx + n * d.C * hw, cols + n * ckk * L, d, c, c + 1);
                        }
                    });
}

void conv2d_forward(float* out, const float* x, const float* weight, const float* bias,
                    const ConvDims& d) {
    const int64_t L = d.L(), Og = d.O / d.G, Kg = d.CKK() / d.G;
    if (d.N == 0 || d.O == 0 || L == 0) return;
    const double work = double(d.O) * double(L) * double(std::max<int64_t>(Kg, 1));
    for_each_image(d.N, work, is_pointwise(d) ? 1 : d.CKK() * L, [&](int64_t n, float* buf) {
        const float* cols = unfold(buf, x, d, n);
        float* on = out + n * d.O * L;
        if (bias)
            for (int64_t o = 0; o < d.O; ++o) std::fill(on + o * L, on + (o + 1) * L, bias[o]);
        for (int64_t g = 0; g < d.G; ++g)
            sgemm(Og, L, Kg, 1.0f, ConstMat{weight + g * Og * Kg, Kg, 1},
                  ConstMat{cols + g * Kg * L, L, 1}, bias ? 1.0f : 0.0f, on + g * Og * L, L);
    });
}

void conv2d_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                     const float* weight, const ConvDims& d) {
    const int64_t L = d.L(), Og = d.O / d.G, Kg = d.CKK() / d.G;
    if (dbias) {
        // Each channel's sum runs over images, then positions, in order, on one thread.
        const int64_t per_channel = std::max<int64_t>(1, d.N * L);
        parallel_chunks(d.O, std::max<int64_t>(1, (int64_t(1) << 14) / per_channel),
                        [&](int64_t b, int64_t e) {
                            for (int64_t o = b; o < e; ++o) {
                                float acc = 0.0f;
                                for (int64_t n = 0; n < d.N; ++n) {
                                    const float* g = dout + (n * d.O + o) * L;
                                    for (int64_t l = 0; l < L; ++l) acc += g[l];
                                }
                                dbias[o] = acc;
                            }
                        });
    }
    if (dweight) {
        // Images one after the other, each adding its product with beta = 1: the order of the
        // sum over images is fixed, and the SGEMM splits each product without changing it.
        if (d.N == 0 || L == 0)
            std::fill(dweight, dweight + d.O * Kg, 0.0f);
        else {
            Buffers buf(1, is_pointwise(d) ? 1 : d.CKK() * L);
            for (int64_t n = 0; n < d.N; ++n) {
                const float* cols = unfold(buf.get(0), x, d, n);
                for (int64_t g = 0; g < d.G; ++g)
                    sgemm(Og, Kg, L, 1.0f, ConstMat{dout + (n * d.O + g * Og) * L, L, 1},
                          ConstMat{cols + g * Kg * L, 1, L}, n == 0 ? 0.0f : 1.0f,
                          dweight + g * Og * Kg, Kg);
            }
        }
    }
    if (dx) {
        const double work = double(d.O) * double(L) * double(std::max<int64_t>(Kg, 1));
        for_each_image(d.N, work, d.CKK() * std::max<int64_t>(L, 1), [&](int64_t n, float* dcols) {
            for (int64_t g = 0; g < d.G; ++g)
                sgemm(Kg, L, Og, 1.0f, ConstMat{weight + g * Og * Kg, 1, Kg},
                      ConstMat{dout + (n * d.O + g * Og) * L, L, 1}, 0.0f, dcols + g * Kg * L, L);
            float* dxn = dx + n * d.C * d.H * d.W;
            if (is_pointwise(d))
                std::memcpy(dxn, dcols, sizeof(float) * d.C * L);
            else
                col2im_channels(dxn, dcols, d, 0, d.C);
        });
    }
}

}  // namespace tn
