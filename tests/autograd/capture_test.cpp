// Capture and replay (autograd/capture.h): a replay gives the dynamic path's numbers bit for
// bit, on the scalar tape and on the node path; shape changes and frozen branches are caught.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <thread>

#include "tests/support/check.h"

namespace xgrad {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::vector<Array> values(std::initializer_list<double> xs) {
    std::vector<Array> out;
    for (double x : xs) out.push_back(Array::scalar(f64, x));
    return out;
}

// The course's two-weight net (notes 000/002): one SGD step, the dynamic way.
double dynamic_step(double x, double y, Tensor& w1, Tensor& w2) {
    Tensor a2 = sigmoid(sigmoid(scalar(x, f64) * w1) * w2);
    Tensor loss = 0.5 * square(a2 - scalar(y, f64));
    loss.backward();
    return loss.item();
}

void sgd(Tensor& w) {
    w.mutable_value().data<double>()[0] -= 0.1 * w.grad().item();
    w.zero_grad();
}

TEST(Capture, TwoWeightNetReplayEqualsDynamicPathBitForBit) {
    Tensor w1 = scalar(0.8, f64, true), w2 = scalar(-0.4, f64, true);
    Tensor v1 = scalar(0.8, f64, true), v2 = scalar(-0.4, f64, true);  // the replay's copy
    Capture step(
        [&](const std::vector<Tensor>& in) {
            Tensor a2 = sigmoid(sigmoid(in[0] * v1) * v2);
            return 0.5 * square(a2 - in[1]);
        },
        {scalar(1.5, f64), scalar(0.5, f64)});
    EXPECT_TRUE(step.scalar_tape());
    EXPECT_EQ(step.num_nodes(), 7u);
    for (int i = 0; i < 50; ++i) {
        const double x = 1.5 - 0.05 * i, y = 0.5 + 0.01 * i;
        const double loss = dynamic_step(x, y, w1, w2);
        step.replay(values({x, y}));
        ASSERT_TRUE(same_bits(step.output().item(), loss)) << "step " << i;
        ASSERT_TRUE(same_bits(v1.grad().item(), w1.grad().item())) << "step " << i;
        ASSERT_TRUE(same_bits(v2.grad().item(), w2.grad().item())) << "step " << i;
        sgd(w1), sgd(w2), sgd(v1), sgd(v2);
    }
    EXPECT_NE(w1.item(), 0.8);  // the weights did move
}

// Figure 5 of note 001: f = ((x + y) + x y) z, every leaf an input that requires grad.
TEST(Capture, CourseFigure5ReplaysWithNewValues) {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Capture f(
        [](const std::vector<Tensor>& in) { return ((in[0] + in[1]) + in[0] * in[1]) * in[2]; },
        {x, y, z});
    f.replay(values({1, 5, -2}));
    // f = (6 + 5)(-2) = -22; df/dx = (1 + y) z = -12, df/dy = (1 + x) z = -4, df/dz = 11
    EXPECT_EQ(f.output().item(), -22.0);
    EXPECT_EQ(x.grad().item(), -12.0);
    EXPECT_EQ(y.grad().item(), -4.0);
    EXPECT_EQ(z.grad().item(), 11.0);
}

// Many consumers of one leaf and of one interior node: the order of the sums matters for the
// bits, and the tape must follow the engine's.
TEST(Capture, ScalarChainWithSharedNodesEqualsDynamicPathBitForBit) {
    auto fn = [](const std::vector<Tensor>& in) {
        Tensor y = in[0];
        for (int i = 0; i < 300; ++i) y = sigmoid(in[1] * y + in[2]);
        Tensor h = y * in[1];
        return h * h + tanh(h) * 3.0 + h / (h + 2.0) - exp(h * 0.1);
    };
    Tensor a = scalar(0.9, f64, true), b = scalar(0.1, f64, true), a2 = scalar(0.9, f64, true),
           b2 = scalar(0.1, f64, true);
    Capture cap(fn, {scalar(0.5, f64), a2, b2});
    ASSERT_TRUE(cap.scalar_tape());
    for (double y0 : {0.5, -0.3, 1.7}) {
        a.zero_grad(), b.zero_grad(), a2.zero_grad(), b2.zero_grad();
        Tensor out = fn({scalar(y0, f64), a, b});
        out.backward();
        cap.replay({Array::scalar(f64, y0), a.value(), b.value()});
        EXPECT_TRUE(same_bits(cap.output().item(), out.item()));
        EXPECT_TRUE(same_bits(a2.grad().item(), a.grad().item())) << y0;
        EXPECT_TRUE(same_bits(b2.grad().item(), b.grad().item())) << y0;
    }
}

// Vectors: the node path (values recomputed in place, the engine's walk on the kept graph).
TEST(Capture, VectorGraphUsesTheNodePathAndEqualsDynamicPath) {
    Tensor w = uniform({4}, -1, 1, 7, f32, true), w2 = Tensor(w.value(), true);
    Tensor bias = scalar(0.25, f32, true), bias2 = scalar(0.25, f32, true);
    auto fn = [](const Tensor& x, const Tensor& ww, const Tensor& bb) {
        return mean(square(sigmoid(x * ww + bb) - 0.5f));
    };
    Capture cap([&](const std::vector<Tensor>& in) { return fn(in[0], w2, bias2); },
                {uniform({3, 4}, 0, 1, 1, f32)});
    EXPECT_FALSE(cap.scalar_tape());
    for (std::uint64_t seed : {2, 3}) {
        Tensor x = uniform({3, 4}, 0, 1, seed, f32);
        w.zero_grad(), bias.zero_grad(), w2.zero_grad(), bias2.zero_grad();
        Tensor out = fn(x, w, bias);
        out.backward();
        cap.replay({x.value()});
        EXPECT_EQ(cap.output().item(), out.item());
        EXPECT_EQ(w2.grad().to_vector(), w.grad().to_vector());
        EXPECT_EQ(bias2.grad().item(), bias.grad().item());
    }
}

bool same_bits(const Array& a, const Array& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() &&
           std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// matmul in each of torch.matmul's cases: a replay on new values (and after the parameter
// changed) equals a fresh dynamic run bit for bit, output and gradient.
TEST(Capture, MatmulReplaysEveryCaseBitForBit) {
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{3, 4}, {4, 5}},           // 2-D @ 2-D
        {{4}, {4, 5}},              // vector @ matrix
        {{3, 4}, {4}},              // matrix @ vector
        {{4}, {4}},                 // dot
        {{2, 3, 4}, {4, 5}},        // a batch against one matrix (one gemm over the stacked rows)
        {{2, 1, 3, 4}, {3, 4, 2}},  // broadcast batch dims
    };
    std::uint64_t seed = 1;
    for (const auto& [sa, sb] : cases) {
        Tensor w = uniform(sb, -1, 1, seed++, f64, true);
        auto fn = [&w](const Tensor& x) { return sum(square(matmul(x, w))); };
        Capture cap([&](const std::vector<Tensor>& in) { return fn(in[0]); },
                    {uniform(sa, -1, 1, seed++, f64)});
        for (int step = 0; step < 2; ++step) {
            const Tensor x = uniform(sa, -1, 1, seed++, f64);
            w.zero_grad();
            Tensor out = fn(x);
            out.backward();
            const Array want = w.grad().value();
            w.zero_grad();
            cap.replay({x.value()});
            EXPECT_EQ(cap.output().item(), out.item()) << sa.str() << " @ " << sb.str();
            EXPECT_TRUE(same_bits(w.grad().value(), want)) << sa.str() << " @ " << sb.str();
            w.mutable_value().data<double>()[0] += 0.25;  // the parameter moves between replays
        }
    }
}

