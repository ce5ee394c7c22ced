// Higher-order gradients: second and third derivatives of every element-wise op against closed
// forms, gradgradcheck of every op, and the uses that need them (Hessian-vector products,
// Newton's method, a gradient penalty, a MAML step).

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/autograd.h"
#include "tests/support/check.h"
#include "tests/support/value_check.h"

namespace xgrad {
namespace {

using testing::gradgrad_ok;
using testing::rand64;

// d^k f / dx^k at x by k nested grad calls with create_graph.
std::vector<double> derivatives(const std::function<Tensor(const Tensor&)>& f, double x0,
                                int order) {
    Tensor x = scalar(x0, f64, true);
    Tensor y = f(x);
    std::vector<double> out;
    for (int k = 1; k <= order; ++k) {
        Tensor d =
            grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true, /*allow_unused=*/true)[0];
        if (!d.defined()) d = zeros({}, f64);
        out.push_back(d.item());
        if (!d.requires_grad()) {  // constant derivative: the rest are 0
            while (static_cast<int>(out.size()) < order) out.push_back(0);
            break;
        }
        y = d;
    }
    return out;
}

struct Closed {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
    double x;
    double d1, d2, d3;
};

TEST(HigherOrder, ElementwiseSecondAndThirdDerivativesMatchClosedForms) {
    const double x = 0.7;
    const double s = 1 / (1 + std::exp(-x)), t = std::tanh(x);
    const std::vector<Closed> cases = {
        {"neg", [](const Tensor& a) { return -a; }, x, -1, 0, 0},
        {"pow3", [](const Tensor& a) { return pow(a, 3); }, x, 3 * x * x, 6 * x, 6},
        {"pow0.5", [](const Tensor& a) { return pow(a, 0.5); }, x, 0.5 * std::pow(x, -0.5),
         -0.25 * std::pow(x, -1.5), 0.375 * std::pow(x, -2.5)},
        {"exp", [](const Tensor& a) { return exp(a); }, x, std::exp(x), std::exp(x), std::exp(x)},
        {"log", [](const Tensor& a) { return log(a); }, x, 1 / x, -1 / (x * x), 2 / (x * x * x)},
        {"sqrt", [](const Tensor& a) { return sqrt(a); }, x, 0.5 / std::sqrt(x),
         -0.25 * std::pow(x, -1.5), 0.375 * std::pow(x, -2.5)},
        {"abs", [](const Tensor& a) { return abs(a); }, -x, -1, 0, 0},
        {"square", [](const Tensor& a) { return square(a); }, x, 2 * x, 2, 0},
        {"sigmoid", [](const Tensor& a) { return sigmoid(a); }, x, s * (1 - s),
         s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)},
        {"tanh", [](const Tensor& a) { return tanh(a); }, x, 1 - t * t, -2 * t * (1 - t * t),
         (1 - t * t) * (6 * t * t - 2)},
        {"relu", [](const Tensor& a) { return relu(a); }, x, 1, 0, 0},
        {"step", [](const Tensor& a) { return step(a); }, x, 0, 0, 0},
        {"clamp_min", [](const Tensor& a) { return clamp_min(a, 0.5); }, x, 1, 0, 0},
        {"x+c", [](const Tensor& a) { return a + 2.0; }, x, 1, 0, 0},
        {"c-x", [](const Tensor& a) { return 2.0 - a; }, x, -1, 0, 0},
        {"x*c", [](const Tensor& a) { return a * 3.0; }, x, 3, 0, 0},
        {"x/c", [](const Tensor& a) { return a / 4.0; }, x, 0.25, 0, 0},
        {"c/x", [](const Tensor& a) { return 2.0 / a; }, x, -2 / (x * x), 4 / (x * x * x),
         -12 / (x * x * x * x)},
        {"x*x*x", [](const Tensor& a) { return a * a * a; }, x, 3 * x * x, 6 * x, 6},
        {"x/(1+x)", [](const Tensor& a) { return a / (a + 1.0); }, x, 1 / std::pow(1 + x, 2),
         -2 / std::pow(1 + x, 3), 6 / std::pow(1 + x, 4)},
        {"x-exp(x)", [](const Tensor& a) { return a - exp(a); }, x, 1 - std::exp(x), -std::exp(x),
         -std::exp(x)},
    };
    for (const Closed& c : cases) {
        const std::vector<double> d = derivatives(c.f, c.x, 3);
        ASSERT_EQ(d.size(), 3u) << c.name;
        EXPECT_NEAR(d[0], c.d1, 1e-12) << c.name << " first";
        EXPECT_NEAR(d[1], c.d2, 1e-12) << c.name << " second";
        EXPECT_NEAR(d[2], c.d3, 1e-11) << c.name << " third";
    }
}

