// Reference layer normalisation (torch's F.layer_norm over the last N values of each of M rows):
// plain loops with every sum and product in double, the oracle of cpu/layer_norm.cpp. Not fast:
// one thread, three passes per row.
#include "ref/ref.h"

#include <cmath>

namespace tn::ref {

void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                        const float* bias, int64_t M, int64_t N, double eps) {
    // out (M, N), mean (M), rstd (M), x (M, N), weight and bias (N) or null
    for (int64_t i = 0; i < M; ++i) {
        const float* xr = x + i * N;
        double s = 0.0;
        for (int64_t j = 0; j < N; ++j) s += xr[j];
        // An empty row: mean 0 and variance 0/0 (NaN), as torch.
        const double mu = N ? s / double(N) : 0.0;
        double ss = 0.0;
        for (int64_t j = 0; j < N; ++j) ss += (xr[j] - mu) * (xr[j] - mu);
        const double r = 1.0 / std::sqrt(ss / double(N) + eps);
        for (int64_t j = 0; j < N; ++j) {
            double v = (xr[j] - mu) * r;
            if (weight) v *= weight[j];
            if (bias) v += bias[j];
            out[i * N + j] = static_cast<float>(v);
        }
        mean[i] = static_cast<float>(mu);
        rstd[i] = static_cast<float>(r);
    }
}

void layer_norm_backward(float* dx, float* dweight, float* dbias, const float* dout,
                         const float* x, const float* mean, const float* rstd,
                         const float* weight, int64_t M, int64_t N) {
    // dx (M, N) or null, dweight and dbias (N) or null; dout, x (M, N); mean, rstd (M)
    // With xhat = (x - mean) * rstd and g = dout * weight:
    //   dx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat)),
    //   dweight = sum_i dout * xhat, dbias = sum_i dout.
    for (int64_t j = 0; j < N; ++j) {
        double sw = 0.0, sb = 0.0;
        for (int64_t i = 0; i < M; ++i) {
            const double d = dout[i * N + j];
            sw += d * ((x[i * N + j] - double(mean[i])) * rstd[i]);
            sb += d;
        }
        if (dweight) dweight[j] = static_cast<float>(sw);
        if (dbias) dbias[j] = static_cast<float>(sb);
    }
    if (!dx) return;
    for (int64_t i = 0; i < M; ++i) {
        const double mu = mean[i], r = rstd[i];
        double sg = 0.0, sgx = 0.0;
        for (int64_t j = 0; j < N; ++j) {
            const double g = double(dout[i * N + j]) * (weight ? weight[j] : 1.0f);
            sg += g;
            sgx += g * ((x[i * N + j] - mu) * r);
        }
        const double a = sg / double(N), b = sgx / double(N);
        for (int64_t j = 0; j < N; ++j) {
            const double g = double(dout[i * N + j]) * (weight ? weight[j] : 1.0f);
            const double xh = (x[i * N + j] - mu) * r;
            dx[i * N + j] = static_cast<float>(r * (g - a - xh * b));
        }
    }
}

}  // namespace tn::ref
