// Python bindings of max_pool2d and avg_pool2d, forward and backward, on (N, C, H, W) or
// unbatched (C, H, W) float32 arrays. Geometry is checked here with torch's rules (messages name
// the argument); max pooling returns its argmax as int32 positions in the input plane.
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/pool.h"
#include "ref/ref.h"

#include <cstdint>
#include <limits>
#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

namespace tn::bind {
namespace {

using Pair = std::pair<int64_t, int64_t>;  // (h, w)

std::string pair_str(const Pair& p) { return tn::bind::pair_str(p.first, p.second); }

// Checks a pooled input's shape (named `name`) and fills planes, H, W.
void check_input_shape(const Shape& s, const char* name, Pool2d& g) {
    if (s.size() != 3 && s.size() != 4)
        throw py::value_error(std::string(name) +
                              " must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape " +
                              dims_str(s));
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] < 0 || (s[i] == 0 && i + 3 >= s.size()))
            throw py::value_error(std::string(name) +
                                  " must have sizes >= 0 and non-zero C, H and W (only the batch may be 0), "
                                  "got shape " + dims_str(s));
    g.H = s[s.size() - 2];
    g.W = s[s.size() - 1];
    const int64_t max32 = std::numeric_limits<int32_t>::max();
    if (g.H > max32 || g.W > max32 || g.H * g.W > max32)
        throw py::value_error(std::string(name) + " planes of more than 2^31 - 1 elements are "
                              "not supported (int32 indices), got shape " + dims_str(s));
    g.planes = checked_mul(s[s.size() - 3], s.size() == 4 ? s[0] : 1, name);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// torch's pooling_output_shape: with ceil_mode the last window must still start inside the
// input or its left padding.
int64_t out_size(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
    int64_t o = floor_div(n + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0), s) + 1;
    if (ceil_mode && (o - 1) * s >= n + p) --o;
    return o;
}

// True when one of the n_out windows along an axis of n inputs has no input element: a window
// starting in the left padding whose dilated taps skip over the whole input (n = 1, kernel 2,
// padding 1, dilation 2 reads -1 and 1). Only windows starting before 0 can be empty.
bool empty_window(int64_t n, int64_t n_out, int64_t k, int64_t s, int64_t p, int64_t d) {
    for (int64_t o = 0; o < n_out && o * s < p; ++o) {
        const int64_t start = o * s - p;
        const int64_t skip = (-start + d - 1) / d;  // taps in the padding
        if (skip >= k || start + skip * d >= n) return true;
    }
    return false;
}

// The whole geometry from the input's shape and the arguments (dilation 1 for avg).
Pool2d geometry(const Shape& in, const char* in_name, const py::handle& kernel,
                const py::handle& stride, const py::handle& padding, const py::handle* dilation,
                bool ceil_mode) {
    Pool2d g{};
    check_input_shape(in, in_name, g);
    // Each geometry argument below 2**31 (as conv2d's) keeps n + 2 * p - d * (k - 1) in int64.
    const auto bounded = [](const Pair& v, const char* what) {
        constexpr int64_t kMax = int64_t(1) << 31;
        if (v.first >= kMax || v.second >= kMax)
            throw py::value_error(std::string(what) + " " + pair_str(v) +
                                  " is too large (each must be below 2**31)");
        return v;
    };
    const Pair k = bounded(int_pair(kernel, "kernel_size"), "kernel_size");
    if (k.first <= 0 || k.second <= 0)
        throw py::value_error("kernel_size must be greater than zero, got " + pair_str(k));
    const Pair s = bounded(int_pair(stride, "stride", &k), "stride");
    if (s.first <= 0 || s.second <= 0)
        throw py::value_error("stride must be greater than zero, got " + pair_str(s));
    const Pair p = int_pair(padding, "padding");
    if (p.first < 0 || p.second < 0)
        throw py::value_error("padding must be non-negative, got " + pair_str(p));
    if (p.first > k.first / 2 || p.second > k.second / 2)
        throw py::value_error("padding should be at most half of kernel_size, got padding=" +
                              pair_str(p) + " and kernel_size=" + pair_str(k));
    const Pair d = dilation ? bounded(int_pair(*dilation, "dilation"), "dilation") : Pair{1, 1};
    if (d.first <= 0 || d.second <= 0)
        throw py::value_error("dilation must be greater than zero, got " + pair_str(d));
    std::tie(g.kh, g.kw) = k;
    std::tie(g.sh, g.sw) = s;
    std::tie(g.ph, g.pw) = p;
    std::tie(g.dh, g.dw) = d;
    g.OH = out_size(g.H, g.kh, g.sh, g.ph, g.dh, ceil_mode);
    g.OW = out_size(g.W, g.kw, g.sw, g.pw, g.dw, ceil_mode);
    if (g.OH < 1 || g.OW < 1)
        throw py::value_error(std::string("output size is too small: ") + in_name + " (H, W) = " +
                              pair_str({g.H, g.W}) + " gives output (H, W) = " +
                              pair_str({g.OH, g.OW}) + " for kernel_size=" + pair_str(k) +
                              ", padding=" + pair_str(p) + ", dilation=" + pair_str(d));
    // The kernels give such a window -inf and an index past its plane (or into another row),
    // which max_pool2d_backward rejects or, worse, sends a gradient through.
    if (empty_window(g.H, g.OH, g.kh, g.sh, g.ph, g.dh) ||
        empty_window(g.W, g.OW, g.kw, g.sw, g.pw, g.dw))
        throw py::value_error("dilation=" + pair_str(d) + " and padding=" + pair_str(p) +
                              " leave a pooling window of " + in_name + " (H, W) = " +
                              pair_str({g.H, g.W}) + " with no input element in it");
    return g;
}