// A replay reads the values given to it: an owned array is shared (its owner's later writes copy
// it first), a from_blob array is copied (its memory may go away).
TEST(Capture, ReplayReadsOwnedAndBorrowedValuesAsGiven) {
    Tensor w = ones({3}, f64, true);
    Capture cap([&](const std::vector<Tensor>& in) { return sum(in[0] * w); }, {zeros({3}, f64)});
    Array owned = Array::from_values(f64, {3}, {1, 2, 3});
    cap.replay({owned});
    EXPECT_EQ(cap.output().item(), 6);
    owned.data<double>()[0] = 10;  // copy-on-write: the capture's input keeps 1
    EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{1, 2, 3}));
    w.zero_grad();
    cap.replay({owned});
    EXPECT_EQ(cap.output().item(), 15);
    std::vector<double> buf{4, 5, 6};
    const Array blob = Array::from_blob(buf.data(), Shape{3}, f64);
    cap.replay({blob});
    buf[0] = 40;
    w.zero_grad();
    cap.replay({blob});
    EXPECT_EQ(cap.output().item(), 51);
    EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{40, 5, 6}));
}

TEST(Capture, AnotherShapeOrCountIsAnError) {
    Capture cap([](const std::vector<Tensor>& in) { return sum(in[0] * in[0]); },
                {zeros({3}, f64)});
    EXPECT_THROW_MSG(cap.replay({Array(f64, Shape{4})}), std::invalid_argument,
                     "Capture::replay: input 0 has shape (4) float64", "recorded with (3) float64");
    EXPECT_THROW_MSG(cap.replay({Array(f32, Shape{3})}), std::invalid_argument, "(3) float32",
                     "recorded with (3) float64");
    EXPECT_THROW_MSG(cap.replay({}), std::invalid_argument, "got 0 input values",
                     "the capture has 1 inputs");
}

