// Conv1d / Conv2d and unfold / fold: forward against plain loops, gradcheck and gradgradcheck in
// float64, parameter counts and init bounds as PyTorch's, every error message.

#include "nn/conv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "autograd/gradcheck.h"
#include "nn/init.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

namespace F = functional;

// y[n, o, oy, ox] = b[o] + sum_{c in group(o), i, j} w[o, c, i, j] x[n, g(o) Cg + c, oy sh + i dh
// - ph, ox sw + j dw - pw], with zeros outside: the definition, looped.
std::vector<double> conv2d_loops(const Tensor& x, const Tensor& w, const Tensor& b, std::size_t sh,
                                 std::size_t sw, std::size_t ph, std::size_t pw, std::size_t dh,
                                 std::size_t dw, std::size_t groups, std::size_t& oh,
                                 std::size_t& ow) {
    const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
    const std::size_t O = w.shape()[0], Cg = w.shape()[1], KH = w.shape()[2], KW = w.shape()[3];
    oh = (H + 2 * ph - dh * (KH - 1) - 1) / sh + 1;
    ow = (W + 2 * pw - dw * (KW - 1) - 1) / sw + 1;
    const std::size_t Og = O / groups;
    std::vector<double> y(N * O * oh * ow, 0.0);
    const auto xv = x.to_vector(), wv = w.to_vector();
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t a = 0; a < oh; ++a)
                for (std::size_t e = 0; e < ow; ++e) {
                    double s = b.defined() ? b.at({o}) : 0.0;
                    for (std::size_t c = 0; c < Cg; ++c)
                        for (std::size_t i = 0; i < KH; ++i)
                            for (std::size_t j = 0; j < KW; ++j) {
                                const long iy = long(a * sh + i * dh) - long(ph);
                                const long ix = long(e * sw + j * dw) - long(pw);
                                if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W)) continue;
                                const std::size_t ci = (o / Og) * Cg + c;
                                s += wv[((o * Cg + c) * KH + i) * KW + j] *
                                     xv[((n * C + ci) * H + std::size_t(iy)) * W + std::size_t(ix)];
                            }
                    y[((n * O + o) * oh + a) * ow + e] = s;
                }
    (void)C;
    return y;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

struct Case {
    std::size_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    bool bias;
};

TEST(Conv2d, ForwardMatchesLoopsForStridePaddingDilationGroups) {
    const Case cases[] = {
        {2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true},
        {1, 4, 9, 8, 6, 3, 2, 2, 3, 1, 0, 1, 1, 2, true},
        {2, 2, 8, 8, 2, 3, 3, 1, 2, 2, 1, 2, 1, 1, false},
        {1, 4, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 4, true},
    };
    std::uint64_t seed = 1;
    for (const Case& k : cases) {
        Tensor x = uniform({k.n, k.c, k.h, k.w}, -1, 1, seed++, f64);
        Tensor w = uniform({k.o, k.c / k.groups, k.kh, k.kw}, -1, 1, seed++, f64);
        Tensor b = k.bias ? uniform({k.o}, -1, 1, seed++, f64) : Tensor();
        F::Conv2dFuncOptions o;
        o.stride({k.sh, k.sw}).padding({k.ph, k.pw}).dilation({k.dh, k.dw}).groups(k.groups);
        Tensor y = F::conv2d(x, w, b, o);
        std::size_t oh = 0, ow = 0;
        const auto want =
            conv2d_loops(x, w, b, k.sh, k.sw, k.ph, k.pw, k.dh, k.dw, k.groups, oh, ow);
        EXPECT_EQ(y.shape(), (Shape{k.n, k.o, oh, ow}));
        expect_near_all(y.to_vector(), want, 1e-12);
    }
}

TEST(Conv2d, Float32MatchesFloat64) {
    Tensor x = uniform({2, 3, 6, 6}, -1, 1, 3, f64);
    Tensor w = uniform({5, 3, 3, 3}, -1, 1, 4, f64);
    Tensor b = uniform({5}, -1, 1, 5, f64);
    F::Conv2dFuncOptions o;
    o.padding(1);
    const auto y64 = F::conv2d(x, w, b, o).to_vector();
    const auto y32 = F::conv2d(to(x, f32), to(w, f32), to(b, f32), o).to_vector();
    expect_near_all(y32, y64, 1e-5);
}

TEST(Conv2d, GradcheckEveryInputAndSecondOrder) {
    const auto f = [](const std::vector<Tensor>& in) {
        F::Conv2dFuncOptions o;
        o.stride({2, 1}).padding({1, 2}).dilation({1, 2}).groups(2);
        return F::conv2d(in[0], in[1], in[2], o);
    };
    const std::vector<Tensor> in{uniform({2, 4, 5, 6}, -1, 1, 6, f64, true),
                                 uniform({6, 2, 3, 2}, -1, 1, 7, f64, true),
                                 uniform({6}, -1, 1, 8, f64, true)};
    auto r = gradcheck(f, in);
    EXPECT_TRUE(r.ok) << r.message;
    auto r2 = gradgradcheck(f, in);
    EXPECT_TRUE(r2.ok) << r2.message;
}

