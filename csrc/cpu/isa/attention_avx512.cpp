// The flash-attention row operations (cpu/attention_impl.h) compiled with the AVX512 flags as
// tn::avx512.
#define TN_ISA_NS avx512
#include "cpu/attention_impl.h"