Shape out_shape(const Shape& in, const Pool2d& g) {
    Shape s(in.begin(), in.end() - 2);
    s.push_back(g.OH);
    s.push_back(g.OW);
    return s;
}

Shape shape_arg(const py::handle& obj, const char* name) {
    if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj))
        throw py::type_error(std::string(name) + " must be a tuple of ints, got " + type_name(obj));
    Shape s;
    for (const auto& v : py::reinterpret_borrow<py::sequence>(obj)) {
        if (!is_int(v))
            throw py::type_error(std::string(name) + " must be a tuple of ints, got an element "
                                 "of type " + type_name(v));
        s.push_back(as_i64(v, name));
    }
    return s;
}

int64_t divisor_arg(const py::object& obj) {
    if (obj.is_none()) return 0;
    if (!is_int(obj))
        throw py::type_error("divisor_override must be an int or None, got " + type_name(obj));
    const int64_t v = as_i64(obj, "divisor_override");
    if (v == 0) throw py::value_error("divisor_override must be non-zero");
    return v;
}

void check_no_overlap(const py::array& out, const py::array& x) {
    if (may_overlap(out, x)) throw py::value_error("out must not overlap x");
}

// ------------------------------------------------------------------------------ max pooling

py::tuple max_fwd(const py::handle& x_obj, const py::handle& kernel, const py::handle& stride,
                  const py::handle& padding, const py::handle& dilation, bool ceil_mode,
                  const py::object& out_obj, const py::object& variant) {
    py::array x = require_float32(x_obj, "x", -1);
    const Shape in = shape_of(x);
    const Pool2d g = geometry(in, "x", kernel, stride, padding, &dilation, ceil_mode);
    const Shape os = out_shape(in, g);
    if (out_obj.is_none()) check_alloc("out", os);
    check_alloc("indices", os);
    x = contiguous_copy(x, "x");
    py::array out = output_of_shape(out_obj, "out", os);
    check_no_overlap(out, x);
    py::array_t<int32_t> indices(os);
    const auto f = wants_reference(variant) ? ref::max_pool2d_forward : max_pool2d_forward;
    const float* xp = cptr(x);
    float* op = mptr(out);
    int32_t* ip = indices.mutable_data();
    {
        py::gil_scoped_release nogil;
        f(op, ip, xp, g);
    }
    return py::make_tuple(out, indices);
}

py::array max_bwd(const py::handle& dout_obj, const py::handle& ind_obj,
                  const py::handle& shape_obj, const py::object& dinp_obj, bool accumulate,
                  const py::object& variant) {
    const Shape in = shape_arg(shape_obj, "input_shape");
    Pool2d g{};
    check_input_shape(in, "input_shape", g);
    py::array dout = require_float32(dout_obj, "dout", -1);
    const Shape ds = shape_of(dout);
    if (ds.size() != in.size() || !std::equal(in.begin(), in.end() - 2, ds.begin()))
        throw py::value_error("dout must have input_shape's leading dimensions " + dims_str(in) +
                              " with the pooled H, W, got shape " + dims_str(ds));
    g.OH = ds[ds.size() - 2];
    g.OW = ds[ds.size() - 1];
    if (!py::isinstance<py::array>(ind_obj))
        throw py::type_error("indices must be the numpy.ndarray of int32 from "
                             "max_pool2d_forward, got " + type_name(ind_obj));
    py::array ind = py::reinterpret_borrow<py::array>(ind_obj);
    if (!ind.dtype().equal(py::dtype::of<int32_t>()))
        throw py::type_error("indices must have dtype int32 (from max_pool2d_forward), got " +
                             std::string(py::str(ind.dtype())));
    if (shape_of(ind) != ds)
        throw py::value_error("indices must have dout's shape " + dims_str(ds) + ", got " +
                              shape_str(ind));
    if (dinp_obj.is_none()) check_alloc("dinp", in);
    dout = contiguous_copy(dout, "dout");
    // A misaligned view is copied too (the min/max scan below reads int32s).
    ind = ensure_flags(ind, "indices", py::array::c_style | npy_aligned);
    py::array dinp = grad_out(dinp_obj, "dinp", in, accumulate);
    const auto* ip = static_cast<const int32_t*>(ind.data());
    const int64_t n = ind.size(), limit = g.H * g.W;
    int32_t lo = 0, hi = 0;
    {
        py::gil_scoped_release nogil;
        // A branch-free min/max the compiler vectorises; the culprit is looked up only on error.
        for (int64_t i = 0; i < n; ++i) {
            lo = std::min(lo, ip[i]);
            hi = std::max(hi, ip[i]);
        }
    }
    if (lo < 0 || hi >= limit) {
        const int32_t* bad = std::find_if(ip, ip + n, [&](int32_t v) { return v < 0 || v >= limit; });
        throw py::index_error("indices must lie in [0, H*W) = [0, " + std::to_string(limit) +
                              "), got " + std::to_string(*bad));
    }
    const auto f = wants_reference(variant) ? ref::max_pool2d_backward : max_pool2d_backward;
    const float* gp = cptr(dout);
    float* dp = mptr(dinp);
    {
        py::gil_scoped_release nogil;
        f(dp, gp, ip, g, accumulate);
    }
    return dinp;
}

