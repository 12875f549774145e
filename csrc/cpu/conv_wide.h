// Stride-1 convolution on "wide" positions, the fast road of conv.cpp. Over a zero-padded copy
// of the input (Hp x Wp planes) each row of an image's im2col matrix is one contiguous stretch of
// a plane, when output positions are laid out Wp wide instead of OW wide (t = oh * Wp + ow; the
// Wp - OW extra columns of each row are computed and dropped). Packing SGEMM panels is then a
// plain copy. Same conventions as conv.h (dweight overwritten, results independent of threads).
#pragma once
#include "cpu/conv.h"

#include <algorithm>

namespace tn {

// Output columns per SGEMM: images are grouped until their positions reach this many (a 14x14
// layer's 196 columns alone leave the SGEMM's tiles and threads idle).
constexpr int64_t kConvMinColumns = 4096;

// Grain (in items of `per_item` floats) for spreading memory-bound loops over threads.
inline int64_t conv_grain(int64_t per_item) {
    return std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(per_item, 1));
}

// Images per group when at most `most` fit: equal groups rather than a short last one. Depends
// on the sizes only, so the arithmetic is the same for every thread count.
inline int64_t conv_images_per_group(int64_t N, int64_t most) {
    most = std::clamp<int64_t>(most, 1, std::max<int64_t>(N, 1));
    const int64_t groups = (N + most - 1) / most;
    return (N + groups - 1) / groups;
}

// One plane: o (Hp x Wp) = in (H x W) placed at (PH, PW), zeros around it (Hp >= H + PH,
// Wp >= W + PW). Writes each element once.
inline void conv_pad_plane(float* o, const float* in, const ConvDims& d, int64_t Hp, int64_t Wp) {
    std::fill(o, o + d.PH * Wp, 0.0f);
    for (int64_t h = 0; h < d.H; ++h) {
        float* row = o + (d.PH + h) * Wp;
        std::fill(row, row + d.PW, 0.0f);
        std::copy(in + h * d.W, in + (h + 1) * d.W, row + d.PW);
        std::fill(row + d.PW + d.W, row + Wp, 0.0f);
    }
    std::fill(o + (d.PH + d.H) * Wp, o + Hp * Wp, 0.0f);
}

// 1x1 kernel, stride 1, no padding: the image itself is its im2col matrix.
inline bool conv_is_pointwise(const ConvDims& d) {
    return d.KH == 1 && d.KW == 1 && d.SH == 1 && d.SW == 1 && d.PH == 0 && d.PW == 0;
}

// Stride 1 on both axes and not a 1x1 unpadded kernel (that one reads the images in place).
inline bool conv2d_wide_applies(const ConvDims& d) {
    return d.SH == 1 && d.SW == 1 && !conv_is_pointwise(d);
}

// out = conv(x, weight) + bias by implicit GEMM on wide positions (N, O, L >= 1).
void conv2d_forward_wide(float* out, const float* x, const float* weight, const float* bias,
                         const ConvDims& d);

// dweight (O, C/G, KH, KW) from dout and x (N, L >= 1).
void conv2d_dweight_wide(float* dweight, const float* dout, const float* x, const ConvDims& d);

}  // namespace tn
