// Fast conv2d over our SGEMM, images grouped side by side so a 14x14 layer's products are
// thousands of columns wide, not 196. Forward: implicit GEMM, image patches packed straight into
// the SGEMM's B panels (stride 1 by conv_wide.h's copy of plane stretches; other strides by
// pack_patches here), so no im2col matrix is built. dX: for stride-1 'same'-like layers a
// transposed convolution through the same forward, else W^T @ dout folded back (col2im). dW:
// conv_wide.h for stride 1, else im2col + SGEMM. Few-channel first layers take conv_direct.h;
// 3x3 stride-1 layers with >= 64 channels each way take conv_winograd.h's forward (and dX).
#include "cpu/conv.h"
#include "core/parallel.h"
#include "cpu/conv_direct.h"
#include "cpu/conv_wide.h"
#include "cpu/conv_winograd.h"
#include "cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace tn {
namespace {

// Floats of unfolded patches per group of images: the group's im2col matrix (C*KH*KW rows,
// images side by side along the columns) stays near this size (4 MiB, well inside L3), so small
// images still give the SGEMM thousands of columns and the weights are packed once per group.
constexpr int64_t kGroupFloats = int64_t(1) << 20;

// One image x (C, H, W) -> rows [r0, r1) of its im2col matrix, row r at cols + r * ld.
void im2col_rows(float* cols, int64_t ld, const float* x, const ConvDims& d, int64_t r0,
                 int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t j = r % d.KW, i = (r / d.KW) % d.KH, c = r / (d.KW * d.KH);
        const float* xc = x + c * d.H * d.W;
        float* TN_RESTRICT row = cols + r * ld;
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

// One image: dx (C, H, W) = fold of its im2col matrix (row r at cols + r * ld), channels
// [c0, c1) only (a channel's rows touch only it, so each sum runs in row order on one thread).
void col2im_channels(float* dx, const float* cols, int64_t ld, const ConvDims& d, int64_t c0,
                     int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
        float* TN_RESTRICT xc = dx + c * d.H * d.W;
        std::memset(xc, 0, sizeof(float) * d.H * d.W);
        for (int64_t i = 0; i < d.KH; ++i)
            for (int64_t j = 0; j < d.KW; ++j) {
                const float* row = cols + ((c * d.KH + i) * d.KW + j) * ld;
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

// A run of images [n0, n0 + nb) laid side by side: the group's matrices are (rows, nb * L),
// image m's columns at m * L.
struct Group {
    int64_t n0, nb;
    int64_t ld(const ConvDims& d) const { return nb * d.L(); }
};

// Images per group of the unfolded backward (a 1x1 convolution reads each image in place, one
// at a time).
int64_t group_size(const ConvDims& d) {
    if (conv_is_pointwise(d)) return 1;
    return conv_images_per_group(d.N, kGroupFloats / std::max<int64_t>(1, d.CKK() * d.L()));
}

template <typename Fn>
void for_each_group(const ConvDims& d, Fn&& fn) {
    const int64_t nb = group_size(d);
    for (int64_t n0 = 0; n0 < d.N; n0 += nb) fn(Group{n0, std::min(nb, d.N - n0)});
}

// The group's im2col matrix (CKK, nb * L) in buf, or the image itself for a 1x1 convolution.
const float* unfold_group(float* buf, const float* x, const ConvDims& d, const Group& g) {
    const int64_t ckk = d.CKK(), L = d.L(), ld = g.ld(d), chw = d.C * d.H * d.W;
    if (conv_is_pointwise(d)) return x + g.n0 * chw;
    // Row by row, each row's images one after another: the writes run through the matrix in
    // order (image-major order revisits every page nb times and thrashes the TLB).
    parallel_chunks(ckk, conv_grain(ld), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
            for (int64_t m = 0; m < g.nb; ++m)
                im2col_rows(buf + m * L, ld, x + (g.n0 + m) * chw, d, r, r + 1);
    });
    return buf;
}

// Runs fn(m, o) for every (image, channel) row of L floats of a group, rows spread over threads.
// The per-image layout is (nb, O, L); the group layout (O, nb * L).
template <typename Fn>
void for_each_row(const ConvDims& d, const Group& g, Fn&& fn) {
    parallel_chunks(g.nb * d.O, conv_grain(d.L()), [&](int64_t b, int64_t e) {
        for (int64_t it = b; it < e; ++it) fn(it / d.O, it % d.O);
    });
}

// grp (O, nb * L) = the group's images of img (nb, O, L).
void gather_group(float* grp, const float* img, const ConvDims& d, const Group& g) {
    const int64_t L = d.L(), ld = g.ld(d);
    for_each_row(d, g, [&](int64_t m, int64_t o) {
        std::memcpy(grp + o * ld + m * L, img + (m * d.O + o) * L, sizeof(float) * L);
    });
}

// img (nb, O, L) = grp (O, nb * L) + bias (O, or null).
void scatter_group(float* img, const float* grp, const float* bias, const ConvDims& d,
                   const Group& g) {
    const int64_t L = d.L(), ld = g.ld(d);
    for_each_row(d, g, [&](int64_t m, int64_t o) {
        float* TN_RESTRICT dst = img + (m * d.O + o) * L;
        const float* TN_RESTRICT src = grp + o * ld + m * L;
        if (!bias) return (void)std::memcpy(dst, src, sizeof(float) * L);
        const float b = bias[o];
        for (int64_t l = 0; l < L; ++l) dst[l] = src[l] + b;
    });
}

// Images per implicit-GEMM product in the strided forward: enough for kConvMinColumns columns.
int64_t forward_group_size(const ConvDims& d) {
    if (conv_is_pointwise(d)) return 1;
    return conv_images_per_group(d.N, (kConvMinColumns + d.L() - 1) / d.L());
}

// The implicit GEMM's B: the im2col matrix of images [n0, n0 + nb) side by side (column
// m * L + oh * OW + ow, row (c - c0) * KH * KW + i * KW + j), packed panel by panel straight
// from the images.
struct PatchSource {
    const float* x;
    const ConvDims* d;
    int64_t n0, c0;
};

// One run of output positions: columns [t, t + len) of a panel are positions ow0.. of row oh
// of image m.
struct PatchRun {
    int64_t t, len, m, oh, ow0;
};

void pack_patches(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t NR,
                  float* Bp) {
    const PatchSource& s = *static_cast<const PatchSource*>(ctx);
    const ConvDims& d = *s.d;
    const int64_t L = d.L(), KK = d.KH * d.KW;
    PatchRun runs[64];  // a panel spans at most NR <= 64 output rows
    for (int64_t j = j0, q = 0; j < j0 + nc; j += NR, ++q) {
        const int64_t w = std::min(NR, j0 + nc - j);
        int64_t count = 0;
        for (int64_t t = 0, col = j; t < w; ++count) {
            const int64_t m = col / L, l = col % L, oh = l / d.OW, ow = l % d.OW;
            const int64_t len = std::min(w - t, d.OW - ow);
            runs[count] = PatchRun{t, len, m, oh, ow};
            t += len;
            col += len;
        }
        float* panel = Bp + q * NR * kc;
        for (int64_t kk = 0; kk < kc; ++kk) {
            const int64_t r = k0 + kk, c = s.c0 + r / KK, i = (r % KK) / d.KW, jw = r % d.KW;
            float* TN_RESTRICT dst = panel + kk * NR;
            for (int64_t u = 0; u < count; ++u) {
                const PatchRun& run = runs[u];
                float* TN_RESTRICT o = dst + run.t;
                const int64_t ih = run.oh * d.SH - d.PH + i * d.DH;
                if (ih < 0 || ih >= d.H) {
                    for (int64_t v = 0; v < run.len; ++v) o[v] = 0.0f;
                    continue;
                }
                const float* xr = s.x + (((s.n0 + run.m) * d.C + c) * d.H + ih) * d.W;
                const int64_t iw0 = run.ow0 * d.SW - d.PW + jw * d.DW;
                if (d.SW == 1) {  // a contiguous stretch of the input row, zeros outside it
                    const int64_t lo = std::clamp<int64_t>(-iw0, 0, run.len);
                    const int64_t hi = std::clamp<int64_t>(d.W - iw0, lo, run.len);
                    for (int64_t v = 0; v < lo; ++v) o[v] = 0.0f;
                    for (int64_t v = lo; v < hi; ++v) o[v] = xr[iw0 + v];
                    for (int64_t v = hi; v < run.len; ++v) o[v] = 0.0f;
                } else {
                    for (int64_t v = 0; v < run.len; ++v) {
                        const int64_t iw = iw0 + v * d.SW;
                        o[v] = (iw >= 0 && iw < d.W) ? xr[iw] : 0.0f;
                    }
                }
            }
            for (int64_t v = w; v < NR; ++v) dst[v] = 0.0f;
        }
    }
}

// dX of a stride-1 convolution whose padding is at most the dilated kernel's reach is itself a
// convolution: of dout, padded by DH * (KH - 1) - PH, with the kernel flipped and its in/out
// channels swapped (per group). Its forward path then serves the backward too, with no dcols
// buffer and no col2im pass. It multiplies H * W positions where W^T @ dout multiplies OH * OW,
// so it is taken for 'same'-like layers only (a 5x5 'valid' layer on 14x14 would do 2x the work).
bool dx_is_convolution(const ConvDims& d) {
    return d.SH == 1 && d.SW == 1 && d.PH <= d.DH * (d.KH - 1) && d.PW <= d.DW * (d.KW - 1) &&
           4 * d.H * d.W <= 5 * d.L();
}

ConvDims transposed_dims(const ConvDims& d) {
    ConvDims t = d;
    t.C = d.O;
    t.H = d.OH;
    t.W = d.OW;
    t.O = d.C;
    t.PH = d.DH * (d.KH - 1) - d.PH;
    t.PW = d.DW * (d.KW - 1) - d.PW;
    t.OH = d.H;
    t.OW = d.W;
    return t;
}

// weight (O, C/G, KH, KW) -> (C, O/G, KH, KW), flipped in both spatial axes, group by group.
std::unique_ptr<float[]> transposed_weight(const float* weight, const ConvDims& d) {
    const int64_t Og = d.O / d.G, Cg = d.C / d.G, KK = d.KH * d.KW;
    std::unique_ptr<float[]> wt(new float[std::max<int64_t>(1, d.O * Cg * KK)]);
    for (int64_t k = 0; k < d.G; ++k)
        for (int64_t o = 0; o < Og; ++o)
            for (int64_t c = 0; c < Cg; ++c) {
                const float* src = weight + ((k * Og + o) * Cg + c) * KK;
                float* dst = wt.get() + ((k * Cg + c) * Og + o) * KK;
                for (int64_t t = 0; t < KK; ++t) dst[t] = src[KK - 1 - t];
            }
    return wt;
}

}  // namespace

void im2col(float* cols, const float* x, const ConvDims& d) {
    const int64_t rows = d.N * d.CKK(), L = d.L(), ckk = d.CKK();
    if (rows == 0 || L == 0) return;
    parallel_chunks(rows, conv_grain(L), [&](int64_t b, int64_t e) {
        while (b < e) {  // a chunk may span images
            const int64_t n = b / ckk, r0 = b % ckk, r1 = std::min(ckk, r0 + (e - b));
            im2col_rows(cols + n * ckk * L, L, x + n * d.C * d.H * d.W, d, r0, r1);
            b += r1 - r0;
        }
    });
}

void col2im(float* dx, const float* cols, const ConvDims& d) {
    const int64_t planes = d.N * d.C, hw = d.H * d.W, ckk = d.CKK(), L = d.L();
    if (planes == 0 || hw == 0) return;
    parallel_chunks(planes, conv_grain(d.KH * d.KW * L), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
            const int64_t n = p / d.C, c = p % d.C;
            col2im_channels(dx + n * d.C * hw, cols + n * ckk * L, L, d, c, c + 1);
        }
    });
}

