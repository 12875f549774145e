// The recurrent timestep's elementwise kernels (cpu/rnn_impl.h) compiled with the AVX2 flags as
// tn::avx2.
#define TN_ISA_NS avx2
#include "cpu/rnn_impl.h"