TEST(Conv2d, SamePaddingKeepsTheSizeAsPyTorchIncludingEvenKernels) {
    // An even kernel pads (0, 1): PyTorch puts the odd padding after.
    Tensor x = uniform({1, 2, 5, 6}, -1, 1, 9, f64);
    Tensor w = uniform({3, 2, 2, 4}, -1, 1, 10, f64);
    F::Conv2dFuncOptions o;
    o.padding("same");
    Tensor y = F::conv2d(x, w, {}, o);
    EXPECT_EQ(y.shape(), (Shape{1, 3, 5, 6}));
    // Against explicit padding: left/top pads are total/2 = (0, 1), so pad the input by hand.
    Tensor xp = zeros({1, 2, 6, 9}, f64);
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t j = 0; j < 6; ++j)
                xp.mutable_value().set(((c * 6) + i) * 9 + j + 1, x.at({0, c, i, j}));
    const auto want = F::conv2d(xp, w).to_vector();
    expect_near_all(y.to_vector(), want, 1e-12);
    auto r = gradcheck(
        [&](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], {}, o); },
        {uniform({1, 2, 4, 5}, -1, 1, 11, f64, true), uniform({2, 2, 2, 3}, -1, 1, 12, f64, true)});
    EXPECT_TRUE(r.ok) << r.message;
}