TEST(HigherOrder, MixedSecondDerivativesOfBinaryOps) {
    Tensor x = scalar(0.7, f64, true), y = scalar(-1.3, f64, true);
    // d2(xy)/dxdy = 1; d2(x/y)/dy2 = 2x/y^3; d2(x/y)/dxdy = -1/y^2.
    Tensor gx = grad({x * y}, {x}, {}, std::nullopt, true)[0];
    EXPECT_DOUBLE_EQ(grad({gx}, {y})[0].item(), 1.0);
    Tensor q = x / y;
    std::vector<Tensor> g = grad({q}, {x, y}, {}, std::nullopt, true);
    EXPECT_NEAR(grad({g[1]}, {y}, {}, true)[0].item(), 2 * 0.7 / std::pow(-1.3, 3), 1e-12);
    EXPECT_NEAR(grad({g[1]}, {x})[0].item(), -1 / (1.3 * 1.3), 1e-12);
}

TEST(HigherOrder, GradgradcheckEveryElementwiseOpAndBroadcast) {
    using V = const std::vector<Tensor>&;
    const Tensor a = rand64({2, 3}, 1), b = rand64({2, 3}, 2), col = rand64({2, 1}, 3);
    const Tensor pos = rand64({2, 3}, 4, 0.5, 2.0), row = rand64({3}, 5, 0.5, 2.0);
    EXPECT_TRUE(gradgrad_ok([](V x) { return x[0] + x[1]; }, {a, col}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return x[0] - x[1]; }, {a, b}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return x[0] * x[1]; }, {a, col}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return x[0] / x[1]; }, {a, row}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return -x[0]; }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return pow(x[0], 2.5); }, {pos}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return exp(x[0]); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return log(x[0]); }, {pos}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return sqrt(x[0]); }, {pos}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return abs(x[0]) * x[0]; }, {pos}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(x[0]); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return sigmoid(x[0]); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return tanh(x[0]); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return relu(x[0]) * x[0]; }, {pos}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return step(x[0]) * x[0] * x[0]; }, {pos}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return clamp(x[0] * x[0], 0.1, 0.8); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return 3.0 / x[0] + (1.0 - x[0]) * 2.0; }, {pos}));
    // to(): the gradient converts back, recorded (float32 is too coarse for a numeric check).
    Tensor x = rand64({3}, 6);
    Tensor g = grad({sum(square(to(x, f32)))}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
    EXPECT_EQ(g.dtype(), f64);
    EXPECT_TRUE(g.requires_grad());
}

TEST(HigherOrder, GradgradcheckStructuralOps) {
    using V = const std::vector<Tensor>&;
    const Tensor a = rand64({3, 4}, 11), b = rand64({4, 2}, 12), v = rand64({4}, 13);
    const Tensor w = rand64({3}, 14);
    EXPECT_TRUE(gradgrad_ok([](V x) { return softmax(x[0] * x[0], 1); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return log_softmax(x[0] * 2.0, 0); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(matmul(x[0], x[1])); }, {a, b}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(matmul(x[0], x[1])); }, {a, v}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(matmul(x[1], x[0])); }, {a, w}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(matmul(x[0], x[0])); }, {v}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(sum(x[0], {1}, true)); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(mean(x[0], {0})); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(sum(x[0])) * mean(x[0]); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(std::get<0>(max(x[0], 1))); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return add_n({x[0] * x[0], x[0], x[0] * 2.0}); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(transpose(x[0])); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return square(reshape(x[0], {2, 6})); }, {a}));
}

TEST(HigherOrder, CreateGraphBackwardGivesDifferentiableLeafGradients) {
    Tensor x = scalar(1.5, f64, true);
    Tensor y = x * x * x;  // y' = 3x^2, y'' = 6x
    y.backward(Tensor(), std::nullopt, /*create_graph=*/true);
    Tensor g = x.grad();
    EXPECT_TRUE(g.requires_grad());
    EXPECT_DOUBLE_EQ(g.item(), 3 * 1.5 * 1.5);
    const Tensor g2 = grad({g}, {x})[0];
    EXPECT_DOUBLE_EQ(g2.item(), 6 * 1.5);
    x.zero_grad();  // breaks the x -> grad -> x reference cycle
}

