// Winograd F(2x2, 3x3) forward for 3x3, stride-1, undilated, ungrouped convolutions with enough
// channels that the products dominate. Each 2x2 block of outputs takes 16 multiplies per
// (input, output) channel pair instead of 36: the input is cut into overlapping 4x4 tiles and
// transformed (B^T d B), the weights likewise (G g G^T), the 16 transformed positions are 16
// SGEMMs (O x C) @ (C x tiles), and A^T m A turns each 4x4 result back into 2x2 outputs. The
// transforms add only additions (and halves, for the weights), so results differ from the direct
// sum by rounding only. Same conventions as conv.h; results do not depend on the thread count.
#pragma once
#include "cpu/conv.h"

namespace tn {

// True when conv2d's forward (and so the transposed-convolution dX) takes this path.
bool conv2d_winograd_applies(const ConvDims& d);

// out (N, O, OH, OW) = conv(x, weight) + bias (O, or null). Throws std::bad_alloc (never from a
// parallel region) when scratch cannot be had.
void conv2d_winograd_forward(float* out, const float* x, const float* weight, const float* bias,
                             const ConvDims& d);

}  // namespace tn
