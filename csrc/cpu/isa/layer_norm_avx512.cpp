// Layer normalisation's row loops (cpu/layer_norm_impl.h) compiled with the AVX-512 flags as
// tn::avx512.
#define TN_ISA_NS avx512
#include "cpu/layer_norm_impl.h"