TEST(HigherOrder, GradLeavesLeafGradientsUntouchedAndReturnsOnePerInput) {
    Tensor x = tensor({1, 2, 3}, f64, true), w = scalar(2, f64, true);
    Tensor y = sum(x * x * w);
    const std::vector<Tensor> g = grad({y}, {x, w});
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(g[0].to_vector(), (std::vector<double>{4, 8, 12}));  // 2xw
    EXPECT_DOUBLE_EQ(g[1].item(), 14.0);                           // sum x^2
    EXPECT_FALSE(x.has_grad());
    EXPECT_FALSE(w.has_grad());
    EXPECT_FALSE(g[0].requires_grad());
}

TEST(HigherOrder, GradOfANonLeafInput) {
    Tensor x = scalar(3, f64, true);
    Tensor h = x * x;            // non-leaf
    Tensor y = h * 2.0 + h * h;  // dy/dh = 2 + 2h = 20
    EXPECT_DOUBLE_EQ(grad({y}, {h})[0].item(), 20.0);
}

TEST(HigherOrder, HessianVectorProductOfAnMlpMatchesDifferencesOfGradients) {
    // loss(W1, W2) = mean(softmax cross-entropy-like: sum(tanh(x W1) W2)^2)
    const Tensor x = uniform({5, 3}, -1, 1, 21, f64);
    const Tensor w1 = rand64({3, 4}, 22), w2 = rand64({4, 2}, 23);
    auto loss = [&x](const std::vector<Tensor>& p) {
        return mean(square(matmul(tanh(matmul(x, p[0])), p[1])));
    };
    const Tensor v1 = uniform({3, 4}, -1, 1, 24, f64), v2 = uniform({4, 2}, -1, 1, 25, f64);
    const auto [value, hv] = hvp(loss, {w1, w2}, {v1, v2});
    EXPECT_FALSE(value.requires_grad());
    // Central differences of first-order gradients along v.
    const double eps = 1e-6;
    auto grads_at = [&](double t) {
        Tensor a(Array::from_values(f64, w1.shape(), w1.to_vector()), true);
        Tensor b(Array::from_values(f64, w2.shape(), w2.to_vector()), true);
        for (std::size_t i = 0; i < a.numel(); ++i)
            a.mutable_value().set(i, a.value().at(i) + t * v1.value().at(i));
        for (std::size_t i = 0; i < b.numel(); ++i)
            b.mutable_value().set(i, b.value().at(i) + t * v2.value().at(i));
        return grad({loss({a, b})}, {a, b});
    };
    const std::vector<Tensor> gp = grads_at(eps), gm = grads_at(-eps);
    for (std::size_t k = 0; k < 2; ++k) {
        const std::vector<double> a = hv[k].to_vector(), p = gp[k].to_vector(),
                                  m = gm[k].to_vector();
        for (std::size_t i = 0; i < a.size(); ++i) {
            EXPECT_NEAR(a[i], (p[i] - m[i]) / (2 * eps), 1e-6) << "param " << k << " el " << i;
        }
    }
}

TEST(HigherOrder, HessianOfASmallFunctionMatchesItsClosedForm) {
    // f(x, y) = x^2 y + sin-free: x^3 + x y^2. H = [[6x + 2y... ]] computed by hand below.
    auto f = [](const std::vector<Tensor>& v) {
        const Tensor& x = v[0];
        return sum(x * x * x) + sum(x) * sum(x * x);
    };
    // For x in R^2: f = x0^3 + x1^3 + (x0 + x1)(x0^2 + x1^2).
    // d2f/dx0^2 = 6x0 + 2x0 + 2(x0 + x1) ... written out:
    const double a = 0.3, b = -0.8;
    const double h00 = 6 * a + 4 * a + 2 * (a + b), h11 = 6 * b + 4 * b + 2 * (a + b);
    const double h01 = 2 * a + 2 * b;
    const auto h = hessian(f, {tensor({a, b}, f64)});
    ASSERT_EQ(h.size(), 1u);
    ASSERT_EQ(h[0][0].shape(), (Shape{2, 2}));
    EXPECT_NEAR(h[0][0].at({0, 0}), h00, 1e-12);
    EXPECT_NEAR(h[0][0].at({1, 1}), h11, 1e-12);
    EXPECT_NEAR(h[0][0].at({0, 1}), h01, 1e-12);
    EXPECT_NEAR(h[0][0].at({1, 0}), h01, 1e-12);
}

