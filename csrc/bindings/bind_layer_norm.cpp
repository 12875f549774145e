// Python bindings of layer_norm_forward / layer_norm_backward (torch's F.layer_norm) on float32
// arrays of any shape: the last normalized_ndim dimensions are normalised together (N values per
// row), the leading ones are rows (M). mean and rstd have the leading dims' shape.
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/layer_norm.h"
#include "ref/ref.h"

#include <string>

namespace tn::bind {
namespace {

// input split into rows: lead = input.shape[:-k] (M rows), norm = input.shape[-k:] (N values).
struct Split {
    Shape lead, norm;
    int64_t M = 1, N = 1;

    Split(const py::array& x, const py::handle& k_obj) {
        if (!is_int(k_obj))
            throw py::type_error("normalized_ndim must be an int, got " + type_name(k_obj));
        const int64_t k = as_i64(k_obj, "normalized_ndim");
        if (k < 1 || k > x.ndim())
            throw py::value_error("normalized_ndim must be in [1, input.ndim] = [1, " +
                                  std::to_string(x.ndim()) + "] for input of shape " +
                                  shape_str(x) + ", got " + std::to_string(k));
        const Shape s = shape_of(x);
        lead.assign(s.begin(), s.end() - k);
        norm.assign(s.end() - k, s.end());
        for (auto v : lead) M *= v;
        for (auto v : norm) N *= v;
    }
};

py::tuple ln_fwd(const py::handle& x_obj, const py::handle& k_obj, const py::object& w_obj,
                 const py::object& b_obj, double eps, const py::object& variant) {
    py::array x = require_float32(x_obj, "input", -1);
    const Split sp(x, k_obj);
    const std::string trailing = " (input.shape[-normalized_ndim:])";
    const py::object w = optional_float(w_obj, "weight", sp.norm, trailing);
    const py::object b = optional_float(b_obj, "bias", sp.norm, trailing);
    check_alloc("out", shape_of(x));
    check_alloc("mean", sp.lead);
    x = contiguous_copy(x, "input");
    py::array out = output_of_shape(py::none(), "out", shape_of(x));
    py::array mean = output_of_shape(py::none(), "mean", sp.lead);
    py::array rstd = output_of_shape(py::none(), "rstd", sp.lead);
    const auto f = wants_reference(variant) ? ref::layer_norm_forward : layer_norm_forward;
    const float *xp = cptr(x), *wp = fptr(w), *bp = fptr(b);
    float *op = mptr(out), *mp = mptr(mean), *rp = mptr(rstd);
    const int64_t M = sp.M, N = sp.N;
    {
        py::gil_scoped_release nogil;
        f(op, mp, rp, xp, wp, bp, M, N, eps);
    }
    return py::make_tuple(out, mean, rstd);
}

py::tuple ln_bwd(const py::handle& dout_obj, const py::handle& x_obj, const py::handle& mean_obj,
                 const py::handle& rstd_obj, const py::handle& k_obj, const py::object& w_obj,
                 bool need_dinput, bool need_dweight, bool need_dbias,
                 const py::object& variant) {
    py::array x = require_float32(x_obj, "input", -1);
    const Split sp(x, k_obj);
    const std::string leading = " (input.shape[:-normalized_ndim])";
    // Every shape first, then the (checked) copies.
    const py::array dout0 = require_float32(dout_obj, "dout", -1);
    if (shape_of(dout0) != shape_of(x))
        throw py::value_error("dout must have shape " + shape_str(x) + " (input's shape), got " +
                              shape_str(dout0));
    const py::array mean = float_of_shape(mean_obj, "mean", sp.lead, leading);
    const py::array rstd = float_of_shape(rstd_obj, "rstd", sp.lead, leading);
    const py::object w = optional_float(w_obj, "weight", sp.norm,
                                                " (input.shape[-normalized_ndim:])");
    if (need_dinput) check_alloc("dinput", shape_of(x));
    x = contiguous_copy(x, "input");
    const py::array dout = contiguous_copy(dout0, "dout");
    py::object dx = py::none(), dw = py::none(), db = py::none();
    if (need_dinput) dx = output_of_shape(py::none(), "dinput", shape_of(x));
    if (need_dweight) dw = output_of_shape(py::none(), "dweight", sp.norm);
    if (need_dbias) db = output_of_shape(py::none(), "dbias", sp.norm);
    const auto f = wants_reference(variant) ? ref::layer_norm_backward : layer_norm_backward;
    const float *gp = cptr(dout), *xp = cptr(x), *mp = cptr(mean), *rp = cptr(rstd),
                *wp = fptr(w);
    float *dxp = mptr_or_null(dx), *dwp = mptr_or_null(dw), *dbp = mptr_or_null(db);
    const int64_t M = sp.M, N = sp.N;
    {
        py::gil_scoped_release nogil;
        f(dxp, dwp, dbp, gp, xp, mp, rp, wp, M, N);
    }
    return py::make_tuple(dx, dw, db);
}

}  // namespace

void bind_layer_norm(py::module_& m) {
    const auto none = py::none();
    m.def("layer_norm_forward", &ln_fwd, py::arg("input"), py::arg("normalized_ndim"),
          py::arg("weight") = none, py::arg("bias") = none, py::arg("eps") = 1e-5,
          py::arg("variant") = none,
          "Layer norm over input's last normalized_ndim dims: (out (input's shape), mean, rstd "
          "(input.shape[:-normalized_ndim] each)); weight and bias have the normalized dims' "
          "shape or are None.");
    m.def("layer_norm_backward", &ln_bwd, py::arg("dout"), py::arg("input"), py::arg("mean"),
          py::arg("rstd"), py::arg("normalized_ndim"), py::arg("weight") = none,
          py::arg("need_dinput") = true, py::arg("need_dweight") = true,
          py::arg("need_dbias") = true, py::arg("variant") = none,
          "Gradients (dinput, dweight, dbias) of layer_norm_forward, each None unless asked "
          "for; dweight is computed (as the gradient at weight = ones) even when weight is None.");
}

}  // namespace tn::bind
