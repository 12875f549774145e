// Small argument helpers shared by the loss, softmax and dropout bindings: shapes as vectors,
// float32 arrays of an exact shape, the gradient-output convention. Bindings only (pybind11).
#pragma once
#include "bindings/checks.h"

#include <string>
#include <vector>

namespace tn::bind {

using Shape = std::vector<py::ssize_t>;

inline Shape shape_of(const py::array& a) { return Shape(a.shape(), a.shape() + a.ndim()); }

inline std::string dims_str(const Shape& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
}

inline std::string type_name(const py::handle& obj) {
    return py::str(py::type::handle_of(obj).attr("__name__"));
}

// A float32 array of exactly `shape` (C-contiguous, copied when it was not).
inline py::array float_of_shape(const py::handle& obj, const char* name, const Shape& shape,
                                const std::string& what) {
    py::array a = require_float32_contiguous(obj, name);
    if (shape_of(a) != shape)
        throw py::value_error(std::string(name) + " must have shape " + dims_str(shape) + what +
                              ", got " + shape_str(a));
    return a;
}

// An optional float32 array of `shape`: None stays None.
inline py::object optional_float(const py::object& obj, const char* name, const Shape& shape,
                                 const std::string& what) {
    if (obj.is_none()) return py::none();
    return float_of_shape(obj, name, shape, what);
}

inline const float* fptr(const py::object& o) {
    return o.is_none() ? nullptr : static_cast<const float*>(o.cast<py::array>().data());
}

inline float* mptr(py::array a) { return static_cast<float*>(a.mutable_data()); }
inline const float* cptr(const py::array& a) { return static_cast<const float*>(a.data()); }

// The gradient output: None allocates (accumulate then needs one), else a float32 array of
// `like`'s shape (activation convention).
inline py::array grad_out(const py::object& dinp, const py::array& like, bool accumulate) {
    if (accumulate && dinp.is_none())
        throw py::value_error("accumulate=True needs dinp= (the gradient to add to)");
    return output_like(dinp, "dinp", like);
}

}  // namespace tn::bind
