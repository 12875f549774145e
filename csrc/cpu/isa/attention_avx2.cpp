// The flash-attention row operations (cpu/attention_impl.h) compiled with the AVX2 flags as
// tn::avx2.
#define TN_ISA_NS avx2
#include "cpu/attention_impl.h"
