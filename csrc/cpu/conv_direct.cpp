// Direct conv2d entry points and the rule for when conv2d uses them: the loops live in
// conv_direct_impl.h, compiled here for the baseline and in isa/conv_direct_avx2.cpp,
// isa/conv_direct_avx512.cpp with their flags; these take the table of active_isa()'s variant.
#include "cpu/conv_direct.h"
#include "core/dispatch.h"

#define TN_ISA_NS generic
#include "cpu/conv_direct_impl.h"
#undef TN_ISA_NS

namespace tn {

TN_ISA_TABLE(ConvDirectTable, conv_direct_table)

namespace {

// The rule, from timing both paths on MNIST/CIFAR-like first layers (N = 64, 2 threads, AVX-512):
// - C*KH*KW <= 32: im2col + SGEMM then has a reduction too short to pay for its packing; the
//   direct kernels took 0.1 to 0.6 of its time for forward + backward (C = 1, 3x3, O = 32: 0.2),
//   and broke even at 32 channels with a 1x1 kernel;
// - O <= 256: dX's direct product re-reads dout once per block of 4 taps, and at O = 512 it took
//   2 to 3 times the SGEMM's time, enough to even out the totals.
constexpr int64_t kMaxTaps = 32, kMaxOut = 256;
// Largest padded copy of one image a thread keeps (floats): the shifted input planes.
constexpr int64_t kMaxScratch = int64_t(1) << 22;

}  // namespace

bool conv2d_direct_applies(const ConvDims& d) {
    if (d.G != 1 || d.SH != 1 || d.SW != 1 || d.CKK() > kMaxTaps || d.O > kMaxOut) return false;
    return d.C * d.KW * (d.OH + (d.KH - 1) * d.DH) * d.OW <= kMaxScratch;
}

void conv2d_direct_forward(float* out, const float* x, const float* weight, const float* bias,
                           const ConvDims& d) {
    table().forward(out, x, weight, bias, d);
}

void conv2d_direct_backward(float* dx, float* dweight, float* dbias, const float* dout,
                            const float* x, const float* weight, const ConvDims& d) {
    table().backward(dx, dweight, dbias, dout, x, weight, d);
}

}  // namespace tn
