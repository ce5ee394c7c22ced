// MaxPool1d/2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Unflatten: forward against plain loops,
// gradcheck (and gradgradcheck) in float64, printouts, every error message.

#include "nn/pooling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "autograd/gradcheck.h"
#include "tests/support/check.h"
#include "tests/support/value_check.h"

namespace xgrad::nn {
namespace {

namespace F = functional;

// Distinct values (a shuffled ramp): no ties, so max is smooth for the gradcheck.
Tensor ramp(Shape shape, std::uint64_t seed, bool requires_grad = false) {
    const std::size_t n = shape.numel();
    std::vector<double> v(n);
    std::uint64_t s = seed;
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i) / static_cast<double>(n);
    for (std::size_t i = n; i > 1; --i) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        std::swap(v[i - 1], v[(s >> 33) % i]);
    }
    return tensor(v, shape, f64, requires_grad);
}

std::string print(const Module& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

TEST(MaxPool2d, ForwardMatchesLoopsWithStridePaddingDilation) {
    Tensor x = ramp({2, 3, 7, 6}, 1);
    MaxPool2dOptions o({3, 2});
    o.stride({2, 1}).padding({1, 1}).dilation({1, 2});
    Tensor y = F::max_pool2d(x, o);
    // OH = (7 + 2 - 3) / 2 + 1 = 4; OW = (6 + 2 - 2 * 1 - 1) / 1 + 1 = 6
    ASSERT_EQ(y.shape(), (Shape{2, 3, 4, 6}));
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t a = 0; a < 4; ++a)
                for (std::size_t e = 0; e < 6; ++e) {
                    double m = -std::numeric_limits<double>::infinity();
                    for (std::size_t i = 0; i < 3; ++i)
                        for (std::size_t j = 0; j < 2; ++j) {
                            const long iy = long(a * 2 + i) - 1, ix = long(e + j * 2) - 1;
                            if (iy < 0 || ix < 0 || iy >= 7 || ix >= 6) continue;
                            m = std::max(m, x.at({n, c, std::size_t(iy), std::size_t(ix)}));
                        }
                    EXPECT_EQ(y.at({n, c, a, e}), m);
                }
}

TEST(MaxPool2d, GradientGoesToTheArgmaxAndChecks) {
    auto f = [](const std::vector<Tensor>& in) {
        return F::max_pool2d(in[0], MaxPool2dOptions(2).padding(1));
    };
    auto r = gradcheck(f, {ramp({2, 2, 5, 4}, 2, true)});
    EXPECT_TRUE(r.ok) << r.message;
    auto r2 = gradgradcheck(
        [](const std::vector<Tensor>& in) {
            return square(F::max_pool2d(in[0], MaxPool2dOptions(2)));
        },
        {ramp({1, 2, 4, 4}, 3, true)});
    EXPECT_TRUE(r2.ok) << r2.message;
    // Ties: the first maximal element takes the whole gradient, as PyTorch.
    Tensor x = ones({1, 1, 2, 2}, f64, true);
    sum(F::max_pool2d(x, MaxPool2dOptions(2))).backward();
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1, 0, 0, 0}));
    // NaN propagates.
    Tensor nan = tensor({1, std::nan(""), 3, 2}, Shape{1, 1, 2, 2}, f64);
    EXPECT_TRUE(std::isnan(F::max_pool2d(nan, MaxPool2dOptions(2)).item()));
}