TEST(HigherOrder, JacobianJvpAndVjpAgree) {
    auto f = [](const std::vector<Tensor>& v) { return tanh(v[0]) * v[0]; };
    const Tensor x = tensor({0.2, -0.5, 1.1}, f64);
    const std::vector<Tensor> j = jacobian(f, {x});
    ASSERT_EQ(j[0].shape(), (Shape{3, 3}));
    for (std::size_t r = 0; r < 3; ++r) {
        for (std::size_t c = 0; c < 3; ++c) {
            const double xv = x.value().at(r), t = std::tanh(xv);
            EXPECT_NEAR(j[0].at({r, c}), r == c ? t + xv * (1 - t * t) : 0.0, 1e-12);
        }
    }
    const Tensor v = tensor({1.0, 2.0, -1.0}, f64);
    const auto [y1, jv] = jvp(f, {x}, {v});
    const auto [y2, vj] = vjp(f, {x}, v);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_NEAR(jv.value().at(i), j[0].at({i, i}) * v.value().at(i), 1e-12);
        EXPECT_NEAR(vj[0].value().at(i), j[0].at({i, i}) * v.value().at(i), 1e-12);
    }
}

TEST(HigherOrder, NewtonsMethodConvergesQuadratically) {
    // f(x) = sum(exp(x) - 2x) + x0 x1 / 4: strictly convex; Newton's step x -= H^-1 g (2x2).
    auto f = [](const std::vector<Tensor>& v) {
        const Tensor& x = v[0];
        return sum(exp(x) - x * 2.0) +
               sum(x * reshape(matmul(tensor({0, 1, 1, 0}, {2, 2}, f64), x), {2})) * 0.125;
    };
    std::vector<double> x = {1.5, -0.5};
    std::vector<double> errors;
    for (int it = 0; it < 8; ++it) {
        Tensor t = tensor(x, f64, true);
        Tensor y = f({t});
        const Tensor g = grad({y}, {t}, {}, std::nullopt, /*create_graph=*/true)[0];
        const Tensor h = hessian(f, {tensor(x, f64)})[0][0];
        const double a = h.at({0, 0}), b = h.at({0, 1}), c = h.at({1, 0}), d = h.at({1, 1});
        const double g0 = g.value().at(0), g1 = g.value().at(1), det = a * d - b * c;
        x[0] -= (d * g0 - b * g1) / det;
        x[1] -= (-c * g0 + a * g1) / det;
        errors.push_back(std::hypot(g0, g1));
    }
    // Quadratic: once close, each gradient norm is at most ~C times the previous one squared.
    EXPECT_LT(errors.back(), 1e-12);
    for (std::size_t i = 2; i + 1 < errors.size() && errors[i] > 1e-8; ++i) {
        EXPECT_LT(errors[i + 1], 10 * errors[i] * errors[i]) << "iteration " << i;
    }
}