// ------------------------------------------------------------------------------ avg pooling

py::array avg_fwd(const py::handle& x_obj, const py::handle& kernel, const py::handle& stride,
                  const py::handle& padding, bool ceil_mode, bool count_include_pad,
                  const py::object& divisor_override, const py::object& out_obj,
                  const py::object& variant) {
    py::array x = require_float32(x_obj, "x", -1);
    const Shape in = shape_of(x);
    const Pool2d g = geometry(in, "x", kernel, stride, padding, nullptr, ceil_mode);
    const int64_t div = divisor_arg(divisor_override);
    if (out_obj.is_none()) check_alloc("out", out_shape(in, g));
    x = contiguous_copy(x, "x");
    py::array out = output_of_shape(out_obj, "out", out_shape(in, g));
    check_no_overlap(out, x);
    const auto f = wants_reference(variant) ? ref::avg_pool2d_forward : avg_pool2d_forward;
    const float* xp = cptr(x);
    float* op = mptr(out);
    {
        py::gil_scoped_release nogil;
        f(op, xp, g, count_include_pad, div);
    }
    return out;
}

py::array avg_bwd(const py::handle& dout_obj, const py::handle& shape_obj,
                  const py::handle& kernel, const py::handle& stride, const py::handle& padding,
                  bool ceil_mode, bool count_include_pad, const py::object& divisor_override,
                  const py::object& dinp_obj, bool accumulate, const py::object& variant) {
    const Shape in = shape_arg(shape_obj, "input_shape");
    const Pool2d g = geometry(in, "input_shape", kernel, stride, padding, nullptr, ceil_mode);
    const int64_t div = divisor_arg(divisor_override);
    const py::array dout =
        float_of_shape(dout_obj, "dout", out_shape(in, g), " (the pooled shape)");
    py::array dinp = grad_out(dinp_obj, "dinp", in, accumulate);
    const auto f = wants_reference(variant) ? ref::avg_pool2d_backward : avg_pool2d_backward;
    const float* gp = cptr(dout);
    float* dp = mptr(dinp);
    {
        py::gil_scoped_release nogil;
        f(dp, gp, g, count_include_pad, div, accumulate);
    }
    return dinp;
}

}  // namespace

void bind_pool(py::module_& m) {
    const auto none = py::none();
    m.def("max_pool2d_forward", &max_fwd, py::arg("x"), py::arg("kernel_size"),
          py::arg("stride") = none, py::arg("padding") = 0, py::arg("dilation") = 1,
          py::arg("ceil_mode") = false, py::arg("out") = none, py::arg("variant") = none,
          "(out, indices): window maxima and their int32 positions h * W + w in the input plane.");
    m.def("max_pool2d_backward", &max_bwd, py::arg("dout"), py::arg("indices"),
          py::arg("input_shape"), py::arg("dinp") = none, py::arg("accumulate") = false,
          py::arg("variant") = none, "dinp: each dout added to the input its index names.");
    m.def("avg_pool2d_forward", &avg_fwd, py::arg("x"), py::arg("kernel_size"),
          py::arg("stride") = none, py::arg("padding") = 0, py::arg("ceil_mode") = false,
          py::arg("count_include_pad") = true, py::arg("divisor_override") = none,
          py::arg("out") = none, py::arg("variant") = none, "Window means, as torch's avg_pool2d.");
    m.def("avg_pool2d_backward", &avg_bwd, py::arg("dout"), py::arg("input_shape"),
          py::arg("kernel_size"), py::arg("stride") = none, py::arg("padding") = 0,
          py::arg("ceil_mode") = false, py::arg("count_include_pad") = true,
          py::arg("divisor_override") = none, py::arg("dinp") = none,
          py::arg("accumulate") = false, py::arg("variant") = none,
          "dinp: each dout divided by its window's divisor, added over the window.");
}

}  // namespace tn::bind