// Windows that all lie inside the plane take a faster path: it must keep the first maximum on
// ties and let NaN win, with dilation and a stride, as the loop here (and PyTorch) does.
TEST(MaxPool2d, WindowsInsideThePlaneKeepTiesAndNaNAsTheLoops) {
    const std::size_t N = 2, C = 3, H = 9, W = 8, K = 3, SH = 2, SW = 1, DH = 2, DW = 1;
    const std::size_t OH = (H - DH * (K - 1) - 1) / SH + 1, OW = (W - DW * (K - 1) - 1) / SW + 1;
    std::vector<double> v(N * C * H * W);
    std::uint64_t s = 7;
    for (double& e : v) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        e = static_cast<double>((s >> 33) % 3);  // many ties
    }
    v[5] = v[40] = v[41] = std::nan("");  // one NaN alone, two in one window
    Tensor x = tensor(v, Shape{N, C, H, W}, f64, true);
    Tensor y = F::max_pool2d(x, MaxPool2dOptions(K).stride({SH, SW}).dilation({DH, DW}));
    ASSERT_EQ(y.shape(), (Shape{N, C, OH, OW}));
    std::vector<double> want(N * C * OH * OW), grad(v.size(), 0.0), seed(want.size());
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = 1.0 + static_cast<double>(i % 5);
    for (std::size_t p = 0; p < N * C; ++p) {
        for (std::size_t oy = 0; oy < OH; ++oy) {
            for (std::size_t ox = 0; ox < OW; ++ox) {
                std::size_t at = 0;
                bool first = true;
                for (std::size_t i = 0; i < K; ++i) {
                    for (std::size_t j = 0; j < K; ++j) {
                        const std::size_t f = p * H * W + (oy * SH + i * DH) * W + ox * SW + j * DW;
                        const bool nan_now = std::isnan(v[f]),
                                   nan_best = !first && std::isnan(v[at]);
                        if (first || (!nan_best && (nan_now || v[f] > v[at]))) at = f;
                        first = false;
                    }
                }
                const std::size_t o = (p * OH + oy) * OW + ox;
                want[o] = v[at];
                grad[at] += seed[o];
            }
        }
    }
    EXPECT_TRUE(xgrad::testing::near(y, want, 0));
    y.backward(tensor(seed, y.shape(), f64));
    EXPECT_TRUE(xgrad::testing::near(x.grad(), grad, 0));
}

TEST(MaxPool2d, ModuleShapesPrintoutAndErrors) {
    MaxPool2d pool(MaxPool2dOptions(2));
    EXPECT_EQ(pool.forward(ones({4, 6, 28, 28})).shape(), (Shape{4, 6, 14, 14}));
    EXPECT_EQ(pool.forward(ones({6, 28, 28})).shape(), (Shape{6, 14, 14}));
    EXPECT_EQ(print(pool),
              "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), "
              "dilation=(1, 1))");
    EXPECT_THROW_MSG(pool.forward(ones({28, 28})), std::invalid_argument, "max_pool2d",
                     "expected a 3-D (C, H, W) or 4-D (N, C, H, W) input", "(28,28)");
    EXPECT_THROW_MSG(F::max_pool2d(ones({1, 1, 4, 4}), MaxPool2dOptions(3).padding(2)),
                     std::invalid_argument, "pad should be at most half of effective kernel size");
    EXPECT_THROW_MSG(F::max_pool2d(ones({1, 1, 2, 2}), MaxPool2dOptions(3)), std::invalid_argument,
                     "kernel size can't be greater than the padded input");
}

TEST(MaxPool1d, MatchesLoopsAndGradchecks) {
    Tensor x = ramp({2, 3, 9}, 4, true);
    Tensor y = F::max_pool1d(x, MaxPool1dOptions(3).stride(2).padding(1));
    ASSERT_EQ(y.shape(), (Shape{2, 3, 5}));  // (9 + 2 - 3) / 2 + 1
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t l = 0; l < 5; ++l) {
                double m = -1;
                for (std::size_t j = 0; j < 3; ++j) {
                    const long ix = long(l * 2 + j) - 1;
                    if (ix >= 0 && ix < 9) m = std::max(m, x.at({n, c, std::size_t(ix)}));
                }
                EXPECT_EQ(y.at({n, c, l}), m);
            }
    auto r = gradcheck(
        [](const std::vector<Tensor>& in) {
            return F::max_pool1d(in[0], MaxPool1dOptions(3).stride(2).padding(1));
        },
        {x});
    EXPECT_TRUE(r.ok) << r.message;
    MaxPool1d pool(MaxPool1dOptions(2));
    EXPECT_EQ(pool.forward(ones({3, 8})).shape(), (Shape{3, 4}));
    EXPECT_EQ(print(pool), "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1)");
}

