// Python bindings of embedding_forward / embedding_backward (torch's F.embedding): weight is a
// 2-D float32 (num_embeddings, embedding_dim) array, indices an int32/int64 array of any shape.
// Every index is checked to lie in [0, num_embeddings) before anything is written.
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/embedding.h"
#include "ref/ref.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace tn::bind {
namespace {

using Indices = py::array_t<int64_t, py::array::c_style | py::array::forcecast | npy_aligned>;

// indices as an aligned C-contiguous int64 array (int32, another byte order, a strided or a
// misaligned view converted, after check_alloc; aligned native C-contiguous int64 input is used in
// place). Anything but a signed 32/64-bit integer array is a TypeError, as in torch ("Expected
// tensor for argument #1 'indices' ... Long, Int").
Indices index_array(const py::handle& obj) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error("indices must be a numpy.ndarray of int32 or int64, got " +
                             type_name(obj));
    const auto a = py::reinterpret_borrow<py::array>(obj);
    const py::dtype dt = a.dtype();
    if (dt.kind() != 'i' || (dt.itemsize() != 4 && dt.itemsize() != 8))
        throw py::type_error("Expected 'indices' to have one of the following scalar types: "
                             "Long, Int (int64, int32); got dtype " + std::string(py::str(dt)));
    if (!Indices::check_(a) || !(a.flags() & npy_aligned))  // a copy: size-check it first
        check_alloc("indices", shape_of(a), sizeof(int64_t));
    Indices ind = Indices::ensure(a);  // null (the error cleared) when NumPy fails
    if (!ind) throw_memory_error("indices: could not convert it to a C-contiguous int64 array");
    return ind;
}

// Raises IndexError naming the first index outside [0, V). The scan runs without the GIL;
// a branch-free min/max the compiler vectorises, the culprit looked up only on error.
void check_range(const int64_t* ip, int64_t n, int64_t V) {
    int64_t lo = 0, hi = -1;
    {
        py::gil_scoped_release nogil;
        if (n > 0) lo = hi = ip[0];
        for (int64_t i = 0; i < n; ++i) {
            lo = std::min(lo, ip[i]);
            hi = std::max(hi, ip[i]);
        }
    }
    if (n > 0 && (lo < 0 || hi >= V)) {
        const int64_t* bad = std::find_if(ip, ip + n, [&](int64_t v) { return v < 0 || v >= V; });
        throw py::index_error("index out of range: indices must lie in [0, num_embeddings) = [0, " +
                              std::to_string(V) + "), got " + std::to_string(*bad));
    }
}

// padding_idx: None -> -1; an int in [-V, V) -> [0, V) (negative counts from the end, as torch).
int64_t padding_arg(const py::object& obj, int64_t V) {
    if (obj.is_none()) return -1;
    if (!is_int(obj))
        throw py::type_error("padding_idx must be an int or None, got " + type_name(obj));
    const int64_t p = as_i64(obj, "padding_idx");
    if (p < -V || p >= V)
        throw py::value_error("padding_idx must be within num_embeddings: [" +
                              std::to_string(-V) + ", " + std::to_string(V) + "), got " +
                              std::to_string(p));
    return p < 0 ? p + V : p;
}

py::array emb_fwd(const py::handle& weight_obj, const py::handle& ind_obj,
                  const py::object& out_obj, const py::object& variant) {
    const py::array weight = require_float32_contiguous(weight_obj, "weight");
    if (weight.ndim() != 2)
        throw py::value_error("weight must be 2-D (num_embeddings, embedding_dim), got shape " +
                              shape_str(weight));
    const Indices ind = index_array(ind_obj);
    const int64_t V = weight.shape(0), D = weight.shape(1), n = ind.size();
    Shape os = shape_of(ind);
    os.push_back(D);
    const int64_t* ip = ind.data();
    check_range(ip, n, V);
    py::array out = output_of_shape(out_obj, "out", os);
    if (may_overlap(out, weight)) throw py::value_error("out must not overlap weight");
    const auto f = wants_reference(variant) ? ref::embedding_forward : embedding_forward;
    const float* wp = cptr(weight);
    float* op = mptr(out);
    {
        py::gil_scoped_release nogil;
        f(op, ip, wp, n, V, D);
    }
    return out;
}

py::array emb_bwd(const py::handle& dout_obj, const py::handle& ind_obj,
                  const py::handle& num_obj, const py::object& padding_obj,
                  const py::object& dweight_obj, bool accumulate, const py::object& variant) {
    if (!is_int(num_obj))
        throw py::type_error("num_weights must be an int, got " + type_name(num_obj));
    const int64_t V = as_i64(num_obj, "num_weights");
    if (V < 0) throw py::value_error("num_weights must be >= 0, got " + std::to_string(V));
    const Indices ind = index_array(ind_obj);
    const py::array dout = require_float32_contiguous(dout_obj, "dout");
    const Shape is = shape_of(ind), ds = shape_of(dout);
    if (ds.size() != is.size() + 1 || !std::equal(is.begin(), is.end(), ds.begin()))
        throw py::value_error("dout must have shape indices.shape + (embedding_dim,) = " +
                              dims_str(is) + " + (D,), got " + dims_str(ds));
    const int64_t D = ds.back(), n = ind.size();
    const int64_t pad = padding_arg(padding_obj, V);
    const int64_t* ip = ind.data();
    check_range(ip, n, V);
    py::array dweight = grad_out(dweight_obj, "dweight", Shape{V, D}, accumulate);
    if (may_overlap(dweight, dout)) throw py::value_error("dweight must not overlap dout");
    const auto f = wants_reference(variant) ? ref::embedding_backward : embedding_backward;
    const float* gp = cptr(dout);
    float* dp = mptr(dweight);
    {
        py::gil_scoped_release nogil;
        f(dp, gp, ip, n, V, D, pad, accumulate);
    }
    return dweight;
}

}  // namespace

void bind_embedding(py::module_& m) {
    const auto none = py::none();
    m.def("embedding_forward", &emb_fwd, py::arg("weight"), py::arg("indices"),
          py::arg("out") = none, py::arg("variant") = none,
          "out (indices.shape + (D,)): the rows of weight (V, D) that indices name.");
    m.def("embedding_backward", &emb_bwd, py::arg("dout"), py::arg("indices"),
          py::arg("num_weights"), py::arg("padding_idx") = none, py::arg("dweight") = none,
          py::arg("accumulate") = false, py::arg("variant") = none,
          "dweight (num_weights, D): each dout row added to the row its index names, in index "
          "order; padding_idx's row gets nothing.");
}

}  // namespace tn::bind