TEST(HigherOrder, GradientPenaltyTrainsTheWeights) {
    // D(x) = sum(tanh(x W)); penalty (||dD/dx|| - 1)^2, minimised over W by gradient descent.
    Tensor w = rand64({3, 2}, 31);
    Tensor x = uniform({4, 3}, -1, 1, 32, f64, /*requires_grad=*/true);
    auto penalty = [&]() {
        Tensor d = sum(tanh(matmul(x, w)));
        Tensor gx = grad({d}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
        return square(sqrt(sum(square(gx))) - 1.0);
    };
    const double first = penalty().item();
    for (int step = 0; step < 200; ++step) {
        Tensor p = penalty();
        p.backward();
        {
            GradRef g = w.mutable_grad();
            double* wv = w.mutable_value().data<double>();
            const double* gv = g.data<double>();
            for (std::size_t i = 0; i < 6; ++i) wv[i] -= 0.05 * gv[i];
        }
        w.zero_grad();
        x.zero_grad();
    }
    const double last = penalty().item();
    EXPECT_GT(first, 1e-3);
    EXPECT_LT(last, first * 1e-3);
}

TEST(HigherOrder, MamlStepDifferentiatesThroughAnSgdUpdate) {
    // Inner: w' = w - a dL_train/dw; outer: L_val(w'). d L_val(w')/dw by the chain rule through
    // the update, against a finite difference of the whole procedure.
    const double a = 0.1;
    auto inner_outer = [a](const Tensor& w) {
        const Tensor xt = tensor({0.5, -1.0, 2.0}, f64), yt = tensor({1.0, 0.0, 3.0}, f64);
        const Tensor xv = tensor({1.5, 0.3}, f64), yv = tensor({2.0, 0.1}, f64);
        Tensor train = mean(square(xt * w - yt));
        Tensor g = grad({train}, {w}, {}, std::nullopt, /*create_graph=*/true)[0];
        Tensor w2 = w - g * a;
        return mean(square(xv * w2 - yv));
    };
    Tensor w = scalar(0.7, f64, true);
    const double analytic = grad({inner_outer(w)}, {w})[0].item();
    const double eps = 1e-6;
    NoGradGuard* none = nullptr;
    (void)none;
    auto value_at = [&](double v) {
        Tensor t = scalar(v, f64, true);
        return inner_outer(t).item();
    };
    const double numeric = (value_at(0.7 + eps) - value_at(0.7 - eps)) / (2 * eps);
    EXPECT_NEAR(analytic, numeric, 1e-7);
    // Without create_graph the inner gradient is a constant: the first-order MAML answer.
    Tensor w3 = scalar(0.7, f64, true);
    const Tensor xt = tensor({0.5, -1.0, 2.0}, f64), yt = tensor({1.0, 0.0, 3.0}, f64);
    Tensor g = grad({mean(square(xt * w3 - yt))}, {w3})[0];
    EXPECT_FALSE(g.requires_grad());
}

// ---- Bad input ----

TEST(HigherOrder, GradBadInputsAreClearErrors) {
    Tensor x = tensor({1, 2}, f64, true), z = scalar(5, f64, true);
    Tensor y = sum(x * x);
    EXPECT_THROW_MSG(grad({y}, {x, z}, {}, true), std::invalid_argument, "grad: input 1",
                     "not used by the outputs", "allow_unused");
    const std::vector<Tensor> g = grad({y}, {x, z}, {}, true, false, /*allow_unused=*/true);
    EXPECT_TRUE(g[0].defined());
    EXPECT_FALSE(g[1].defined());
    EXPECT_THROW_MSG(grad({y}, {x}, {scalar(1, f64), scalar(1, f64)}, true), std::invalid_argument,
                     "grad_outputs has 2 entries for 1 outputs");
    EXPECT_THROW_MSG(grad({x * 2.0}, {x}, {tensor({1, 2, 3}, f64)}, true), std::invalid_argument,
                     "grad_outputs[0] is (3) float64 but output 0 is (2) float64");
    EXPECT_THROW_MSG(grad({x * 2.0}, {x}, {tensor({1, 2}, f32)}, true), std::invalid_argument,
                     "grad_outputs[0] is (2) float32 but output 0 is (2) float64");
    EXPECT_THROW_MSG(grad({x * 2.0}, {x}), std::invalid_argument, "output 0 has shape (2)",
                     "grad_outputs[0] is needed");
    EXPECT_THROW_MSG(grad({y}, {tensor({1}, f64)}, {}, true), std::invalid_argument,
                     "grad: input 0", "does not require grad");
}

TEST(HigherOrder, DifferentiatingAGradientTakenWithoutCreateGraphSaysSo) {
    Tensor x = scalar(2, f64, true);
    Tensor g = grad({x * x * x}, {x})[0];
    EXPECT_THROW_MSG(grad({g}, {x}), std::logic_error, "create_graph=false");
    EXPECT_THROW_MSG(g.backward(), std::logic_error, "create_graph=false");
    EXPECT_THROW_MSG((g * 2.0).backward(), std::logic_error, "create_graph=false");
    Tensor y = x * x;
    y.backward();
    EXPECT_THROW_MSG(x.grad().backward(), std::logic_error, "create_graph=false");
}

TEST(HigherOrder, CreateGraphThroughACustomOpWithoutDoubleBackwardIsAnError) {
    Tensor x = scalar(2, f64, true);
    auto fwd = [](const std::vector<Tensor>& in) { return in[0] * in[0] * in[0]; };
    auto bwd = [](const std::vector<Tensor>& in, const Tensor&, const Tensor& g) {
        return std::vector<Tensor>{g * 3.0 * in[0] * in[0]};
    };
    Tensor y = custom_op("cube", {x}, fwd, bwd);
    EXPECT_THROW_MSG(grad({y}, {x}, {}, std::nullopt, true), std::logic_error,
                     "custom op 'cube' has no double backward",
                     "give it a differentiable backward");
    // First order still works, and a differentiable backward gives the second derivative.
    EXPECT_DOUBLE_EQ(grad({custom_op("cube", {x}, fwd, bwd)}, {x})[0].item(), 12.0);
    Tensor y2 = custom_op("cube", {x}, fwd, bwd, bwd);
    Tensor g = grad({y2}, {x}, {}, std::nullopt, true)[0];
    EXPECT_DOUBLE_EQ(grad({g}, {x})[0].item(), 12.0);  // 6x
}

TEST(HigherOrder, InPlaceChangeAfterSavingThrowsInsteadOfAWrongGradient) {
    Tensor x = tensor({1, 2, 3}, f64, true);
    Tensor y = sum(x * x);
    x.mutable_value().set(0, 10);  // was a silent [20, 4, 6]
    EXPECT_THROW_MSG(y.backward(), std::logic_error,
                     "mul: input 0 was modified in place after it was saved (version 1, saved "
                     "at version 0)");
    // An op that does not read its input's value (add, sum) is not affected.
    Tensor a = tensor({1, 2}, f64, true);
    Tensor s = sum(a + 1.0);
    a.mutable_value().set(0, 5);
    s.backward();
    EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{1, 1}));
    // A new graph after the change is fine.
    Tensor y2 = sum(x * x);
    y2.backward();
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{20, 4, 6}));
}

