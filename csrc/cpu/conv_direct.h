// Direct conv2d for few-channel layers (C*KH*KW small, stride 1, one group: MNIST's first layer)
// where im2col + SGEMM has too short a reduction to be fast. Same semantics and gradient
// convention as conv2d_forward/conv2d_backward in cpu/conv.h, which call these when applies().
#pragma once
#include "cpu/conv.h"

namespace tn {

// True when the direct kernels are used for d (see conv_direct.cpp for the rule and why).
bool conv2d_direct_applies(const ConvDims& d);

// out (N, O, OH, OW) = conv(x (N, C, H, W), weight (O, C, KH, KW)) + bias (O, or null).
// Throws std::bad_alloc (after its parallel region) when scratch cannot be had.
void conv2d_direct_forward(float* out, const float* x, const float* weight, const float* bias,
                           const ConvDims& d);

// dx (N, C, H, W), dweight (O, C, KH, KW), dbias (O) from dout (N, O, OH, OW), overwritten; any
// may be null. dweight and dbias split threads over output channels and dx over images, so the
// results do not depend on the thread count.
void conv2d_direct_backward(float* dx, float* dweight, float* dbias, const float* dout,
                            const float* x, const float* weight, const ConvDims& d);

// The kernels of one CPU variant (conv_direct_impl.h builds one table per variant).
struct ConvDirectTable {
    void (*forward)(float*, const float*, const float*, const float*, const ConvDims&);
    void (*backward)(float*, float*, float*, const float*, const float*, const float*,
                     const ConvDims&);
};

}  // namespace tn
