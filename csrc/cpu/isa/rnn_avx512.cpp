// The recurrent timestep's elementwise kernels (cpu/rnn_impl.h) compiled with the AVX512 flags as
// tn::avx512.
#define TN_ISA_NS avx512
#include "cpu/rnn_impl.h"
