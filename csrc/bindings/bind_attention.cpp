// Python bindings of attention_forward / attention_backward (scaled dot-product attention,
// core/attention_types.h): q (B, Hq, Tq, D), k (B, Hk, Tk, D), v (B, Hk, Tk, Dv) float32 arrays,
// any strides whose last one is a single element (others are copied), an optional additive
// float32 mask broadcastable to (B, Hq, Tq, Tk). The forward returns (out (B, Hq, Tq, Dv),
// lse (B, Hq, Tq)); the backward takes them back with dout and returns (dq, dk, dv).
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/attention.h"
#include "ref/ref.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace tn::bind {
namespace {

// A 4-D float32 array whose last dimension is contiguous and whose rows do not all alias one
// row (copied C-contiguous otherwise): the kernels take a row stride of 0 for packed panels, so a
// broadcast along the sequence (stride 0) read garbage past the array.
py::array heads_array(const py::handle& obj, const char* name, const std::string& dims) {
    py::array a = require_float32(obj, name, -1);
    if (a.ndim() != 4)
        throw py::value_error(std::string(name) + " must be 4-D " + dims + ", got shape " +
                              shape_str(a));
    if ((a.shape(3) > 1 && a.strides(3) != static_cast<py::ssize_t>(sizeof(float))) ||
        (a.shape(2) > 1 && a.strides(2) == 0 && a.shape(3) > 0))
        a = contiguous_copy(a, name);
    return a;
}

// The row stride in elements; that of a single row (any value NumPy gave it, 0 after
// a[:, :, None]) or of empty rows as the row's length, never the 0 that means packed.
int64_t row_stride(const py::array& a) {
    if (a.shape(2) <= 1 || a.shape(3) == 0) return std::max<int64_t>(a.shape(3), 1);
    return int64_t(a.strides(2) / py::ssize_t(sizeof(float)));
}

// scale: None (1/sqrt(E)) or a real number; a str or another object is a TypeError naming it
// (pybind11's cast raised an unnamed RuntimeError).
float scale_arg(const py::object& s, int64_t D) {
    if (s.is_none()) return float(1.0 / std::sqrt(double(D > 0 ? D : 1)));
    const std::string want = "scale must be a float or None, got ";
    if (py::isinstance<py::str>(s) || py::isinstance<py::bool_>(s) || !PyNumber_Check(s.ptr()))
        throw py::type_error(want + type_name(s));
    const double v = PyFloat_AsDouble(s.ptr());
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        throw py::type_error(want + type_name(s));
    }
    return float(v);
}

Heads heads(const py::array& a) {
    const auto st = [&](int i) { return int64_t(a.strides(i) / py::ssize_t(sizeof(float))); };
    return Heads{cptr(a), st(0), st(1), row_stride(a)};
}
MutHeads mut_heads(py::array a) {
    const auto st = [&](int i) { return int64_t(a.strides(i) / py::ssize_t(sizeof(float))); };
    return MutHeads{mptr(a), st(0), st(1), st(2)};
}

// The shared arguments, checked: shapes of q, k, v against each other, the mask's broadcast.
struct Args {
    Attention a{};
    bool no_heads = false;
    py::array q, k, v;
    py::object mask = py::none();

    Args(const py::handle& q_obj, const py::handle& k_obj, const py::handle& v_obj,
         const py::object& mask_obj, const py::object& scale, bool causal, double dropout_p,
         uint64_t seed) {
        q = heads_array(q_obj, "query", "(batch, heads, L, E)");
        k = heads_array(k_obj, "key", "(batch, kv_heads, S, E)");
        v = heads_array(v_obj, "value", "(batch, kv_heads, S, Ev)");
        a.B = q.shape(0);
        a.Hq = q.shape(1);
        a.Tq = q.shape(2);
        a.D = q.shape(3);
        a.Hk = k.shape(1);
        a.Tk = k.shape(2);
        a.Dv = v.shape(3);
        if (k.shape(0) != a.B || v.shape(0) != a.B)
            throw py::value_error("query, key and value must have the same batch size, got " +
                                  shape_str(q) + ", " + shape_str(k) + ", " + shape_str(v));
        if (k.shape(3) != a.D)
            throw py::value_error("key's last dimension must equal query's (" +
                                  std::to_string(a.D) + "), got key " + shape_str(k));
        if (v.shape(1) != a.Hk || v.shape(2) != a.Tk)
            throw py::value_error("key and value must have the same heads and length, got key " +
                                  shape_str(k) + " and value " + shape_str(v));
        if (a.Hk < 1 ? a.Hq != 0 : a.Hq % a.Hk != 0)
            throw py::value_error("query's heads (" + std::to_string(a.Hq) +
                                  ") must be a multiple of key's (" + std::to_string(a.Hk) + ")");
        // No heads at all: every output is empty and no kernel may run (the backward's items
        // are (batch, key head): with Hk taken as 1 it zeroed dk rows of an empty array).
        no_heads = a.Hk == 0;
        if (a.Hk == 0) a.Hk = 1;
        a.scale = scale_arg(scale, a.D);
        a.causal = causal;
        if (!(dropout_p >= 0.0 && dropout_p < 1.0))
            throw py::value_error("dropout_p must be in [0, 1), got " + std::to_string(dropout_p));
        a.dropout_p = float(dropout_p);
        a.seed = seed;
        if (!mask_obj.is_none()) {
            py::array m = require_float32(mask_obj, "attn_mask", -1);
            const int nd = int(m.ndim());
            const int64_t full[4] = {a.B, a.Hq, a.Tq, a.Tk};
            if (nd > 4)
                throw py::value_error("attn_mask must broadcast to (batch, heads, L, S) = " +
                                      dims_str(Shape{a.B, a.Hq, a.Tq, a.Tk}) + ", got shape " +
                                      shape_str(m));
            int64_t st[4] = {0, 0, 0, 0};
            for (int d = 0; d < nd; ++d) {
                const int fd = 4 - nd + d;
                if (m.shape(d) != 1 && m.shape(d) != full[fd])
                    throw py::value_error("attn_mask must broadcast to (batch, heads, L, S) = " +
                                          dims_str(Shape{a.B, a.Hq, a.Tq, a.Tk}) +
                                          ", got shape " + shape_str(m));
                st[fd] = m.shape(d) == 1 ? 0 : int64_t(m.strides(d) / py::ssize_t(sizeof(float)));
            }
            mask = m;
            a.mask = cptr(m);
            a.mb = st[0];
            a.mh = st[1];
            a.mq = st[2];
            a.mk = st[3];
        }
    }
};