TEST(Capture, BadCapturesAreErrors) {
    Tensor w = scalar(1, f64, true);
    Tensor nonleaf = w * 2.0;
    EXPECT_THROW_MSG(Capture([](const std::vector<Tensor>& in) { return in[0]; }, {nonleaf}),
                     std::invalid_argument, "input 0 is not a leaf", "'mul'");
    EXPECT_THROW_MSG(
        Capture([](const std::vector<Tensor>& in) { return in[0] * 2.0; }, {zeros({2}, f64)}),
        std::invalid_argument, "one-element tensor", "(2)");
    EXPECT_THROW_MSG(Capture([](const std::vector<Tensor>&) { return scalar(1, f64); }, {}),
                     std::invalid_argument, "does not depend on any input or parameter");
    Tensor m = ones({2}, f64, true);
    EXPECT_THROW_MSG(
        Capture([&](const std::vector<Tensor>& in) { return sum(cumsum(in[0] * m, 0)); },
                {ones({2}, f64)}),
        std::invalid_argument, "op 'cumsum' cannot be replayed");
    // The inputs' requires_grad is restored, also when the function throws.
    Tensor in = scalar(1, f64);
    EXPECT_THROW(
        Capture([](const std::vector<Tensor>&) -> Tensor { throw std::runtime_error("x"); }, {in}),
        std::runtime_error);
    EXPECT_FALSE(in.requires_grad());
}

TEST(Capture, CheckCatchesABranchTheCaptureFroze) {
    Tensor w = scalar(2, f64, true);
    Capture cap(
        [&](const std::vector<Tensor>& in) {
            return in[0].item() > 0 ? in[0] * w : in[0] * w * w;  // control flow on a value
        },
        {scalar(1, f64)});
    cap.check(values({3}));      // same branch: equal
    EXPECT_FALSE(w.has_grad());  // check leaves grad() alone
    EXPECT_THROW_MSG(cap.check(values({-3})), std::runtime_error,
                     "Capture::check: the output differs", "another path than at capture");
    // Same output, another gradient: x w vs x w w at w = 1 (both 3), d/dw 3 vs 6.
    Tensor v = scalar(1, f64, true);
    Capture cap2(
        [&](const std::vector<Tensor>& in) { return in[0].item() > 0 ? in[0] * v : in[0] * v * v; },
        {scalar(1, f64)});
    EXPECT_THROW_MSG(cap2.check(values({-3})), std::runtime_error,
                     "the gradient of parameter 0 (shape ()) differs");
}

