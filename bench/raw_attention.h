#pragma once
// The attention pattern on raw cblas_sgemm with hand-written softmax loops: the baseline that
// bench_attention (scaled_dot_product_attention) and bench_shape_ops (the same product written
// with the engine's ops) both compare against.

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "bench/huge_pages.h"

namespace bench {

/// The outputs of one forward + backward; allocated by each call, as the engine's are.
struct RawAttention {
    Buffer<float> P, O, dP, dQ, dK, dV;
};

/// Over nb slices of (T, D) float32: S = scale Q K^T, P = softmax(S), O = P V; backward
/// dV = P^T G, dP = G V^T, dS = scale P * (dP - rowsum(dP * P)), dQ = dS K, dK = dS^T Q, with
/// scale = 1 / sqrt(D) and G = dL/dO.
inline RawAttention raw_attention(const float* Q, const float* K, const float* V, const float* G,
                                  std::size_t nb, std::size_t T, std::size_t D) {
    // C (m x n) = op(a) op(b), row-major, with op(a) (m x k).
    const auto sgemm = [](bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k,
                          const float* a, const float* b, float* c) {
        const int M = static_cast<int>(m), N = static_cast<int>(n), L = static_cast<int>(k);
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, N, L, 1.0f, a, ta ? M : L, b, tb ? L : N, 0.0f, c, N);
    };
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    const std::size_t tt = T * T, td = T * D;
    RawAttention r{Buffer<float>(nb * tt), Buffer<float>(nb * td), Buffer<float>(nb * tt),
                   Buffer<float>(nb * td), Buffer<float>(nb * td), Buffer<float>(nb * td)};
    for (std::size_t b = 0; b < nb; ++b) {
        float* p = r.P.data() + b * tt;
        const float *q = Q + b * td, *k = K + b * td, *v = V + b * td, *g = G + b * td;
        sgemm(false, true, T, T, D, q, k, p);  // S = Q K^T
        for (std::size_t i = 0; i < T; ++i) {
            float* row = p + i * T;
            float mx = -INFINITY;
            for (std::size_t j = 0; j < T; ++j) mx = std::max(mx, row[j] * scale);
            // The exponentials eight at a time with xsimd's exp, as the engine's float32
            // softmax takes them (libm's scalar expf would make this baseline the slower side).
            using Batch = xsimd::batch<float>;
            float z = 0;
            for (std::size_t j = 0; j < T; j += Batch::size) {
                const std::size_t lanes = std::min(Batch::size, T - j);
                alignas(64) float e[Batch::size] = {};  // lanes past `lanes` are dropped
                std::memcpy(e, row + j, lanes * sizeof(float));
                (xsimd::exp(Batch::load_aligned(e) * scale - mx)).store_aligned(e);
                for (std::size_t l = 0; l < lanes; ++l) z += (row[j + l] = e[l]);
            }
            for (std::size_t j = 0; j < T; ++j) row[j] /= z;
        }
        sgemm(false, false, T, D, T, p, v, r.O.data() + b * td);  // O = P V
        sgemm(true, false, T, D, T, p, g, r.dV.data() + b * td);  // dV = P^T G
        float* dp = r.dP.data() + b * tt;
        sgemm(false, true, T, T, D, g, v, dp);  // dP = G V^T
        for (std::size_t i = 0; i < T; ++i) {
            float* dr = dp + i * T;
            const float* pr = p + i * T;
            float dot = 0;
            for (std::size_t j = 0; j < T; ++j) dot += dr[j] * pr[j];
            for (std::size_t j = 0; j < T; ++j) dr[j] = scale * pr[j] * (dr[j] - dot);
        }
        sgemm(false, false, T, D, T, dp, k, r.dQ.data() + b * td);  // dQ = dS K
        sgemm(true, false, T, D, T, dp, q, r.dK.data() + b * td);   // dK = dS^T Q
    }
    return r;
}

}  // namespace bench
