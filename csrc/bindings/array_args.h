// Small argument helpers shared by the bindings: shapes as vectors, float32 arrays of an exact
// shape, the gradient-output convention, raw pointers, and Python ints / int pairs (torch's
// _pair) for geometry arguments. Bindings only (pybind11).
#pragma once
#include "bindings/checks.h"

#include <cstdint>
#include <string>
#include <utility>
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

// A float32 array of exactly `shape` (C-contiguous, copied when it was not; the shape is checked
// before any copy, which is size-checked: a broadcast view may stand for terabytes).
inline py::array float_of_shape(const py::handle& obj, const char* name, const Shape& shape,
                                const std::string& what) {
    const py::array a = require_float32(obj, name, -1);
    if (shape_of(a) != shape)
        throw py::value_error(std::string(name) + " must have shape " + dims_str(shape) + what +
                              ", got " + shape_str(a));
    return contiguous_copy(a, name);
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

inline float* mptr_or_null(const py::object& o) {
    return o.is_none() ? nullptr : static_cast<float*>(o.cast<py::array>().mutable_data());
}

// A gradient output `name` of `shape`: None allocates (accumulate then needs one), else a
// float32 C-contiguous array of that shape (the activation convention).
inline py::array grad_out(const py::object& obj, const char* name, const Shape& shape,
                          bool accumulate) {
    if (accumulate && obj.is_none())
        throw py::value_error(std::string("accumulate=True needs ") + name +
                              "= (the gradient to add to)");
    return output_of_shape(obj, name, shape);
}

inline py::array grad_out(const py::object& dinp, const py::array& like, bool accumulate) {
    return grad_out(dinp, "dinp", shape_of(like), accumulate);
}

// A Python int (not a bool) or anything with __index__ (NumPy integers).
inline bool is_int(const py::handle& o) {
    return !py::isinstance<py::bool_>(o) && PyIndex_Check(o.ptr());
}

// An int-like object as int64; ValueError naming `what` when it does not fit.
inline int64_t as_i64(const py::handle& o, const std::string& what) {
    const py::int_ i(py::reinterpret_borrow<py::object>(o));
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (overflow != 0) throw py::value_error(what + " is too large: " + std::string(py::str(i)));
    return static_cast<int64_t>(v);
}

inline std::string pair_str(int64_t a, int64_t b) {
    return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

// torch's _pair: an int, or a sequence of one or two ints, as (a, b); TypeError / ValueError
// naming `what`. None or an empty sequence gives *dflt where there is one (pooling's stride).
inline std::pair<int64_t, int64_t> int_pair(const py::handle& obj, const std::string& what,
                                            const std::pair<int64_t, int64_t>* dflt = nullptr) {
    if (dflt && obj.is_none()) return *dflt;
    if (is_int(obj)) {
        const int64_t v = as_i64(obj, what);
        return {v, v};
    }
    const std::string want = what + " must be an int or a pair of ints";
    if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj))
        throw py::type_error(want + ", got " + std::string(py::str(py::repr(obj))));
    const auto seq = py::reinterpret_borrow<py::sequence>(obj);
    if (seq.size() == 0 && dflt) return *dflt;
    if (seq.size() != 1 && seq.size() != 2)
        throw py::value_error(want + ", got " + std::to_string(seq.size()) + " values");
    for (const auto& v : seq)
        if (!is_int(v)) throw py::type_error(want + ", got an element of type " + type_name(v));
    const int64_t a = as_i64(seq[0], what);
    return {a, seq.size() == 2 ? as_i64(seq[1], what) : a};
}

}  // namespace tn::bind
