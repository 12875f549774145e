// Layer normalisation's row loops (cpu/layer_norm_impl.h) compiled with the AVX2 flags as
// tn::avx2.
#define TN_ISA_NS avx2
#include "cpu/layer_norm_impl.h"
