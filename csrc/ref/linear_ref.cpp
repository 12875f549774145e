// Reference dense layer: plain loops over the torch layout, each sum in float in index order.
// The oracle for cpu/linear.cpp. Convention: see cpu/linear.h.
#include "ref/ref.h"

namespace tn::ref {
namespace {

inline void put(float* d, float v, bool accumulate) { *d = accumulate ? *d + v : v; }

}  // namespace

void linear_forward(float* out, ConstMat inp, ConstMat weight, const float* bias, int64_t M,
                    int64_t N, int64_t K) {
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; ++k) acc += inp.at(i, k) * weight.at(j, k);
            out[i * N + j] = bias ? acc + bias[j] : acc;
        }
}

void linear_backward(float* dinp, float* dweight, float* dbias, ConstMat dout, ConstMat inp,
                     ConstMat weight, int64_t M, int64_t N, int64_t K, bool accumulate) {
    if (dinp)
        for (int64_t i = 0; i < M; ++i)
            for (int64_t k = 0; k < K; ++k) {
                float acc = 0.0f;
                for (int64_t j = 0; j < N; ++j) acc += dout.at(i, j) * weight.at(j, k);
                put(dinp + i * K + k, acc, accumulate);
            }
    if (dweight)
        for (int64_t j = 0; j < N; ++j)
            for (int64_t k = 0; k < K; ++k) {
                float acc = 0.0f;
                for (int64_t i = 0; i < M; ++i) acc += dout.at(i, j) * inp.at(i, k);
                put(dweight + j * K + k, acc, accumulate);
            }
    if (dbias)
        for (int64_t j = 0; j < N; ++j) {
            float acc = 0.0f;
            for (int64_t i = 0; i < M; ++i) acc += dout.at(i, j);
            put(dbias + j, acc, accumulate);
        }
}

}  // namespace tn::ref
