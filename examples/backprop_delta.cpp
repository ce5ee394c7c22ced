// Seed 003: the L-layer backpropagation algorithm. Computes the slides' deltas for a 3-layer
// sigmoid network with plain loops and prints them next to the gradients the engine computes.
//
//   delta^(L)_i  = (a_i - y_i) a_i (1 - a_i)
//   delta^(l)_ij = sum_j' delta^(l+1)_ij' w^(l+1)_jj' a^(l)_ij (1 - a^(l)_ij)
//   dC/dw^(l)_j'j = sum_i delta^(l)_ij a^(l-1)_ij',   dC/db^(l)_j = sum_i delta^(l)_ij
//
//   ./build/examples/backprop_delta

#include <cmath>
#include <cstdio>

#include "nn/nn.h"

using namespace xgrad;
using Matrix = std::vector<double>;  // row-major

int main() {
    const std::vector<std::size_t> units = {2, 3, 2, 1};  // m, m^(1), m^(2), m^(L) = 1
    const std::size_t n = 4, L = units.size() - 1;
    auto net = std::make_shared<nn::Sequential>();
    for (std::size_t l = 0; l < L; ++l) {
        net->push_back(nn::Linear(units[l], units[l + 1], /*bias=*/true, f64));
        net->push_back(nn::Sigmoid());
    }
    nn::init::uniform_(net->parameters(), -1, 1, /*seed=*/3);  // Unif[-1, 1]
    const Tensor x = tensor({0, 0, 0, 1, 1, 0, 1, 1}, Shape{n, 2}, f64);
    const Tensor y = tensor({0, 1, 1, 0}, Shape{n, 1}, f64);
    std::printf("%s\n\n", nn::to_string(*net).c_str());

    // The engine: C = 1/2 sum_i (y_i - a_i)^2, backward.
    const Tensor c = nn::half_squared_error(net->forward(x), y);
    c.backward();
    std::printf("C = %.12f\n\n", c.item());

    // The slides, by hand: feedforward, then deltas from the output layer down.
    std::vector<Matrix> w, b, a(L + 1), delta(L + 1);
    for (std::size_t l = 0; l < L; ++l) {
        w.push_back(net->at<nn::Linear>(2 * l)->weight().to_vector());
        b.push_back(net->at<nn::Linear>(2 * l)->bias().to_vector());
    }
    a[0] = x.to_vector();
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
    const Matrix yv = y.to_vector();
    delta[L].resize(n);
    for (std::size_t i = 0; i < n; ++i) delta[L][i] = (a[L][i] - yv[i]) * a[L][i] * (1 - a[L][i]);
    for (std::size_t l = L - 1; l >= 1; --l) {
        const std::size_t m = units[l], next = units[l + 1];
        delta[l].assign(n * m, 0);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < m; ++j) {
                double s = 0;
                for (std::size_t jp = 0; jp < next; ++jp) {
                    s += delta[l + 1][i * next + jp] * w[l][j * next + jp];
                }
                delta[l][i * m + j] = s * a[l][i * m + j] * (1 - a[l][i * m + j]);
            }
        }
    }

    double worst = 0;
    for (std::size_t l = 1; l <= L; ++l) {
        const std::size_t in = units[l - 1], out = units[l];
        auto fc = net->at<nn::Linear>(2 * (l - 1));
        const Matrix gw = fc->weight().grad().to_vector(), gb = fc->bias().grad().to_vector();
        std::printf("layer %zu (%zu -> %zu)\n", l, in, out);
        for (std::size_t j = 0; j < out; ++j) {
            for (std::size_t jp = 0; jp < in; ++jp) {
                double dw = 0;
                for (std::size_t i = 0; i < n; ++i)
                    dw += delta[l][i * out + j] * a[l - 1][i * in + jp];
                std::printf("  dC/dw_%zu%zu  delta: % .15f  engine: % .15f\n", jp + 1, j + 1, dw,
                            gw[jp * out + j]);
                worst = std::max(worst, std::abs(dw - gw[jp * out + j]));
            }
            double db = 0;
            for (std::size_t i = 0; i < n; ++i) db += delta[l][i * out + j];
            std::printf("  dC/db_%zu   delta: % .15f  engine: % .15f\n", j + 1, db, gb[j]);
            worst = std::max(worst, std::abs(db - gb[j]));
        }
    }
    std::printf("\nlargest difference: %.3g\n", worst);
    return worst < 1e-12 ? 0 : 1;
}
