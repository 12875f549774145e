// CPU feature detection (CPUID + XGETBV: the OS must also save the wider registers).
// Read once; dispatch.cpp decides which kernel variant runs from these flags.
#pragma once

namespace tn {

struct CpuFeatures {
    bool avx2 = false;     // AVX2 + FMA3, with YMM state enabled by the OS
    bool avx512 = false;   // AVX-512 F/VL/DQ/BW, with ZMM and opmask state enabled by the OS
};

const CpuFeatures& cpu_features();

}  // namespace tn