// Implicit GEMM: per group of images and conv group, one SGEMM whose B panels are packed
// straight from the images (pack_patches), written into out (one image: with the bias already
// there) or into a group buffer scattered back with the bias.
void conv2d_forward(float* out, const float* x, const float* weight, const float* bias,
                    const ConvDims& d) {
    const int64_t L = d.L(), Og = d.O / d.G, Kg = d.CKK() / d.G, Cg = d.C / d.G;
    if (d.N == 0 || d.O == 0 || L == 0) return;
    if (conv2d_direct_applies(d)) return conv2d_direct_forward(out, x, weight, bias, d);
    if (conv2d_winograd_applies(d)) return conv2d_winograd_forward(out, x, weight, bias, d);
    if (conv2d_wide_applies(d)) return conv2d_forward_wide(out, x, weight, bias, d);
    const int64_t nb = forward_group_size(d);
    std::unique_ptr<float[]> res(nb > 1 ? new float[d.O * nb * L] : nullptr);
    for (int64_t n0 = 0; n0 < d.N; n0 += nb) {
        const Group g{n0, std::min(nb, d.N - n0)};
        const int64_t ld = g.ld(d);
        float* dst = res ? res.get() : out + n0 * d.O * L;
        const float beta = !res && bias ? 1.0f : 0.0f;
        if (beta != 0.0f)
            for (int64_t o = 0; o < d.O; ++o) std::fill(dst + o * L, dst + (o + 1) * L, bias[o]);
        for (int64_t k = 0; k < d.G; ++k) {
            const ConstMat W{weight + k * Og * Kg, Kg, 1};
            if (conv_is_pointwise(d)) {
                sgemm(Og, L, Kg, 1.0f, W, ConstMat{x + (n0 * d.C + k * Cg) * L, L, 1}, beta,
                      dst + k * Og * L, L);
                continue;
            }
            const PatchSource src{x, &d, n0, k * Cg};
            sgemm_packed_b(Og, ld, Kg, 1.0f, W, BPacker{pack_patches, &src}, beta,
                           dst + k * Og * ld, ld);
        }
        if (res) scatter_group(out + n0 * d.O * L, res.get(), bias, d, g);
    }
}