TEST(Conv2d, ModuleHasPyTorchsParametersInitAndPrintout) {
    manual_seed(0);
    Conv2d conv(Conv2dOptions(1, 6, 5).padding(2));
    EXPECT_EQ(conv.weight().shape(), (Shape{6, 1, 5, 5}));
    EXPECT_EQ(conv.bias().shape(), (Shape{6}));
    std::size_t count = 0;
    for (const Tensor& p : conv.parameters()) count += p.numel();
    EXPECT_EQ(count, 156u);  // PyTorch: sum(p.numel()) = 150 + 6
    // kaiming_uniform(a = sqrt(5)): |w| <= 1/sqrt(25), and the values spread over the bound.
    double lo = 1, hi = -1;
    for (double v : conv.weight().to_vector()) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    EXPECT_GE(lo, -0.2);
    EXPECT_LE(hi, 0.2);
    EXPECT_LT(lo, -0.15);
    EXPECT_GT(hi, 0.15);
    for (double v : conv.bias().to_vector()) EXPECT_LE(std::abs(v), 0.2);
    std::ostringstream os;
    os << conv;
    EXPECT_EQ(os.str(), "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
    Conv2d grouped(Conv2dOptions(16, 32, 3).groups(4).bias(false));
    EXPECT_EQ(grouped.parameters().size(), 1u);
    EXPECT_EQ(grouped.weight().numel(), 1152u);  // PyTorch: 32 * 4 * 3 * 3
    Tensor y = conv.forward(ones({2, 1, 28, 28}));
    EXPECT_EQ(y.shape(), (Shape{2, 6, 28, 28}));
    EXPECT_EQ(conv.forward(ones({1, 28, 28})).shape(), (Shape{6, 28, 28}));  // unbatched
}

TEST(Conv2d, BackwardThroughTheModuleReachesWeightAndBias) {
    Conv2d conv(Conv2dOptions(2, 3, 3).stride(2).dtype(f64));
    Tensor x = uniform({2, 2, 7, 7}, -1, 1, 13, f64, true);
    auto r = gradcheck([&](const std::vector<Tensor>& in) { return conv.forward(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << r.message;
    conv.zero_grad();  // gradcheck's own backward reached the parameters too
    sum(conv.forward(x)).backward();
    // d(sum y)/db = number of output positions per channel: 3 x 3 per sample, 2 samples.
    for (double v : conv.bias().grad().to_vector()) EXPECT_DOUBLE_EQ(v, 18.0);
}

TEST(Conv2d, ErrorsNameTheLayerAndTheShapes) {
    Conv2d conv(Conv2dOptions(3, 6, 5));
    EXPECT_THROW_MSG(conv.forward(ones({3, 28})), std::invalid_argument, "Conv2d",
                     "expected a 3-D (C, H, W) or 4-D (N, C, H, W) input", "(3,28)");
    EXPECT_THROW_MSG(conv.forward(ones({2, 1, 28, 28})), std::invalid_argument, "Conv2d",
                     "expected input with 3 channels", "(2,1,28,28)", "(6,3,5,5)");
    EXPECT_THROW_MSG(conv.forward(ones({2, 3, 4, 28})), std::invalid_argument, "Conv2d",
                     "kernel size can't be greater than the padded input size", "(4 x 28)",
                     "(5 x 5)");
    EXPECT_THROW_MSG(conv.forward(ones({2, 3, 28, 28}, f64)), std::invalid_argument, "Conv2d",
                     "input dtype float64 differs from the weight's float32");
    EXPECT_THROW_MSG(Conv2d(Conv2dOptions(3, 6, 3).groups(2)), std::invalid_argument,
                     "Conv2d: in_channels and out_channels must be divisible by groups",
                     "groups=2");
    EXPECT_THROW_MSG(
        Conv2d(Conv2dOptions(3, 6, 3).stride(2).padding("same")).forward(ones({1, 3, 8, 8})),
        std::invalid_argument, "padding='same' is not supported for strided");
    EXPECT_THROW_MSG(Conv2d(Conv2dOptions(3, 6, 3).stride(0)).forward(ones({1, 3, 8, 8})),
                     std::invalid_argument, "Conv2d: stride must be positive");
    EXPECT_THROW_MSG(Padding2("full"), std::invalid_argument, "expected \"same\" or \"valid\"");
}

TEST(Conv1d, ForwardMatchesLoopsAndGradchecks) {
    Tensor x = uniform({2, 4, 9}, -1, 1, 14, f64, true);
    Tensor w = uniform({6, 2, 3}, -1, 1, 15, f64, true);
    Tensor b = uniform({6}, -1, 1, 16, f64, true);
    Tensor y = F::conv1d(x, w, b, /*stride=*/2, /*padding=*/1, /*dilation=*/2, /*groups=*/2);
    // OL = (9 + 2 - 2 * 2 - 1) / 2 + 1 = 4
    ASSERT_EQ(y.shape(), (Shape{2, 6, 4}));
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t o = 0; o < 6; ++o)
            for (std::size_t l = 0; l < 4; ++l) {
                double s = b.at({o});
                for (std::size_t c = 0; c < 2; ++c)
                    for (std::size_t j = 0; j < 3; ++j) {
                        const long ix = long(l * 2 + j * 2) - 1;
                        if (ix < 0 || ix >= 9) continue;
                        s += w.at({o, c, j}) * x.at({n, (o / 3) * 2 + c, std::size_t(ix)});
                    }
                EXPECT_NEAR(y.at({n, o, l}), s, 1e-12);
            }
    auto r = gradcheck(
        [](const std::vector<Tensor>& in) { return F::conv1d(in[0], in[1], in[2], 2, 1, 2, 2); },
        {x, w, b});
    EXPECT_TRUE(r.ok) << r.message;
    Conv1d conv(Conv1dOptions(4, 8, 3).padding("same"));
    EXPECT_EQ(conv.forward(ones({2, 4, 10})).shape(), (Shape{2, 8, 10}));
    EXPECT_EQ(conv.forward(ones({4, 10})).shape(), (Shape{8, 10}));
    EXPECT_EQ(conv.weight().shape(), (Shape{8, 4, 3}));
    EXPECT_THROW_MSG(conv.forward(ones({2, 3, 10})), std::invalid_argument, "Conv1d",
                     "expected input with 4 channels", "(2,3,10)");
    std::ostringstream os;
    os << conv;
    EXPECT_EQ(os.str(), "Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=same)");
}

TEST(Unfold, MatchesLoopsAndFoldIsItsAdjoint) {
    Tensor x = uniform({2, 3, 5, 4}, -1, 1, 17, f64, true);
    Tensor cols = F::unfold(x, {2, 3}, /*dilation=*/1, /*padding=*/{1, 0}, /*stride=*/{2, 1});
    // OH = (5 + 2 - 2) / 2 + 1 = 3, OW = (4 - 3) + 1 = 2
    ASSERT_EQ(cols.shape(), (Shape{2, 18, 6}));
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 3; ++j)
                for (std::size_t a = 0; a < 3; ++a)
                    for (std::size_t e = 0; e < 2; ++e) {
                        const long iy = long(a * 2 + i) - 1;
                        const double want =
                            iy < 0 || iy >= 5 ? 0.0 : x.at({1, c, std::size_t(iy), e + j});
                        EXPECT_EQ(cols.at({1, (c * 2 + i) * 3 + j, a * 2 + e}), want);
                    }
    // <unfold(x), u> == <x, fold(u)> for any u: fold is unfold's adjoint.
    Tensor u = uniform({2, 18, 6}, -1, 1, 18, f64);
    Tensor fu = F::fold(u, {5, 4}, {2, 3}, 1, {1, 0}, {2, 1});
    EXPECT_NEAR(sum(cols * u).item(), sum(x * fu).item(), 1e-12);
    auto r = gradgradcheck(
        [](const std::vector<Tensor>& in) {
            return square(F::fold(in[0], {5, 4}, {2, 3}, 1, {1, 0}, {2, 1}));
        },
        {uniform({1, 18, 6}, -1, 1, 19, f64, true)});
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_THROW_MSG(F::fold(u, {5, 5}, {2, 3}, 1, {1, 0}, {2, 1}), std::invalid_argument,
                     "fold: expected 9 blocks", "(2,18,6)");
}

}  // namespace
}  // namespace xgrad::nn