// fn(inputs, w) through the dynamic path and replayed from doubles, at each point: the output
// and the gradients of every input and of the parameter w, bit for bit. Inputs and w require
// grad, so every rule's contributions are summed into some gradient.
using ScalarFn = std::function<Tensor(const std::vector<Tensor>&, const Tensor&)>;
void expect_replay_equals_dynamic(const ScalarFn& fn, const std::vector<std::vector<double>>& at,
                                  std::size_t expected_calls) {
    const double w0 = 0.7;
    Tensor w = scalar(w0, f64, true), wd = scalar(w0, f64, true);
    std::vector<Tensor> inputs;
    for (double v : at[0]) inputs.push_back(scalar(v, f64, true));
    Capture cap([&](const std::vector<Tensor>& in) { return fn(in, w); }, inputs);
    ASSERT_TRUE(cap.scalar_tape());
    EXPECT_EQ(cap.scalar_tape_calls(), expected_calls);
    for (const std::vector<double>& point : at) {
        std::vector<Tensor> fresh;
        for (double v : point) fresh.push_back(scalar(v, f64, true));
        wd.zero_grad();
        Tensor out = fn(fresh, wd);
        out.backward();
        w.zero_grad();
        for (Tensor& t : inputs) t.zero_grad();
        cap.replay(point.data(), point.size());
        EXPECT_TRUE(same_bits(cap.output_value(), out.item()))
            << "output at " << point[0] << ": " << cap.output_value() << " vs " << out.item();
        EXPECT_TRUE(same_bits(w.grad().item(), wd.grad().item()))
            << "dw at " << point[0] << ": " << w.grad().item() << " vs " << wd.grad().item();
        for (std::size_t i = 0; i < point.size(); ++i) {
            EXPECT_TRUE(same_bits(inputs[i].grad().item(), fresh[i].grad().item()))
                << "d input " << i << " at " << point[0] << ": " << inputs[i].grad().item()
                << " vs " << fresh[i].grad().item();
        }
    }
}

// Every op the scalar tape runs inline (its step codes, unary, binary and with a scalar
// parameter), each where its rule is not trivial: relu and clamp on both sides of their kink.
// Sums of products are where a fused multiply-add would change the last bit.
TEST(Capture, ScalarTapeInlineOpsEqualDynamicPathBitForBit) {
    auto fn = [](const std::vector<Tensor>& in, const Tensor& w) {
        const Tensor &x = in[0], &y = in[1];                          // x > 0, y < 0
        Tensor t = (x + y) * (x - y * w) + x / y - (-x);              // add sub mul div neg
        t = t + pow(x, 2.5) * w + exp(y * w) + log(x) * sqrt(x * w);  // pow exp log sqrt
        t = t * abs(y) + square(y * w) + clamp_min(y, -1.0) * clamp_max(x * w, 1.0);
        t = ((t + 0.5) - 0.25) * w;                  // x + c, x - c
        t = (2.0 - t) * 0.75 / 3.0 + 1.5 / (x * w);  // c - x, x c, x / c, c / x
        t = t * sigmoid(x * y * w) + tanh(y * w) * relu(x * w) + relu(y * w) * x +
            step(x - 1.0) * w;  // sigmoid tanh relu step
        return t * t * w;
    };
    expect_replay_equals_dynamic(fn, {{0.8, -1.3}, {1.7, -0.6}, {0.3, -2.1}, {2.5, -0.9}},
                                 /*expected_calls=*/0);
}

// Ops without a step code (pointwise.cpp's) call their kernels through OpDef, among inline ops.
TEST(Capture, ScalarTapeCallsOtherOpsKernelsBitForBit) {
    auto fn = [](const std::vector<Tensor>& in, const Tensor& w) {
        return erf(in[0] * w) * sin(in[1]) + log1p(in[0] * in[1] * w) * w;
    };
    expect_replay_equals_dynamic(fn, {{0.8, 0.3}, {1.7, 0.6}}, /*expected_calls=*/3);
}

// replay(doubles) is replay(Arrays): the inputs take the values, the output and the gradients
// are the same bits, and gradients add up over replays until zero_grad.
TEST(Capture, ReplayFromDoublesIsReplayFromArrays) {
    Tensor v1 = scalar(0.8, f64, true), v2 = scalar(-0.4, f64, true);
    Tensor u1 = scalar(0.8, f64, true), u2 = scalar(-0.4, f64, true);
    auto net = [](const Tensor& x, const Tensor& y, const Tensor& a, const Tensor& b) {
        return 0.5 * square(sigmoid(sigmoid(x * a) * b) - y);
    };
    Tensor x = scalar(1.5, f64), y = scalar(0.5, f64);
    Capture from_doubles([&](const std::vector<Tensor>& in) { return net(in[0], in[1], v1, v2); },
                         {x, y});
    Capture from_arrays([&](const std::vector<Tensor>& in) { return net(in[0], in[1], u1, u2); },
                        {scalar(1.5, f64), scalar(0.5, f64)});
    for (int i = 0; i < 3; ++i) {  // no zero_grad: the gradients accumulate
        const double xv = 1.5 - 0.3 * i, yv = 0.5 + 0.1 * i;
        from_doubles.replay({xv, yv});
        from_arrays.replay(values({xv, yv}));
        EXPECT_EQ(x.item(), xv);  // the input tensors hold the replay's values
        EXPECT_EQ(y.item(), yv);
        EXPECT_TRUE(same_bits(from_doubles.output_value(), from_arrays.output().item()));
        EXPECT_TRUE(same_bits(from_doubles.output_value(), from_doubles.output().item()));
        EXPECT_TRUE(same_bits(v1.grad().item(), u1.grad().item())) << i;
        EXPECT_TRUE(same_bits(v2.grad().item(), u2.grad().item())) << i;
    }
    const double xs[2] = {0.25, 0.75};
    from_doubles.replay(xs, 2);
    EXPECT_EQ(x.item(), 0.25);
    EXPECT_EQ(y.item(), 0.75);
}