// Per group of images: dout to the group layout, then dW += dout_g @ cols_g^T (groups in order,
// beta = 1 after the first: a fixed summation order), dcols = W^T @ dout_g folded back to dX.
void conv2d_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                     const float* weight, const ConvDims& d) {
    if (conv2d_direct_applies(d))
        return conv2d_direct_backward(dx, dweight, dbias, dout, x, weight, d);
    const int64_t L = d.L(), Og = d.O / d.G, Kg = d.CKK() / d.G;
    if (dbias) {
        // Each channel's sum runs over images, then positions, in order, on one thread.
        parallel_chunks(d.O, conv_grain(d.N * L), [&](int64_t b, int64_t e) {
            for (int64_t o = b; o < e; ++o) {
                // 16 running sums (position l goes to sum l % 16 of its image's row), added up
                // in a fixed order at the end: vectorised, and the same on every thread.
                constexpr int kLanes = 16;
                float acc[kLanes] = {};
                for (int64_t n = 0; n < d.N; ++n) {
                    const float* g = dout + (n * d.O + o) * L;
                    int64_t l = 0;
                    for (; l + kLanes <= L; l += kLanes)
                        for (int v = 0; v < kLanes; ++v) acc[v] += g[l + v];
                    for (int v = 0; l < L; ++l, ++v) acc[v] += g[l];
                }
                float total = 0.0f;
                for (int v = 0; v < kLanes; ++v) total += acc[v];
                dbias[o] = total;
            }
        });
    }
    if (dweight && conv2d_wide_applies(d) && d.N > 0 && L > 0) {
        conv2d_dweight_wide(dweight, dout, x, d);
        dweight = nullptr;
    }
    if (dx && dx_is_convolution(d) && d.N > 0 && L > 0) {
        const std::unique_ptr<float[]> wt = transposed_weight(weight, d);
        conv2d_forward(dx, dout, wt.get(), nullptr, transposed_dims(d));
        dx = nullptr;
    }
    if (!dweight && !dx) return;
    if (d.N == 0 || L == 0) {
        if (dweight) std::fill(dweight, dweight + d.O * Kg, 0.0f);
        if (dx) std::fill(dx, dx + d.N * d.C * d.H * d.W, 0.0f);
        return;
    }
    const int64_t nb = group_size(d), cols = d.CKK() * nb * L;
    const int64_t cols_floats = dweight && !conv_is_pointwise(d) ? cols : 0;
    const int64_t dcols_floats = dx ? cols : 0;
    const std::unique_ptr<float[]> buf(
        new float[std::max<int64_t>(1, cols_floats + dcols_floats + d.O * nb * L)]);
    float* dcols = buf.get() + cols_floats;
    float* dgrp = dcols + dcols_floats;
    for_each_group(d, [&](const Group& g) {
        const int64_t ld = g.ld(d);
        gather_group(dgrp, dout + g.n0 * d.O * L, d, g);
        if (dweight) {
            const float* xc = unfold_group(buf.get(), x, d, g);
            const int64_t xld = conv_is_pointwise(d) ? L : ld;
            for (int64_t k = 0; k < d.G; ++k)
                sgemm(Og, Kg, ld, 1.0f, ConstMat{dgrp + k * Og * ld, ld, 1},
                      ConstMat{xc + k * Kg * xld, 1, xld}, g.n0 == 0 ? 0.0f : 1.0f,
                      dweight + k * Og * Kg, Kg);
        }
        if (dx) {
            for (int64_t k = 0; k < d.G; ++k)
                sgemm(Kg, ld, Og, 1.0f, ConstMat{weight + k * Og * Kg, 1, Kg},
                      ConstMat{dgrp + k * Og * ld, ld, 1}, 0.0f, dcols + k * Kg * ld, ld);
            const int64_t chw = d.C * d.H * d.W;
            if (conv_is_pointwise(d)) {
                std::memcpy(dx + g.n0 * chw, dcols, sizeof(float) * chw);
                return;
            }
            parallel_chunks(g.nb * d.C, conv_grain(d.KH * d.KW * L), [&](int64_t b, int64_t e) {
                for (int64_t it = b; it < e; ++it) {
                    const int64_t m = it / d.C, c = it % d.C;
                    col2im_channels(dx + (g.n0 + m) * chw, dcols + m * L, ld, d, c, c + 1);
                }
            });
        }
    });
}

}  // namespace tn