TEST(AvgPool2d, MatchesLoopsWithAndWithoutPaddingInTheCount) {
    Tensor x = uniform({2, 2, 5, 6}, -1, 1, 5, f64, true);
    for (bool include : {true, false}) {
        AvgPool2dOptions o({3, 2});
        o.stride({2, 2}).padding({1, 1}).count_include_pad(include);
        Tensor y = F::avg_pool2d(x, o);
        ASSERT_EQ(y.shape(), (Shape{2, 2, 3, 4}));  // (5+2-3)/2+1, (6+2-2)/2+1
        for (std::size_t n = 0; n < 2; ++n)
            for (std::size_t c = 0; c < 2; ++c)
                for (std::size_t a = 0; a < 3; ++a)
                    for (std::size_t e = 0; e < 4; ++e) {
                        double s = 0;
                        int count = 0;
                        for (std::size_t i = 0; i < 3; ++i)
                            for (std::size_t j = 0; j < 2; ++j) {
                                const long iy = long(a * 2 + i) - 1, ix = long(e * 2 + j) - 1;
                                if (iy < 0 || ix < 0 || iy >= 5 || ix >= 6) continue;
                                s += x.at({n, c, std::size_t(iy), std::size_t(ix)});
                                ++count;
                            }
                        EXPECT_NEAR(y.at({n, c, a, e}), s / (include ? 6 : count), 1e-12);
                    }
        auto r =
            gradcheck([&](const std::vector<Tensor>& in) { return F::avg_pool2d(in[0], o); }, {x});
        EXPECT_TRUE(r.ok) << r.message;
    }
    EXPECT_EQ(print(AvgPool2d(AvgPool2dOptions(2))),
              "AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))");
}

TEST(AdaptiveAvgPool2d, UsesPyTorchsWindowsAndGradchecks) {
    Tensor x = uniform({2, 3, 5, 7}, -1, 1, 6, f64, true);
    Tensor y = F::adaptive_avg_pool2d(x, {3, 2});
    ASSERT_EQ(y.shape(), (Shape{2, 3, 3, 2}));
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t i = 0; i < 3; ++i)
                for (std::size_t j = 0; j < 2; ++j) {
                    // PyTorch: start = floor(i H / OH), end = ceil((i + 1) H / OH)
                    const std::size_t h0 = i * 5 / 3, h1 = ((i + 1) * 5 + 2) / 3;
                    const std::size_t w0 = j * 7 / 2, w1 = ((j + 1) * 7 + 1) / 2;
                    double s = 0;
                    for (std::size_t h = h0; h < h1; ++h)
                        for (std::size_t w = w0; w < w1; ++w) s += x.at({n, c, h, w});
                    EXPECT_NEAR(y.at({n, c, i, j}), s / double((h1 - h0) * (w1 - w0)), 1e-12);
                }
    auto r = gradcheck(
        [](const std::vector<Tensor>& in) {
            return F::adaptive_avg_pool2d(in[0], {3, 2});
        },
        {x});
    EXPECT_TRUE(r.ok) << r.message;
    AdaptiveAvgPool2d global({1, 1});
    EXPECT_EQ(global.forward(ones({4, 5, 6})).shape(), (Shape{4, 1, 1}));
    EXPECT_EQ(print(global), "AdaptiveAvgPool2d(output_size=(1, 1))");
    EXPECT_THROW_MSG(F::adaptive_avg_pool2d(ones({1, 1, 4, 4}), {0, 1}), std::invalid_argument,
                     "adaptive_avg_pool2d", "positive output size");
}

TEST(Flatten, AndUnflattenReshapeAsPyTorch) {
    Tensor x = uniform({2, 3, 4, 5}, -1, 1, 7, f64, true);
    EXPECT_EQ(Flatten().forward(x).shape(), (Shape{2, 60}));
    EXPECT_EQ(Flatten(0, 2).forward(x).shape(), (Shape{24, 5}));
    EXPECT_EQ(Flatten(-3, -2).forward(x).shape(), (Shape{2, 12, 5}));
    EXPECT_EQ(Flatten().forward(x).to_vector(), x.to_vector());
    EXPECT_EQ(Unflatten(1, {3, 20}).forward(Flatten().forward(x)).shape(), (Shape{2, 3, 20}));
    EXPECT_EQ(Unflatten(-1, {5, 1}).forward(x).shape(), (Shape{2, 3, 4, 5, 1}));
    EXPECT_EQ(print(Flatten()), "Flatten(start_dim=1, end_dim=-1)");
    EXPECT_EQ(print(Unflatten(1, {1, 28, 28})), "Unflatten(dim=1, unflattened_size=(1, 28, 28))");
    auto r = gradcheck([](const std::vector<Tensor>& in) { return Flatten().forward(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_THROW_MSG(F::flatten(x, 2, 1), std::invalid_argument,
                     "flatten: start_dim cannot come after end_dim");
    EXPECT_THROW_MSG(F::flatten(x, 4), std::invalid_argument, "flatten: dimension out of range",
                     "[-4, 3], but got 4");
    EXPECT_THROW_MSG(F::unflatten(x, 1, {2, 2}), std::invalid_argument,
                     "unflatten: provided sizes (2, 2) don't multiply up to the size of dim 1 (3)");
}

}  // namespace
}  // namespace xgrad::nn
