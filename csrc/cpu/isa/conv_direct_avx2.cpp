// The direct conv2d kernels (cpu/conv_direct_impl.h) compiled with the AVX2 flags as tn::avx2.
#define TN_ISA_NS avx2
#include "cpu/conv_direct_impl.h"