// A parameter reached three times, replayed without zero_grad: each contribution is added into
// the leaf's gradient in turn, as the engine adds them, (g + c1) + c2 and not g + (c1 + c2);
// a gradient with a graph (create_graph) becomes the plain sum, as there.
TEST(Capture, ReplayAddsEachContributionIntoTheLeafAsTheEngine) {
    auto fn = [](const Tensor& x, const Tensor& w) {
        return sigmoid(x * w) * w + tanh(w * 0.3) * x;
    };
    Tensor w = scalar(0.7, f64, true), v = scalar(0.7, f64, true);
    Capture cap([&](const std::vector<Tensor>& in) { return fn(in[0], v); }, {scalar(1.3, f64)});
    ASSERT_TRUE(cap.scalar_tape());
    for (int i = 0; i < 40; ++i) {
        const double x = 1.3 + 0.37 * i;
        fn(scalar(x, f64), w).backward();
        cap.replay({x});
        ASSERT_TRUE(same_bits(v.grad().item(), w.grad().item())) << "replay " << i;
    }
    fn(scalar(0.9, f64), w).backward(scalar(1, f64), /*retain_graph=*/false, /*create_graph=*/true);
    fn(scalar(0.9, f64), v).backward(scalar(1, f64), false, true);
    ASSERT_TRUE(w.grad().requires_grad());  // a gradient with a graph
    fn(scalar(0.4, f64), w).backward();
    cap.replay({0.4});
    EXPECT_TRUE(same_bits(v.grad().item(), w.grad().item()));
    EXPECT_FALSE(v.grad().requires_grad());
}

TEST(Capture, ReplayFromDoublesNeedsOneFloat64PerInput) {
    Tensor w = scalar(2, f64, true);
    Capture two([&](const std::vector<Tensor>& in) { return in[0] * w + in[1]; },
                {scalar(1, f64), scalar(2, f64)});
    EXPECT_THROW_MSG(two.replay({1.0}), std::invalid_argument,
                     "Capture::replay: got 1 input values", "the capture has 2 inputs");
    EXPECT_THROW_MSG(two.replay(nullptr, 3), std::invalid_argument, "got 3 input values");
    Capture vec([](const std::vector<Tensor>& in) { return sum(in[0] * in[0]); },
                {zeros({3}, f64)});
    EXPECT_THROW_MSG(vec.replay({1.0}), std::invalid_argument,
                     "Capture::replay: input 0 has shape (3) float64", "needs one float64 element",
                     "pass Arrays");
    // Checked before any input is written: input 0 keeps its value.
    Tensor x = scalar(1, f64), h = scalar(1, f32);
    Capture mixed([&](const std::vector<Tensor>& in) { return in[0] * w; }, {x, h});  // h unused
    EXPECT_THROW_MSG(mixed.replay({5.0, 6.0}), std::invalid_argument,
                     "input 1 has shape () float32", "needs one float64 element");
    EXPECT_EQ(x.item(), 1.0);
    // A parameter that set_data() made another dtype since capture.
    Tensor p = scalar(1, f64, true);
    Capture on_p([&](const std::vector<Tensor>& in) { return in[0] * p; }, {scalar(1, f64)});
    ASSERT_TRUE(on_p.scalar_tape());
    p.set_data(Array::scalar(f32, 1));
    EXPECT_THROW_MSG(on_p.replay({2.0}), std::invalid_argument,
                     "a leaf of the scalar tape is now () float32", "one float64 at capture");
    Capture moved = std::move(two);
    EXPECT_THROW_MSG(two.replay({1.0, 2.0}), std::logic_error, "moved-from");
    EXPECT_THROW_MSG(two.output_value(), std::logic_error, "moved-from");
    moved.replay({1.0, 2.0});
    EXPECT_EQ(moved.output_value(), 4.0);
}