TEST(HigherOrder, MutableValueRefusesAnotherShapeOrDtype) {
    Tensor x = tensor({1, 2, 3}, f64, true);
    EXPECT_THROW_MSG(x.mutable_value() = Array(f64, Shape{4}), std::invalid_argument,
                     "mutable_value: a replacement must keep shape and dtype",
                     "got (4) float64, expected (3) float64", "set_data");
    EXPECT_THROW_MSG(x.mutable_value() = Array(f32, Shape{3}), std::invalid_argument,
                     "got (3) float32, expected (3) float64");
    x.mutable_value() = Array::from_values(f64, {3}, {4, 5, 6});
    EXPECT_EQ(x.to_vector(), (std::vector<double>{4, 5, 6}));
    // set_data changes shape and dtype, and a graph recorded before then refuses its backward.
    Tensor y = sum(x * x);
    x.set_data(Array(f32, Shape{2}));
    EXPECT_EQ(x.shape(), (Shape{2}));
    EXPECT_THROW_MSG(y.backward(), std::logic_error, "modified in place after it was saved");
}

// ---- The observer hook ----

TEST(HigherOrder, ObserverSeesEveryNodeAndEachLeafOnceWhenItsGradientIsComplete) {
    struct Watch : GraphObserver {
        int nodes = 0, recorded = 0;
        std::vector<std::string> ready;
        bool wants_leaf_events() const override { return true; }
        void on_record(Node&) override { ++recorded; }
        void on_backward_node(const Node&, const Array&, const Array* const*,
                              std::size_t) override {
            ++nodes;
        }
        void on_leaf_ready(const Tensor& leaf) override {
            ready.push_back(leaf.name() + "=" + std::to_string(leaf.grad().item()));
        }
    } watch;
    Tensor a = scalar(2, f64, true).set_name("a"), b = scalar(3, f64, true).set_name("b");
    {
        ObserverGuard guard(watch);
        Tensor y = (a * b + a) * a;  // dy/da = 2ab + 2a = 16, dy/db = a^2 = 4
        y.backward();
    }
    EXPECT_EQ(watch.recorded, 3);
    EXPECT_EQ(watch.nodes, 3);
    ASSERT_EQ(watch.ready.size(), 2u);
    // a's last consumer (a * b) is processed last, with b's only one: a's edge comes first.
    EXPECT_EQ(watch.ready[0], "a=16.000000");
    EXPECT_EQ(watch.ready[1], "b=4.000000");
    // Unregistered: nothing more arrives.
    (a * b).backward();
    EXPECT_EQ(watch.nodes, 3);
}

}  // namespace
}  // namespace xgrad
