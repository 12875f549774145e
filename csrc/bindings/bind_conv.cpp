// Python bindings of conv2d: conv2d_forward/conv2d_backward (NCHW float32, per-axis stride,
// padding, dilation, groups; variant="ref" runs the plain-loop reference) and im2col/col2im.
// Every check happens here, before the GIL is released; kernels get contiguous arrays.
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/conv.h"
#include "ref/ref.h"

#include <algorithm>
#include <string>
#include <utility>

namespace tn::bind {
namespace {

// An int or a pair of ints (int_pair), each >= lo; TypeError/ValueError naming `name`.
std::pair<int64_t, int64_t> pair_arg(const py::handle& o, const char* fn, const char* name,
                                     int64_t lo) {
    const auto [a, b] = int_pair(o, std::string(fn) + ": " + name);
    if (a < lo || b < lo)
        throw py::value_error(std::string(fn) + ": " + name + " must be " +
                              (lo > 0 ? "positive" : "non-negative") + ", got " + pair_str(a, b));
    // Keeps every size computed from them (H + 2 * padding, dilation * (k - 1)) far from overflow.
    constexpr int64_t kMax = int64_t(1) << 31;
    if (a >= kMax || b >= kMax)
        throw py::value_error(std::string(fn) + ": " + name + " " + pair_str(a, b) +
                              " is too large (each must be below 2**31)");
    return {a, b};
}

int64_t groups_arg(const py::handle& o, const char* fn) {
    if (!is_int(o))
        throw py::type_error(std::string(fn) + ": groups must be an int, got " +
                             std::string(py::str(py::repr(o))));
    const int64_t g = as_i64(o, std::string(fn) + ": groups");
    if (g < 1)
        throw py::value_error(std::string(fn) + ": groups must be positive, got " +
                              std::to_string(g));
    return g;
}

// Fills the geometry part of d (kernel, stride, padding, dilation) and the output size; raises
// when the dilated kernel does not fit the padded input.
void geometry(ConvDims& d, const char* fn, const py::handle& stride, const py::handle& padding,
              const py::handle& dilation) {
    std::tie(d.SH, d.SW) = pair_arg(stride, fn, "stride", 1);
    std::tie(d.PH, d.PW) = pair_arg(padding, fn, "padding", 0);
    std::tie(d.DH, d.DW) = pair_arg(dilation, fn, "dilation", 1);
    const int64_t eh = d.DH * (d.KH - 1) + 1, ew = d.DW * (d.KW - 1) + 1;
    if (d.H + 2 * d.PH < eh || d.W + 2 * d.PW < ew)
        throw py::value_error(std::string(fn) + ": kernel size " + pair_str(d.KH, d.KW) +
                              " (dilated " + pair_str(eh, ew) + ") is larger than the padded "
                              "input " + pair_str(d.H + 2 * d.PH, d.W + 2 * d.PW) +
                              ": the output would be empty");
    d.OH = conv_out_size(d.H, d.KH, d.SH, d.PH, d.DH);
    d.OW = conv_out_size(d.W, d.KW, d.SW, d.PW, d.DW);
    // The kernels' per-image sizes (O * OH * OW, C * kH * kW * OH * OW) must fit in int64 even
    // for an empty batch (huge padding on an (0, C, H, W) input).
    const std::string what = std::string(fn) + ": the per-image output / im2col size";
    const int64_t plane = checked_mul(d.OH, d.OW, what);
    checked_mul(checked_mul(checked_mul(std::max<int64_t>(d.C, d.O), d.KH, what), d.KW, what),
                plane, what);
}

// The (N, C*kH*kW, OH*OW) im2col matrix's shape, each product checked for overflow.
Shape cols_shape(const ConvDims& d) {
    const int64_t ckk = checked_mul(checked_mul(d.C, d.KH, "cols"), d.KW, "cols");
    return Shape{d.N, ckk, checked_mul(d.OH, d.OW, "cols")};
}

// Checks x (N, C, H, W) and weight (O, C/groups, KH, KW) and fills everything in d.
ConvDims conv_dims(const char* fn, py::array& x, py::array& w, const py::handle& x_obj,
                   const py::handle& w_obj, const py::handle& stride, const py::handle& padding,
                   const py::handle& dilation, const py::handle& groups) {
    x = require_float32(x_obj, "x", -1);
    if (x.ndim() != 4)
        throw py::value_error(std::string(fn) + ": x must be 4-D (N, C, H, W), got shape " +
                              shape_str(x));
    w = require_float32(w_obj, "weight", -1);
    if (w.ndim() != 4)
        throw py::value_error(std::string(fn) + ": weight must be 4-D (out_channels, "
                              "in_channels / groups, kH, kW), got shape " + shape_str(w));
    ConvDims d{};
    d.N = x.shape(0), d.C = x.shape(1), d.H = x.shape(2), d.W = x.shape(3);
    d.O = w.shape(0), d.KH = w.shape(2), d.KW = w.shape(3);
    d.G = groups_arg(groups, fn);
    if (d.C % d.G != 0 || d.O % d.G != 0)
        throw py::value_error(std::string(fn) + ": groups=" + std::to_string(d.G) +
                              " must divide x's channels (" + std::to_string(d.C) +
                              ") and weight's out_channels (" + std::to_string(d.O) + ")");
    if (w.shape(1) != d.C / d.G)  // (not w.shape(1) * G: that can overflow)
        throw py::value_error(std::string(fn) + ": x " + shape_str(x) + " has " +
                              std::to_string(d.C) + " channels but weight " + shape_str(w) +
                              " expects weight.shape[1] * groups = " +
                              std::to_string(w.shape(1)) + " * " + std::to_string(d.G) +
                              " (weight must be (out_channels, "
                              "x.shape[1] / groups, kH, kW))");
    if (d.KH < 1 || d.KW < 1)
        throw py::value_error(std::string(fn) + ": weight's kernel size must be positive, got " +
                              shape_str(w));
    if (d.KH >= (int64_t(1) << 31) || d.KW >= (int64_t(1) << 31))
        throw py::value_error(std::string(fn) + ": weight's kernel size is too large (each must "
                              "be below 2**31), got " + shape_str(w));
    geometry(d, fn, stride, padding, dilation);
    x = contiguous_copy(x, "x");
    w = contiguous_copy(w, "weight");
    return d;
}

py::array forward(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj,
                  const py::handle& stride, const py::handle& padding, const py::handle& dilation,
                  const py::object& out_obj, const py::object& variant, const py::handle& groups) {
    py::array x, w, b;
    const ConvDims d = conv_dims("conv2d", x, w, x_obj, w_obj, stride, padding, dilation, groups);
    const bool has_bias = !b_obj.is_none();
    if (has_bias) {
        b = require_float32_contiguous(b_obj, "bias");
        if (b.ndim() != 1 || b.shape(0) != d.O)
            throw py::value_error("conv2d: bias must have shape (" + std::to_string(d.O) +
                                  ",) = (out_channels,), got " + shape_str(b));
    }
    py::array out = output_of_shape(out_obj, "out", {d.N, d.O, d.OH, d.OW});
    if (may_overlap(out, x) || may_overlap(out, w) || (has_bias && may_overlap(out, b)))
        throw py::value_error("conv2d: out must not overlap x, weight or bias");
    const auto fn = wants_reference(variant) ? ref::conv2d_forward : conv2d_forward;
    const float *xp = cptr(x), *wp = cptr(w), *bp = has_bias ? cptr(b) : nullptr;
    float* op = static_cast<float*>(out.mutable_data());
    {
        py::gil_scoped_release nogil;
        fn(op, xp, wp, bp, d);
    }
    return out;
}

py::tuple backward(const py::handle& dout_obj, const py::handle& x_obj, const py::handle& w_obj,
                   const py::handle& stride, const py::handle& padding,
                   const py::handle& dilation, bool need_dx, bool need_dw, bool need_db,
                   const py::object& variant, const py::handle& groups) {
    const py::array dout0 = require_float32(dout_obj, "dout", -1);
    py::array x, w;
    const ConvDims d =
        conv_dims("conv2d_backward", x, w, x_obj, w_obj, stride, padding, dilation, groups);
    if (dout0.ndim() != 4 || dout0.shape(0) != d.N || dout0.shape(1) != d.O ||
        dout0.shape(2) != d.OH || dout0.shape(3) != d.OW)
        throw py::value_error("conv2d_backward: dout must have the output's shape (" +
                              std::to_string(d.N) + ", " + std::to_string(d.O) + ", " +
                              std::to_string(d.OH) + ", " + std::to_string(d.OW) + "), got " +
                              shape_str(dout0));
    const py::array dout = contiguous_copy(dout0, "dout");
    if (need_dx) check_alloc("dinput", shape_of(x));
    if (need_dw) check_alloc("dweight", shape_of(w));
    py::object dx = py::none(), dw = py::none(), db = py::none();
    if (need_dx) dx = py::array_t<float>(std::vector<py::ssize_t>{d.N, d.C, d.H, d.W});
    if (need_dw)
        dw = py::array_t<float>(std::vector<py::ssize_t>{d.O, d.C / d.G, d.KH, d.KW});
    if (need_db) db = py::array_t<float>(std::vector<py::ssize_t>{d.O});
    const auto fn = wants_reference(variant) ? ref::conv2d_backward : conv2d_backward;
    const float *gp = cptr(dout), *xp = cptr(x), *wp = cptr(w);
    float *dxp = mptr_or_null(dx), *dwp = mptr_or_null(dw), *dbp = mptr_or_null(db);
    {
        py::gil_scoped_release nogil;
        fn(dxp, dwp, dbp, gp, xp, wp, d);
    }
    return py::make_tuple(dx, dw, db);
}

std::pair<int64_t, int64_t> kernel_arg(const py::handle& k, const char* fn) {
    return pair_arg(k, fn, "kernel_size", 1);
}

py::array im2col_py(const py::handle& x_obj, const py::handle& kernel, const py::handle& stride,
                    const py::handle& padding, const py::handle& dilation) {
    py::array x = require_float32(x_obj, "x", -1);
    if (x.ndim() != 4)
        throw py::value_error("im2col: x must be 4-D (N, C, H, W), got shape " + shape_str(x));
    ConvDims d{};
    d.N = x.shape(0), d.C = x.shape(1), d.H = x.shape(2), d.W = x.shape(3), d.G = 1;
    std::tie(d.KH, d.KW) = kernel_arg(kernel, "im2col");
    geometry(d, "im2col", stride, padding, dilation);
    const Shape cs = cols_shape(d);
    check_alloc("cols", cs);
    x = contiguous_copy(x, "x");
    py::array cols = py::array_t<float>(cs);
    const float* xp = cptr(x);
    float* cp = static_cast<float*>(cols.mutable_data());
    {
        py::gil_scoped_release nogil;
        im2col(cp, xp, d);
    }
    return cols;
}

py::array col2im_py(const py::handle& cols_obj, const py::handle& shape,
                    const py::handle& kernel, const py::handle& stride,
                    const py::handle& padding, const py::handle& dilation) {
    py::array cols = require_float32(cols_obj, "cols", -1);
    if (!py::isinstance<py::sequence>(shape) || py::len(shape) != 4)
        throw py::type_error("col2im: input_shape must be a sequence (N, C, H, W), got " +
                             std::string(py::str(py::repr(shape))));
    int64_t s[4];
    for (int i = 0; i < 4; ++i) {
        if (!is_int(shape[py::int_(i)]))
            throw py::type_error("col2im: input_shape must hold ints, got " +
                                 std::string(py::str(py::repr(shape))));
        s[i] = as_i64(shape[py::int_(i)], "col2im: input_shape");
        if (s[i] < 0 || s[i] >= (int64_t(1) << 62))
            throw py::value_error("col2im: input_shape must be non-negative and below 2**62, got " +
                                  std::string(py::str(py::repr(shape))));
    }
    ConvDims d{};
    d.N = s[0], d.C = s[1], d.H = s[2], d.W = s[3], d.G = 1;
    std::tie(d.KH, d.KW) = kernel_arg(kernel, "col2im");
    geometry(d, "col2im", stride, padding, dilation);
    const Shape cs = cols_shape(d);
    if (shape_of(cols) != cs)
        throw py::value_error("col2im: cols must have shape " + dims_str(cs) +
                              " = (N, C*kH*kW, OH*OW), got " + shape_str(cols));
    check_alloc("input_shape", Shape{d.N, d.C, d.H, d.W});
    cols = contiguous_copy(cols, "cols");
    py::array dx = py::array_t<float>(std::vector<py::ssize_t>{d.N, d.C, d.H, d.W});
    const float* cp = cptr(cols);
    float* xp = static_cast<float*>(dx.mutable_data());
    {
        py::gil_scoped_release nogil;
        col2im(xp, cp, d);
    }
    return dx;
}

}  // namespace

void bind_conv(py::module_& m) {
    m.def("conv2d_forward", &forward, py::arg("x"), py::arg("weight"),
          py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
          py::arg("dilation") = 1, py::arg("out") = py::none(), py::arg("variant") = py::none(),
          py::arg("groups") = 1,
          "conv2d of x (N, C, H, W) with weight (O, C/groups, kH, kW) plus bias (O,) or None.");
    m.def("conv2d_backward", &backward, py::arg("dout"), py::arg("x"), py::arg("weight"),
          py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
          py::arg("need_dinput") = true, py::arg("need_dweight") = true,
          py::arg("need_dbias") = true, py::arg("variant") = py::none(), py::arg("groups") = 1,
          "(dx, dweight, dbias) of conv2d; an unneeded one is None.");
    m.def("im2col", &im2col_py, py::arg("x"), py::arg("kernel_size"), py::arg("stride") = 1,
          py::arg("padding") = 0, py::arg("dilation") = 1,
          "x (N, C, H, W) -> (N, C*kH*kW, OH*OW), torch's unfold.");
    m.def("col2im", &col2im_py, py::arg("cols"), py::arg("input_shape"), py::arg("kernel_size"),
          py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
          "cols (N, C*kH*kW, OH*OW) summed back into (N, C, H, W), torch's fold.");
}

}  // namespace tn::bind
