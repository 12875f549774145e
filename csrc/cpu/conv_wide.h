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

// Stride 1 on both axes and not a 1x1 unpadded kernel (that one reads the images in place).
inline bool conv2d_wide_applies(const ConvDims& d) {
    const bool pointwise = d.KH == 1 && d.KW == 1 && d.PH == 0 && d.PW == 0;
    return d.SH == 1 && d.SW == 1 && !pointwise;
}

// out = conv(x, weight) + bias by implicit GEMM on wide positions (N, O, L >= 1).
void conv2d_forward_wide(float* out, const float* x, const float* weight, const float* bias,
                         const ConvDims& d);

// dweight (O, C/G, KH, KW) from dout and x (N, L >= 1).
void conv2d_dweight_wide(float* dweight, const float* dout, const float* x, const ConvDims& d);

}  // namespace tn
