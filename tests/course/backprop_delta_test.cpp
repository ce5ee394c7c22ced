// Seed 003: the L-layer backpropagation algorithm. The engine's gradients of a sigmoid MLP with
// squared error C = 1/2 sum_i (y_i - a_i)^2 equal the slides' delta recursion, computed here with
// plain loops:
//   delta^(L)_i  = (a_i - y_i) a_i (1 - a_i)
//   delta^(l)_ij = sum_j' delta^(l+1)_ij' w^(l+1)_jj' a^(l)_ij (1 - a^(l)_ij),  l = L-1, ..., 1
//   dC/dw^(l)_j'j = sum_i delta^(l)_ij a^(l-1)_ij',   dC/db^(l)_j = sum_i delta^(l)_ij
// (The slide drops the instance index i on delta^(l+1)_j'; it is per instance.)

#include <gtest/gtest.h>

#include <cmath>

#include "nn/nn.h"

namespace xgrad {
namespace {

using Matrix = std::vector<double>;  // row-major

struct DeltaGrads {
    std::vector<Matrix> dw, db;
};

// units = (m, m^(1), ..., m^(L-1), 1); w[l] is (units[l], units[l+1]), the layer's (in, out).
DeltaGrads delta_recursion(const std::vector<std::size_t>& units, const std::vector<Matrix>& w,
                           const std::vector<Matrix>& b, const Matrix& x, const Matrix& y,
                           std::size_t n) {
    const std::size_t L = units.size() - 1;
    // Feedforward: a[0] = x, a[l]_ij = g(sum_j' a[l-1]_ij' w_j'j + b_j).
    std::vector<Matrix> a(L + 1);
    a[0] = x;
    for (std::size_t l = 1; l <= L; ++l) {
        const std::size_t in = units[l - 1], out = units[l];
        a[l].assign(n * out, 0);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < out; ++j) {
                double z = b[l - 1][j];
                for (std::size_t k = 0; k < in; ++k)
                    z += a[l - 1][i * in + k] * w[l - 1][k * out + j];
                a[l][i * out + j] = 1 / (1 + std::exp(-z));
            }
        }
    }
    // Deltas from the output layer down.
    std::vector<Matrix> delta(L + 1);
    delta[L].resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double ai = a[L][i];
        delta[L][i] = (ai - y[i]) * ai * (1 - ai);
    }
    for (std::size_t l = L - 1; l >= 1; --l) {
        const std::size_t m = units[l], next = units[l + 1];
        delta[l].assign(n * m, 0);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < m; ++j) {
                double s = 0;
                for (std::size_t jp = 0; jp < next; ++jp) {
                    s += delta[l + 1][i * next + jp] * w[l][j * next + jp];
                }
                const double aij = a[l][i * m + j];
                delta[l][i * m + j] = s * aij * (1 - aij);
            }
        }
    }
    // Gradients.
    DeltaGrads g;
    for (std::size_t l = 1; l <= L; ++l) {
        const std::size_t in = units[l - 1], out = units[l];
        Matrix dw(in * out, 0), db(out, 0);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < out; ++j) {
                db[j] += delta[l][i * out + j];
                for (std::size_t jp = 0; jp < in; ++jp) {
                    dw[jp * out + j] += delta[l][i * out + j] * a[l - 1][i * in + jp];
                }
            }
        }
        g.dw.push_back(dw);
        g.db.push_back(db);
    }
    return g;
}

void expect_engine_matches_delta_recursion(const std::vector<std::size_t>& units,
                                           std::uint64_t seed) {
    const std::size_t n = 6, L = units.size() - 1;
    auto net = std::make_shared<nn::Sequential>();
    for (std::size_t l = 0; l < L; ++l) {
        net->push_back(nn::Linear(units[l], units[l + 1], /*bias=*/true, f64));
        net->push_back(nn::Sigmoid());
    }
    // Unif[-1, 1] weights and biases, as the algorithm initialises them.
    nn::init::uniform_(net->parameters(), -1, 1, seed);
    Tensor x = uniform(Shape{n, units[0]}, -2, 2, seed + 1, f64);
    Tensor y = uniform(Shape{n, 1}, 0, 1, seed + 2, f64);

    nn::half_squared_error(net->forward(x), y).backward();

    std::vector<Matrix> w, b;
    for (std::size_t l = 0; l < L; ++l) {
        auto fc = net->at<nn::Linear>(2 * l);
        w.push_back(fc->weight().to_vector());
        b.push_back(fc->bias().to_vector());
    }
    const DeltaGrads want = delta_recursion(units, w, b, x.to_vector(), y.to_vector(), n);
    for (std::size_t l = 0; l < L; ++l) {
        auto fc = net->at<nn::Linear>(2 * l);
        const Matrix dw = fc->weight().grad().to_vector(), db = fc->bias().grad().to_vector();
        ASSERT_EQ(dw.size(), want.dw[l].size());
        for (std::size_t k = 0; k < dw.size(); ++k) {
            EXPECT_NEAR(dw[k], want.dw[l][k], 1e-13) << "layer " << l + 1 << " weight " << k;
        }
        for (std::size_t k = 0; k < db.size(); ++k) {
            EXPECT_NEAR(db[k], want.db[l][k], 1e-13) << "layer " << l + 1 << " bias " << k;
        }
    }
}

TEST(BackpropDelta, TwoLayerSigmoidMlpGradientsEqualTheDeltaRecursion) {
    expect_engine_matches_delta_recursion({3, 4, 1}, /*seed=*/3);
}

TEST(BackpropDelta, ThreeLayerSigmoidMlpGradientsEqualTheDeltaRecursion) {
    expect_engine_matches_delta_recursion({3, 5, 4, 1}, /*seed=*/30);
}

TEST(BackpropDelta, FourLayerSigmoidMlpGradientsEqualTheDeltaRecursion) {
    expect_engine_matches_delta_recursion({2, 3, 3, 2, 1}, /*seed=*/300);
}

}  // namespace
}  // namespace xgrad
