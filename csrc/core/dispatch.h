// Run-time choice of the kernel variant (generic / avx2 / avx512): the reference is registered
// first, then each fast variant the CPU supports overrides it. TURBONN_CPU forces one variant.
#pragma once
#include <string>
#include <vector>

namespace tn {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);
bool isa_supported(Isa isa);            // by this CPU and this build
std::vector<Isa> supported_isas();
Isa best_isa();

// The variant in use. The first call reads TURBONN_CPU; a bad value throws std::invalid_argument.
Isa active_isa();
// Parses a name ("generic", "avx2", "avx512"); throws std::invalid_argument on an unknown or
// unsupported one. Used by TURBONN_CPU and by the tests' private setter.
Isa parse_isa(const std::string& name, const char* what);
void set_active_isa(Isa isa);

// The table of kernels for the active variant, for kernel families compiled once per variant
// (activation_impl.h, pool_impl.h, ...; TN_ISA_TABLE below). Variants this build lacks fall back
// to generic.
template <typename Table>
const Table& table_for_active_isa(const Table& (*generic)(), const Table& (*avx2)(),
                                  const Table& (*avx512)()) {
    switch (active_isa()) {
        case Isa::avx512: return avx512 ? avx512() : generic();
        case Isa::avx2: return avx2 ? avx2() : generic();
        default: return generic();
    }
}

}  // namespace tn

// For a family compiled once per variant from <family>_impl.h, which defines `const Table& fn()`
// in tn::generic, tn::avx2 and tn::avx512: declares the x86 ones and defines, in an anonymous
// namespace, `const Table& table()`, the table of active_isa()'s variant. Use inside namespace tn,
// after including the impl header as tn::generic.
#ifdef TURBONN_HAVE_X86_KERNELS
#define TN_ISA_TABLE(Table, fn)                                                         \
    namespace avx2 {                                                                    \
    const Table& fn();                                                                  \
    }                                                                                   \
    namespace avx512 {                                                                  \
    const Table& fn();                                                                  \
    }                                                                                   \
    namespace {                                                                         \
    const Table& table() { return table_for_active_isa(&generic::fn, &avx2::fn, &avx512::fn); } \
    }
#else
#define TN_ISA_TABLE(Table, fn)                                                         \
    namespace {                                                                         \
    const Table& table() { return table_for_active_isa<Table>(&generic::fn, nullptr, nullptr); } \
    }
#endif
