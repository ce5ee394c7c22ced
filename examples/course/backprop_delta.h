#pragma once
// Note 003: the L-layer backpropagation algorithm. Computes the slides' deltas for a sigmoid
// network with plain loops and prints them next to the gradients the engine computes:
//
//   delta^(L)_i  = (a_i - y_i) a_i (1 - a_i)
//   delta^(l)_ij = sum_j' delta^(l+1)_ij' w^(l+1)_jj' a^(l)_ij (1 - a^(l)_ij)
//   dC/dw^(l)_j'j = sum_i delta^(l)_ij a^(l-1)_ij',   dC/db^(l)_j = sum_i delta^(l)_ij
//
// Used by examples/backprop_delta.cpp and the walkthrough.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "examples/course/report.h"
#include "nn/nn.h"

namespace xgrad::examples {

/// A sigmoid network with bias: units = (m, m^(1), ..., 1), weights and biases drawn from
/// Unif[-1, 1] with `seed` (the slides' initialisation).
inline nn::Sequential sigmoid_mlp(const std::vector<std::size_t>& units, std::uint64_t seed) {
    nn::Sequential net;
    for (std::size_t l = 0; l + 1 < units.size(); ++l) {
        net.push_back(nn::Linear(units[l], units[l + 1], /*bias=*/true, f64));
        net.push_back(nn::Sigmoid());
    }
    nn::init::uniform_(net.parameters(), -1, 1, seed);
    return net;
}

/// All parameter values of `net`, in parameters() order.
inline std::vector<double> parameter_values(const nn::Module& net) {
    std::vector<double> v;
    for (const Tensor& p : net.parameters()) {
        const std::vector<double> pv = p.to_vector();
        v.insert(v.end(), pv.begin(), pv.end());
    }
    return v;
}

/// One line per parameter: "  0.weight = [a, b, c, d]" (a weight is (in, out) row-major).
inline std::string parameter_lines(const nn::Module& net) {
    std::string s;
    for (const nn::NamedTensor& p : net.named_parameters()) {
        s += "  " + p.first + " = " + vec(p.second.to_vector()) + "\n";
    }
    return s;
}

/// One layer's gradients by the delta recursion and by the engine; w is (in, out) row-major.
struct LayerGradients {
    std::vector<double> dw_delta, dw_engine, db_delta, db_engine;
};

/// The delta recursion against the engine, for C = 1/2 sum_i (y_i - a_i)^2.
struct DeltaCheck {
    double cost;
    std::vector<LayerGradients> layers;  ///< layer 1 first
    double largest_difference;
};

/// `net` alternates Linear (with bias) and Sigmoid, the last layer with one output; x: (n, m),
/// y: (n, 1). Runs the engine's backward (after zeroing the gradients) and the slides' deltas.
inline DeltaCheck delta_check(Report& r, nn::Sequential& net, const Tensor& x, const Tensor& y) {
    using Matrix = std::vector<double>;  // row-major
    const std::size_t L = net.size() / 2, n = x.shape()[0];
    std::vector<std::size_t> units = {x.shape()[1]};  // m, m^(1), ..., m^(L) = 1
    std::vector<Matrix> w, b;
    for (std::size_t l = 0; l < L; ++l) {
        auto fc = net.at<nn::Linear>(2 * l);
        units.push_back(fc->weight().shape()[1]);
        w.push_back(fc->weight().to_vector());
        b.push_back(fc->bias().to_vector());
    }

    // The engine: C = 1/2 sum_i (y_i - a_i)^2, backward.
    for (Tensor& p : net.parameters()) p.zero_grad();
    const Tensor c = nn::half_squared_error(net.forward(x), y);
    c.backward();
    DeltaCheck d{c.item(), {}, 0.0};
    r << "C = " << fmt("%.12f", d.cost) << "\n";

    // The slides, by hand: feedforward, then deltas from the output layer down.
    std::vector<Matrix> a(L + 1), delta(L + 1);
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

    for (std::size_t l = 1; l <= L; ++l) {
        const std::size_t in = units[l - 1], out = units[l];
        auto fc = net.at<nn::Linear>(2 * (l - 1));
        LayerGradients g{Matrix(in * out, 0), fc->weight().grad().to_vector(), Matrix(out, 0),
                         fc->bias().grad().to_vector()};
        r << "layer " << l << " (" << in << " -> " << out << ")\n";
        for (std::size_t j = 0; j < out; ++j) {
            for (std::size_t jp = 0; jp < in; ++jp) {
                double& dw = g.dw_delta[jp * out + j];
                for (std::size_t i = 0; i < n; ++i)
                    dw += delta[l][i * out + j] * a[l - 1][i * in + jp];
                r << fmt("  dC/dw_%zu%zu  delta: % .15f  engine: % .15f\n", jp + 1, j + 1, dw,
                         g.dw_engine[jp * out + j]);
                d.largest_difference =
                    std::max(d.largest_difference, std::abs(dw - g.dw_engine[jp * out + j]));
            }
            for (std::size_t i = 0; i < n; ++i) g.db_delta[j] += delta[l][i * out + j];
            r << fmt("  dC/db_%zu   delta: % .15f  engine: % .15f\n", j + 1, g.db_delta[j],
                     g.db_engine[j]);
            d.largest_difference =
                std::max(d.largest_difference, std::abs(g.db_delta[j] - g.db_engine[j]));
        }
        d.layers.push_back(g);
    }
    r << "largest difference: " << fmt("%.3g", d.largest_difference) << "\n";
    return d;
}

}  // namespace xgrad::examples
