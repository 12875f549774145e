// One registration function per binding file; module.cpp calls them all.
#pragma once
#include <pybind11/pybind11.h>

namespace tn::bind {

void bind_runtime(pybind11::module_& m);
void bind_gemm(pybind11::module_& m);
void bind_activations(pybind11::module_& m);
void bind_optim(pybind11::module_& m);
void bind_linear(pybind11::module_& m);
void bind_losses(pybind11::module_& m);
void bind_softmax_dropout(pybind11::module_& m);
void bind_pool(pybind11::module_& m);
void bind_conv(pybind11::module_& m);
void bind_embedding(pybind11::module_& m);
void bind_rnn(pybind11::module_& m);
void bind_attention(pybind11::module_& m);
void bind_layer_norm(pybind11::module_& m);

}  // namespace tn::bind
