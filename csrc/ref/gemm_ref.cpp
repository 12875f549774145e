// Reference SGEMM: the textbook triple loop in float, k innermost. Slow on purpose and obviously
// right; tests compare the packed kernels against it.
#include "ref/ref.h"

namespace tn::ref {

void gemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMat A, ConstMat B, float beta,
          float* C, int64_t ldc) {
    for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < N; ++j) {
            float acc = 0.0f;
            for (int64_t k = 0; k < K; ++k) acc += A.at(i, k) * B.at(k, j);
            float* c = C + i * ldc + j;
            *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
        }
    }
}

}  // namespace tn::ref