TEST(Capture, OutputValueReadsAFloat32OutputToo) {
    Tensor w = uniform({4}, -1, 1, 7, f32, true);
    Capture cap([&](const std::vector<Tensor>& in) { return mean(in[0] * w); },
                {uniform({4}, 0, 1, 1, f32)});
    EXPECT_FALSE(cap.scalar_tape());
    EXPECT_EQ(cap.scalar_tape_calls(), 0u);
    cap.replay({uniform({4}, 0, 1, 2, f32).value()});
    EXPECT_EQ(cap.output_value(), cap.output().item());
}

TEST(Capture, MillionNodeChainReplays) {
    Tensor c = scalar(1.0, f64, true);
    Capture cap(
        [&](const std::vector<Tensor>& in) {
            Tensor y = in[0];
            for (int i = 0; i < 500'000; ++i) y = y * 0.999999 + c;  // two nodes per step
            return y;
        },
        {scalar(0, f64)});
    EXPECT_EQ(cap.num_nodes(), 1'000'000u);
    cap.replay(values({1}));
    // y_n = r^n y0 + c (1 - r^n) / (1 - r): dy/dc = (1 - r^n) / (1 - r), r = 0.999999
    const double rn = std::pow(0.999999, 500'000);
    EXPECT_NEAR(c.grad().item(), (1 - rn) / (1 - 0.999999), 1e-3);
    EXPECT_NEAR(cap.output().item(), rn + (1 - rn) / (1 - 0.999999), 1e-3);
}

TEST(Capture, TwoThreadsReplayTheirOwnCapturesAtOnce) {
    Tensor shared = scalar(3, f64, true);  // both threads' gradients add into it, under its lock
    auto worker = [&](double x0, double* own_grad) {
        Tensor own = scalar(0.5, f64, true);
        Capture cap(
            [&](const std::vector<Tensor>& in) { return in[0] * shared + sigmoid(in[0] * own); },
            {scalar(x0, f64)});
        for (int i = 0; i < 200; ++i) {
            cap.replay(values({0.5}));
            own.zero_grad();
        }
        cap.replay(values({0.5}));
        *own_grad = own.grad().item();
    };
    double g1 = 0, g2 = 0;
    std::thread t1(worker, 1.0, &g1), t2(worker, 2.0, &g2);
    t1.join();
    t2.join();
    EXPECT_EQ(shared.grad().item(), 402 * 0.5);  // 402 replays of d(x w)/dw = x = 0.5
    const double s = 1 / (1 + std::exp(-0.25));
    EXPECT_DOUBLE_EQ(g1, 0.5 * s * (1 - s));
    EXPECT_EQ(g1, g2);
}

// A replay holds all its parameters' gradient locks through its backward, taking them all or
// none: two captures that meet the shared parameters in opposite orders, and a thread holding
// one GradRef after another, neither deadlock nor lose a contribution.
TEST(Capture, ThreadsSharingParametersInEitherOrderDoNotDeadlock) {
    Tensor a = scalar(2, f64, true), b = scalar(3, f64, true);
    auto worker = [&](bool a_first) {
        Capture cap(
            [&](const std::vector<Tensor>& in) {
                return a_first ? in[0] * a + in[0] * b : in[0] * b + in[0] * a;
            },
            {scalar(1, f64)});
        for (int i = 0; i < 300; ++i) cap.replay({0.5});
    };
    int added[2] = {0, 0};  // the reader's additions into a's and b's gradients
    auto reader = [&] {
        for (int i = 0; i < 300; ++i) {
            for (int k = 0; k < 2; ++k) {
                GradRef g = (k == 0 ? a : b).mutable_grad();
                if (double* d = g.data<double>()) d[0] += 1.0, ++added[k];
            }
        }
    };
    std::thread t1(worker, true), t2(worker, false), t3(reader);
    t1.join();
    t2.join();
    t3.join();
    // 600 replays of d(x a + x b)/da = x = 0.5 each, and the reader's additions: exact sums of
    // halves and ones, whatever the interleaving.
    EXPECT_EQ(a.grad().item(), 300.0 + added[0]);
    EXPECT_EQ(b.grad().item(), 300.0 + added[1]);
}

}  // namespace
}  // namespace xgrad