py::tuple attn_fwd(const py::handle& q, const py::handle& k, const py::handle& v,
                   const py::object& mask, const py::object& scale, bool causal, double dropout_p,
                   uint64_t seed, const py::object& variant) {
    const Args x(q, k, v, mask, scale, causal, dropout_p, seed);
    const Attention& a = x.a;
    py::array out = output_of_shape(py::none(), "out", Shape{a.B, a.Hq, a.Tq, a.Dv});
    py::array lse = output_of_shape(py::none(), "lse", Shape{a.B, a.Hq, a.Tq});
    const auto f = wants_reference(variant) ? ref::attention_forward : attention_forward;
    const Heads hq = heads(x.q), hk = heads(x.k), hv = heads(x.v);
    const MutHeads ho = mut_heads(out);
    float* lp = mptr(lse);
    {
        py::gil_scoped_release nogil;
        if (!x.no_heads) f(a, hq, hk, hv, ho, lp);
    }
    return py::make_tuple(out, lse);
}

py::tuple attn_bwd(const py::handle& dout_obj, const py::handle& q, const py::handle& k,
                   const py::handle& v, const py::handle& out_obj, const py::handle& lse_obj,
                   const py::object& mask, const py::object& scale, bool causal, double dropout_p,
                   uint64_t seed, const py::object& variant) {
    const Args x(q, k, v, mask, scale, causal, dropout_p, seed);
    const Attention& a = x.a;
    const Shape os{a.B, a.Hq, a.Tq, a.Dv};
    const py::array out = heads_array(out_obj, "out", "(batch, heads, L, Ev)");
    const py::array dout = heads_array(dout_obj, "grad_out", "(batch, heads, L, Ev)");
    if (shape_of(out) != os || shape_of(dout) != os)
        throw py::value_error("out and grad_out must have shape " + dims_str(os) + ", got " +
                              shape_str(out) + " and " + shape_str(dout));
    const py::array lse = float_of_shape(lse_obj, "lse", Shape{a.B, a.Hq, a.Tq},
                                         " (batch, heads, L): the forward's");
    py::array dq = output_of_shape(py::none(), "dq", shape_of(x.q));
    py::array dk = output_of_shape(py::none(), "dk", shape_of(x.k));
    py::array dv = output_of_shape(py::none(), "dv", shape_of(x.v));
    const auto f = wants_reference(variant) ? ref::attention_backward : attention_backward;
    const Heads hq = heads(x.q), hk = heads(x.k), hv = heads(x.v), ho = heads(out),
                hd = heads(dout);
    const MutHeads mq = mut_heads(dq), mk = mut_heads(dk), mv = mut_heads(dv);
    const float* lp = cptr(lse);
    {
        py::gil_scoped_release nogil;
        if (!x.no_heads) f(a, hq, hk, hv, ho, lp, hd, mq, mk, mv);
    }
    return py::make_tuple(dq, dk, dv);
}

}  // namespace

void bind_attention(py::module_& m) {
    const auto none = py::none();
    m.def("attention_forward", &attn_fwd, py::arg("query"), py::arg("key"), py::arg("value"),
          py::arg("attn_mask") = none, py::arg("scale") = none, py::arg("is_causal") = false,
          py::arg("dropout_p") = 0.0, py::arg("seed") = 0, py::arg("variant") = none,
          "softmax(scale * q k^T + mask) v, flash style: (out, lse).");
    m.def("attention_backward", &attn_bwd, py::arg("grad_out"), py::arg("query"), py::arg("key"),
          py::arg("value"), py::arg("out"), py::arg("lse"), py::arg("attn_mask") = none,
          py::arg("scale") = none, py::arg("is_causal") = false, py::arg("dropout_p") = 0.0,
          py::arg("seed") = 0, py::arg("variant") = none,
          "(dq, dk, dv) of attention_forward, recomputing the probabilities from lse.");
}

}  // namespace tn::bind
