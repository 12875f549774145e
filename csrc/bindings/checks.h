// Argument checks shared by every binding: each failure raises TypeError/ValueError whose message
// names the argument and says what was expected. Only bindings include pybind11.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tn::bind {

namespace py = pybind11;

std::string shape_str(const py::array& a);

// `obj` must be a NumPy ndarray of native-endian float32 with `ndim` dimensions (any when ndim
// is -1) and strides that are whole elements; returns it as an array. Raises TypeError /
// ValueError naming `name`.
py::array require_float32(const py::handle& obj, const char* name, int ndim);

// The same, returned C-contiguous (a copy when it was not): for kernels on flat buffers. The copy
// is size-checked first (check_alloc): a broadcast view may describe terabytes.
py::array require_float32_contiguous(const py::handle& obj, const char* name);

// Raises MemoryError naming `name` when an array of `shape` with `itemsize`-byte elements cannot
// be allocated: its byte count overflows, or exceeds the machine's physical memory (a larger
// allocation may succeed under overcommit and then get the process killed as it is written).
// Call it before allocating an output or copying an input whose size comes from the caller.
void check_alloc(const char* name, const std::vector<py::ssize_t>& shape,
                 std::size_t itemsize = sizeof(float));

// Raises MemoryError with `msg` (pybind11 has no exception class for it).
[[noreturn]] void throw_memory_error(const std::string& msg);

// NumPy's NPY_ARRAY_ALIGNED, for py::array::ensure / array_t flags (pybind11 has no name for it):
// ensure() copies a misaligned array instead of handing kernels a misaligned pointer.
constexpr int npy_aligned = 0x0100;

// `a` itself when it has the NumPy `flags` (c_style, npy_aligned), else a copy that has them,
// size-checked first (check_alloc). Use it instead of py::array::ensure, which returns a null
// array when NumPy fails (the error cleared) and so crashed the kernel it was passed to.
py::array ensure_flags(const py::array& a, const char* name, int flags);

// `a` C-contiguous: itself, or a size-checked copy (ensure_flags).
inline py::array contiguous_copy(const py::array& a, const char* name) {
    return ensure_flags(a, name, py::array::c_style);
}

// a * b for sizes (>= 0), or MemoryError naming `what` when the product overflows int64.
int64_t checked_mul(int64_t a, int64_t b, const std::string& what);

// An optional output: None allocates a C-contiguous float32 array of `like`'s shape (MemoryError
// naming `name` when it cannot: check_alloc); otherwise it must be a writeable, aligned,
// C-contiguous float32 array of that shape (ValueError naming `name`).
py::array output_like(const py::object& obj, const char* name, const py::array& like);

// The same for an output of `shape` (no array is built to describe the shape: a temporary of the
// output's size made the result come from fresh, page-faulting memory: +25% at 256x1024).
py::array output_of_shape(const py::object& obj, const char* name,
                          const std::vector<py::ssize_t>& shape);

// Strides of `a` in elements (checked to be whole elements by require_float32).
std::vector<int64_t> elem_strides(const py::array& a);

bool is_c_contiguous(const py::array& a);

bool same_shape(const py::array& a, const py::array& b);

// The `variant` argument of kernels that have a plain-loop reference: None runs the fast kernel,
// "ref" the reference; anything else raises ValueError.
bool wants_reference(const py::object& variant);

// True when the memory spans of the two arrays overlap (an in-place output aliasing an input).
bool may_overlap(const py::array& a, const py::array& b);

}  // namespace tn::bind
