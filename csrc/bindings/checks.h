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

// The same, returned C-contiguous (a copy when it was not): for kernels on flat buffers.
py::array require_float32_contiguous(const py::handle& obj, const char* name);

// An optional output: None allocates a C-contiguous float32 array of `like`'s shape; otherwise it
// must be a writeable C-contiguous float32 array of that shape (ValueError naming `name`).
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
