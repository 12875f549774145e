// Argument checks shared by every binding (see checks.h).
#include "bindings/checks.h"

#include "bindings/array_args.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

namespace tn::bind {

std::string shape_str(const py::array& a) {
    std::ostringstream s;
    s << "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
    if (a.ndim() == 1) s << ",";
    s << ")";
    return s.str();
}

py::array require_float32(const py::handle& obj, const char* name, int ndim) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) + " must be a numpy.ndarray of float32, got " +
                             std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
    py::array a = py::reinterpret_borrow<py::array>(obj);
    const py::dtype dt = a.dtype();
    if (!dt.equal(py::dtype::of<float>())) {  // one C call on the hot path; details on failure
        if (dt.kind() != 'f' || dt.itemsize() != 4)
            throw py::type_error(std::string(name) + " must have dtype float32, got " +
                                 std::string(py::str(dt)));
        throw py::type_error(std::string(name) +
                             " must be native-endian float32, got byte order '" +
                             std::string(py::str(dt.attr("byteorder"))) +
                             "' (use a.astype(numpy.float32))");
    }
    if (ndim >= 0 && a.ndim() != ndim)
        throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) +
                              "-D, got shape " + shape_str(a));
    for (py::ssize_t i = 0; i < a.ndim(); ++i)
        if (a.strides(i) % static_cast<py::ssize_t>(sizeof(float)) != 0)
            throw py::value_error(std::string(name) +
                                  " has strides that are not whole float32 elements "
                                  "(use numpy.ascontiguousarray)");
    if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(float) != 0)
        throw py::value_error(std::string(name) +
                              " is not aligned to float32 (use numpy.ascontiguousarray)");
    return a;
}

void check_alloc(const char* name, const std::vector<py::ssize_t>& shape, std::size_t itemsize) {
    static const uint64_t physical = [] {
        const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page)
                                     : UINT64_MAX;
    }();
    uint64_t bytes = itemsize;
    bool overflow = false;
    for (const py::ssize_t d : shape) {
        if (d == 0) return;  // an empty array allocates nothing, whatever the other dims
        overflow = overflow || d < 0 ||
                   __builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes);
    }
    if (overflow || bytes > physical)
        throw_memory_error(std::string(name) + ": cannot allocate an array of shape " +
                           dims_str(shape) + " (" +
                           (overflow ? std::string("its byte count overflows")
                                     : std::to_string(bytes) + " bytes, more than the " +
                                           std::to_string(physical) + " bytes of memory") +
                           ")");
}

int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        throw_memory_error(what + " would have more than 2**63 elements (" + std::to_string(a) +
                           " * " + std::to_string(b) + ")");
    return r;
}

void throw_memory_error(const std::string& msg) {
    PyErr_SetString(PyExc_MemoryError, msg.c_str());
    throw py::error_already_set();
}

py::array ensure_flags(const py::array& a, const char* name, int flags) {
    if ((a.flags() & flags) == flags) return a;
    check_alloc(name, std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()), a.itemsize());
    py::array c = py::array::ensure(a, flags);
    if (!c)
        throw_memory_error(std::string(name) + ": could not copy it to a C-contiguous array of " +
                           "shape " + shape_str(a));
    return c;
}

py::array require_float32_contiguous(const py::handle& obj, const char* name) {
    return contiguous_copy(require_float32(obj, name, -1), name);
}

py::array output_of_shape(const py::object& obj, const char* name,
                          const std::vector<py::ssize_t>& shape) {
    if (obj.is_none()) {
        check_alloc(name, shape, sizeof(float));
        return py::array_t<float>(shape);
    }
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) + " must be a numpy.ndarray, got " +
                             std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
    py::array out = py::reinterpret_borrow<py::array>(obj);
    if (!out.dtype().equal(py::dtype::of<float>()))
        throw py::value_error(std::string(name) + " must have dtype float32, got " +
                              std::string(py::str(out.dtype())));
    const bool same = out.ndim() == static_cast<py::ssize_t>(shape.size()) &&
                      std::equal(shape.begin(), shape.end(), out.shape());
    if (!same) {
        std::string want = "(";
        for (std::size_t i = 0; i < shape.size(); ++i)
            want += (i ? ", " : "") + std::to_string(shape[i]);
        want += shape.size() == 1 ? ",)" : ")";
        throw py::value_error(std::string(name) + " must have shape " + want + ", got " +
                              shape_str(out));
    }
    if (!is_c_contiguous(out)) throw py::value_error(std::string(name) + " must be C-contiguous");
    if (!out.writeable()) throw py::value_error(std::string(name) + " is read-only");
    if (reinterpret_cast<std::uintptr_t>(out.data()) % alignof(float) != 0)
        throw py::value_error(std::string(name) + " is not aligned to float32");
    return out;
}

py::array output_like(const py::object& obj, const char* name, const py::array& like) {
    return output_of_shape(obj, name,
                           std::vector<py::ssize_t>(like.shape(), like.shape() + like.ndim()));
}

std::vector<int64_t> elem_strides(const py::array& a) {
    std::vector<int64_t> s(a.ndim());
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s[i] = a.strides(i) / static_cast<int64_t>(a.itemsize());
    return s;
}

bool is_c_contiguous(const py::array& a) {
    return (a.flags() & py::array::c_style) != 0;
}

bool same_shape(const py::array& a, const py::array& b) {
    return a.ndim() == b.ndim() && std::equal(a.shape(), a.shape() + a.ndim(), b.shape());
}

bool wants_reference(const py::object& variant) {
    if (variant.is_none()) return false;
    const std::string v = py::str(variant);
    if (v == "ref") return true;
    throw py::value_error("variant must be None or 'ref', got '" + v + "'");
}

namespace {

// Byte range [lo, hi) touched by the array's elements; empty arrays touch nothing.
bool span(const py::array& a, std::uintptr_t& lo, std::uintptr_t& hi) {
    if (a.size() == 0) return false;
    auto base = reinterpret_cast<std::intptr_t>(a.data());
    std::intptr_t l = base, h = base;
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        const std::intptr_t ext = static_cast<std::intptr_t>(a.shape(i) - 1) * a.strides(i);
        (ext < 0 ? l : h) += ext;
    }
    lo = static_cast<std::uintptr_t>(l);
    hi = static_cast<std::uintptr_t>(h) + a.itemsize();
    return true;
}

}  // namespace

bool may_overlap(const py::array& a, const py::array& b) {
    std::uintptr_t alo, ahi, blo, bhi;
    if (!span(a, alo, ahi) || !span(b, blo, bhi)) return false;
    return alo < bhi && blo < ahi;
}

}  // namespace tn::bind
