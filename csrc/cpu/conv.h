// 2-D convolution over NCHW float32 (torch's conv2d: per-axis stride, padding, dilation, groups)
// by im2col + our SGEMM, its backward, and the im2col/col2im helpers themselves.
// Gradient convention: backward kernels overwrite dx/dweight/dbias; a null pointer skips that one.
#pragma once
#include "core/common.h"

namespace tn {

// Every size of one convolution. x is (N, C, H, W), weight (O, C / G, KH, KW), out (N, O, OH, OW)
// with OH = (H + 2 PH - DH (KH - 1) - 1) / SH + 1 (the same for OW). The binding checks that
// C and O divide by G, that strides/dilations are >= 1, padding >= 0 and OH, OW >= 1.
struct ConvDims {
    int64_t N, C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, G;
    int64_t OH, OW;
    int64_t L() const { return OH * OW; }           // output positions per image
    int64_t CKK() const { return C * KH * KW; }     // rows of one image's im2col matrix
};

// Output extent along one axis, or a value < 1 when the dilated kernel does not fit.
inline int64_t conv_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
    const int64_t span = in + 2 * p - d * (k - 1) - 1;
    return span < 0 ? 0 : span / s + 1;
}

// x (N, C, H, W) -> cols (N, C*KH*KW, OH*OW), torch's unfold layout; padding reads as 0.
void im2col(float* cols, const float* x, const ConvDims& d);
// dx (N, C, H, W) = the scatter-add of cols (N, C*KH*KW, OH*OW) back to the input (torch's fold).
void col2im(float* dx, const float* cols, const ConvDims& d);

// out (N, O, OH, OW) = conv(x (N, C, H, W), weight (O, C/G, KH, KW)) + bias (O, or null).
// Throws std::bad_alloc (never from inside a parallel region) when scratch cannot be had.
void conv2d_forward(float* out, const float* x, const float* weight, const float* bias,
                    const ConvDims& d);

// dx (N, C, H, W), dweight (O, C/G, KH, KW), dbias (O) from dout (N, O, OH, OW); any of the three
// may be null. Sums run in a fixed order, so results do not depend on the thread count.
void conv2d_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                     const float* weight, const ConvDims& d);

}  // namespace tn
