// Engine semantics, pinned by name: accumulation, visiting, release, depth, threads.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/support/check.h"

namespace xgrad {
namespace {

using testing::rand64;

TEST(Engine, ReusedInputAccumulatesGradient) {
    Tensor x = scalar(3.0, f64, true);
    Tensor y = x * x;  // dy/dx = 2x: both paths of the junction add up
    y.backward();
    EXPECT_EQ(x.grad().item(), 6.0);
}

TEST(Engine, DiamondGraphVisitsSharedNodeOnce) {
    std::atomic<int> calls{0};
    Tensor x = scalar(2.0, f64, true);
    Tensor h = custom_op(
        "counted", {x}, [](const std::vector<Tensor>& in) { return in[0] * 3.0; },
        [&calls](const std::vector<Tensor>&, const Tensor&, const Tensor& g) {
            ++calls;
            return std::vector<Tensor>{g * 3.0};
        });
    Tensor f = (h + h * h) * h;  // h reached through three paths
    f.backward();
    EXPECT_EQ(calls.load(), 1);
    // f = h^2 + h^3, df/dh = 2h + 3h^2 = 12 + 108 at h = 6; dh/dx = 3
    EXPECT_DOUBLE_EQ(x.grad().item(), 3.0 * 120.0);
}

// The walk takes the deepest discovered node first (levels, no consumer count): a node shared
// by a long and a short branch runs once, after both, and a root that is also an input of
// another root gets both its seed and the other root's gradient before it runs.
TEST(Engine, SharedNodeRunsOnceAfterAShortAndALongBranch) {
    std::atomic<int> calls{0};
    Tensor x = scalar(0.5, f64, true);
    Tensor h = custom_op(
        "counted", {x}, [](const std::vector<Tensor>& in) { return in[0] * 2.0; },
        [&calls](const std::vector<Tensor>&, const Tensor&, const Tensor& g) {
            ++calls;
            return std::vector<Tensor>{g * 2.0};
        });
    Tensor deep = h;
    for (int i = 0; i < 50; ++i) deep = deep * 1.0 + 0.0;
    Tensor y = deep + h * 3.0;  // dy/dh = 1 + 3
    y.backward();
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(x.grad().item(), 8.0);

    x.zero_grad();
    calls = 0;
    Tensor h2 = custom_op(
        "counted", {x}, [](const std::vector<Tensor>& in) { return in[0] * 2.0; },
        [&calls](const std::vector<Tensor>&, const Tensor&, const Tensor& g) {
            ++calls;
            return std::vector<Tensor>{g * 2.0};
        });
    Tensor z = square(h2);  // roots z and h2: dz/dx + dh2/dx = 2 h2 * 2 + 2 = 6
    std::vector<Tensor> g = grad({z, h2}, {x});
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(g[0].item(), 6.0);
}

TEST(Engine, RepeatedBackwardAccumulatesUntilZeroGrad) {
    Tensor x = scalar(1.5, f64, true);
    (x * 2.0).backward();
    (x * 2.0).backward();
    EXPECT_EQ(x.grad().item(), 4.0);
    x.zero_grad();
    EXPECT_FALSE(x.has_grad());
    EXPECT_EQ(x.grad().item(), 0.0);
    (x * 5.0).backward();
    EXPECT_EQ(x.grad().item(), 5.0);
}

TEST(Engine, RetainGraphAllowsASecondBackward) {
    Tensor x = scalar(2.0, f64, true);
    Tensor y = exp(x);
    y.backward(/*retain_graph=*/true);
    y.backward();
    EXPECT_DOUBLE_EQ(x.grad().item(), 2 * std::exp(2.0));
}

TEST(Engine, SecondBackwardThroughReleasedGraphThrows) {
    Tensor x = scalar(2.0, f64, true);
    Tensor h = x * x;
    Tensor y = h * 3.0;
    y.backward();
    EXPECT_THROW_MSG(y.backward(), std::logic_error, "already freed", "retain_graph");
    Tensor z = h + 1.0;  // a new graph on a released node cannot reach x either
    EXPECT_THROW_MSG(z.backward(), std::logic_error, "'mul'", "already freed");
}

TEST(Engine, NoGradGuardRecordsNoGraph) {
    Tensor x = scalar(2.0, f64, true);
    {
        NoGradGuard no_grad;
        Tensor y = x * x;
        EXPECT_FALSE(y.requires_grad());
        EXPECT_TRUE(y.is_leaf());
    }
    EXPECT_TRUE((x * x).requires_grad());
}

TEST(Engine, ConstantsRecordNoGraph) {
    Tensor a = scalar(2.0), b = scalar(3.0);
    Tensor c = a * b;
    EXPECT_TRUE(c.is_leaf());
    EXPECT_FALSE(c.requires_grad());
}

TEST(Engine, RetainGradKeepsANonLeafGradient) {
    Tensor x = scalar(2.0, f64, true);
    Tensor g = x * 3.0;
    g.retain_grad();
    Tensor f = g * g;
    f.backward();
    EXPECT_EQ(g.grad().item(), 12.0);  // df/dg = 2g
    EXPECT_EQ(x.grad().item(), 36.0);
    Tensor h = x * 2.0;
    Tensor k = h * h;
    k.backward();
    EXPECT_THROW_MSG(h.grad(), std::logic_error, "retain_grad");
}

TEST(Engine, SeedOfOutputShapeWeightsTheGradient) {
    Tensor x = tensor({1, 2, 3}, f64, true);
    Tensor y = x * x;
    y.backward(tensor({1, 0, -1}, f64));
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 0, -6}));
}

// One-float64 nodes take the engine's scalar path unless an observer is registered; both must
// give the same bits, through junctions, retained gradients, scalar operands, a (1,)-shaped
// value and a vector leaf whose sum joins the scalars.
TEST(Engine, ScalarPathGivesTheArrayPathsBits) {
    struct Quiet : GraphObserver {};
    auto run = [](bool observed) {
        Tensor a = scalar(0.7, f64, true), b = scalar(-1.3, f64, true);
        Tensor v = tensor({0.5, -2.0, 3.0}, f64, true), one = tensor({1.5}, f64, true);
        Quiet quiet;
        std::optional<ObserverGuard> guard;
        if (observed) guard.emplace(quiet);
        Tensor h = tanh(a * b + 0.25);
        h.retain_grad();
        Tensor y = sigmoid(h * a - b / 3.0) + exp(h) * sum(v * v) + square(h - 2.0 * b);
        Tensor z = y * one + a;  // shape (1,): the array path again
        z.backward();
        return std::vector<double>{a.grad().item(), b.grad().item(), h.grad().item(),
                                   one.grad().item(), v.grad().to_vector()[1]};
    };
    EXPECT_EQ(run(false), run(true));
}

// Ops look up observers only when some thread has one (a global count, then the thread's own
// list): another thread's observer must neither see this thread's ops nor hide them from this
// thread's own observer, and unregistering stops the events.
TEST(Engine, ObserversSeeOnlyTheirOwnThreadsOps) {
    struct Counter : GraphObserver {
        int records = 0;
        void on_record(Node&) override { ++records; }
    };
    Counter mine, theirs;
    Tensor a = scalar(0.5, f64, true);
    std::atomic<bool> registered{false}, done{false};
    std::thread other([&] {
        ObserverGuard guard(theirs);
        registered = true;
        while (!done) std::this_thread::yield();
    });
    while (!registered) std::this_thread::yield();
    Tensor y = sigmoid(a * a);  // recorded, but this thread has no observer
    {
        ObserverGuard guard(mine);
        Tensor z = sigmoid(a * a);
        EXPECT_EQ(mine.records, 2);
    }
    Tensor w = a * a;
    EXPECT_EQ(mine.records, 2);
    done = true;
    other.join();
    EXPECT_EQ(theirs.records, 0);
    EXPECT_DOUBLE_EQ(y.item(), 1.0 / (1.0 + std::exp(-0.25)));
}

TEST(Engine, MillionNodeChainBackwardAndDestroy) {
    constexpr int kDepth = 1'000'000;
    Tensor x = scalar(1.0, f64, true);
    Tensor y = x;
    for (int i = 0; i < kDepth; ++i) y = y + 1.0;
    EXPECT_EQ(y.item(), kDepth + 1.0);
    y.backward(/*retain_graph=*/true);
    EXPECT_EQ(x.grad().item(), 1.0);
    y = Tensor();  // destroys the whole retained chain, iteratively
}

TEST(Engine, MillionNodeChainDestroyedWithoutBackward) {
    Tensor x = scalar(1.0, f64, true);
    Tensor y = x;
    for (int i = 0; i < 1'000'000; ++i) y = y * 1.0;
    y = Tensor();
    EXPECT_EQ(x.item(), 1.0);
}

TEST(Engine, MillionLeavesSummedIntoOneNode) {
    std::vector<Tensor> leaves;
    leaves.reserve(1'000'000);
    for (int i = 0; i < 1'000'000; ++i) leaves.push_back(scalar(i % 7, f64, true));
    Tensor s = add_n(leaves);
    s.backward();
    EXPECT_EQ(leaves[0].grad().item(), 1.0);
    EXPECT_EQ(leaves[999'999].grad().item(), 1.0);
    double expected = 0;
    for (int i = 0; i < 1'000'000; ++i) expected += i % 7;
    EXPECT_EQ(s.item(), expected);
}

TEST(Engine, TwoThreadsBackpropagateTheirOwnGraphs) {
    auto work = [](double start, double* result) {
        Tensor x = scalar(start, f64, true);
        for (int round = 0; round < 200; ++round) {
            Tensor y = x;
            for (int i = 0; i < 100; ++i) y = tanh(y * 0.5 + 0.1);
            y.backward();
        }
        *result = x.grad().item();
    };
    double r1 = 0, r2 = 0, s1 = 0, s2 = 0;
    work(0.3, &s1);
    work(-0.7, &s2);
    std::thread t1(work, 0.3, &r1), t2(work, -0.7, &r2);
    t1.join();
    t2.join();
    EXPECT_EQ(r1, s1);
    EXPECT_EQ(r2, s2);
}

TEST(Engine, SharedParameterAccumulatesFromTwoThreads) {
    Tensor w = scalar(0.5, f64, true);
    auto work = [&w] {
        for (int i = 0; i < 2000; ++i) (w * 2.0).backward();
    };
    std::thread t1(work), t2(work);
    t1.join();
    t2.join();
    EXPECT_EQ(w.grad().item(), 8000.0);
}

TEST(Engine, GradientsOfASharedParameterAreSafeToReadZeroAndScaleFromAnotherThread) {
    // One thread backpropagates into w while another reads, scales in place and zeroes w's
    // gradient: every one of them takes w's gradient lock (TSan checks it). The value itself
    // is not written here: see the README for what may run concurrently.
    Tensor w = scalar(0.5, f64, true);
    std::atomic<bool> done{false};
    std::thread backprop([&] {
        for (int i = 0; i < 3000; ++i) (w * 2.0).backward();
        done = true;
    });
    int reads = 0;
    while (!done) {
        const double g = w.grad().item();
        EXPECT_EQ(std::fmod(g, 2.0), 0.0) << "a torn or partial gradient";
        {
            GradRef ref = w.mutable_grad();
            if (double* d = ref.data<double>()) d[0] *= 1.0;  // in place, under the lock
        }
        if (++reads % 3 == 0) w.zero_grad();
    }
    backprop.join();
    EXPECT_EQ(std::fmod(w.grad().item(), 2.0), 0.0);
}

TEST(Engine, AnExceptionInACustomBackwardLeavesAConsistentGraph) {
    // NOTE: as in PyTorch, the gradients delivered before the exception stay (here: a and b's),
    // the others never arrive (c's); with retain_graph the graph can be run again after
    // zero_grad() and gives the right gradients, not doubled ones. Nothing leaks (ASan/LSan).
    bool fail = true;
    Tensor a = scalar(2, f64, true), b = scalar(3, f64, true), c = scalar(4, f64, true);
    Tensor h = custom_op(
        "flaky", {c}, [](const std::vector<Tensor>& in) { return in[0] * 1.0; },
        [&fail](const std::vector<Tensor>&, const Tensor&, const Tensor& g) {
            if (fail) throw std::runtime_error("flaky: backward failed");
            return std::vector<Tensor>{g * 5.0};
        });
    Tensor y = h + a * b;  // the walk reaches a * b first, then the custom op
    EXPECT_THROW_MSG(y.backward(/*retain_graph=*/true), std::runtime_error, "flaky: backward");
    EXPECT_TRUE(a.has_grad());
    EXPECT_FALSE(c.has_grad());
    for (Tensor* t : {&a, &b, &c}) t->zero_grad();
    fail = false;
    y.backward();
    EXPECT_EQ(a.grad().item(), 3.0);
    EXPECT_EQ(b.grad().item(), 2.0);
    EXPECT_EQ(c.grad().item(), 5.0);
    // Without retain_graph the nodes processed before an exception are freed: a retry says so.
    fail = true;
    Tensor y2 = custom_op(
                    "flaky", {c}, [](const std::vector<Tensor>& in) { return in[0] * 1.0; },
                    [&fail](const std::vector<Tensor>&, const Tensor&, const Tensor& g) {
                        if (fail) throw std::runtime_error("flaky: backward failed");
                        return std::vector<Tensor>{g};
                    }) +
                a * b;
    EXPECT_THROW(y2.backward(), std::runtime_error);
    fail = false;
    EXPECT_THROW_MSG(y2.backward(), std::logic_error, "already freed");
}

TEST(Engine, CustomOpBroadcastGradientIsSummedBack) {
    Tensor x = rand64({3}, 1);
    auto f = [](const std::vector<Tensor>& in) {
        return custom_op(
            "cube", in, [](const std::vector<Tensor>& v) { return v[0] * v[0] * v[0]; },
            [](const std::vector<Tensor>& v, const Tensor&, const Tensor& g) {
                return std::vector<Tensor>{g * 3.0 * v[0] * v[0]};  // (x^3)' = 3x^2
            });
    };
    EXPECT_TRUE(testing::grad_ok(f, {x}));
}

TEST(Engine, DetachCutsTheGraph) {
    Tensor x = scalar(2.0, f64, true);
    Tensor d = (x * x).detach();
    EXPECT_FALSE(d.requires_grad());
    EXPECT_EQ(d.item(), 4.0);
}

TEST(Tensor, PrintsShapeDtypeAndValues) {
    Tensor x = tensor({1, 2, 3, 4}, {2, 2}, f32, true);
    std::ostringstream os;
    os << x;
    EXPECT_EQ(os.str(),
              "Tensor(shape=(2,2), dtype=float32, requires_grad, values=[[1, 2], [3, 4]])");
    EXPECT_NE((x * x).str().find("op=mul"), std::string::npos);
}

TEST(Tensor, RandomConstructorsAreSeededAndReproducible) {
    Tensor a = normal({1000}, 0, 1, 7, f64), b = normal({1000}, 0, 1, 7, f64);
    EXPECT_EQ(a.to_vector(), b.to_vector());
    Tensor c = normal({1000}, 0, 1, 8, f64);
    EXPECT_NE(a.to_vector(), c.to_vector());
    const std::vector<double> u = uniform({1000}, -1, 1, 3, f64).to_vector();
    double m = 0;
    for (double v : u) {
        EXPECT_GE(v, -1.0);
        EXPECT_LT(v, 1.0);
        m += v / 1000;
    }
    EXPECT_NEAR(m, 0.0, 0.1);
    double s = 0;
    for (double v : a.to_vector()) s += v * v / 1000;
    EXPECT_NEAR(s, 1.0, 0.15);
}

}  // namespace
}  // namespace xgrad

namespace xgrad {
namespace {

TEST(Threads, BlasThreadCountIsSettableAndValidated) {
    const int before = num_threads();
    if (!std::getenv("OPENBLAS_NUM_THREADS") && !std::getenv("OMP_NUM_THREADS") &&
        !std::getenv("XGRAD_NUM_THREADS")) {
        EXPECT_EQ(before, 1);  // the default on a 2-core machine: no spinning BLAS workers
    }
    EXPECT_GE(before, 1);
    set_num_threads(2);
    EXPECT_EQ(num_threads(), 2);
    set_num_threads(before);
    EXPECT_EQ(num_threads(), before);
    EXPECT_THROW_MSG(set_num_threads(0), std::invalid_argument, "set_num_threads", "got 0");
}

}  // namespace
}  // namespace xgrad

namespace {
using namespace xgrad;

// backward(seed) lends the seed's buffer to the root's rule (no copy): the gradients that reach
// the leaves must be their own, so accumulating into them never writes the caller's seed.
TEST(Engine, BackwardSeedIsLentNotWrittenTo) {
    Tensor x = tensor({1, 2, 3}, f32, true);
    Tensor y = tensor({4, 5, 6}, f32, true);
    const Tensor seed = tensor({0.5, -1, 2}, f32);
    for (int k = 1; k <= 2; ++k) {  // the second pass accumulates into the leaves' gradients
        (x + y).backward(seed);
        (x * 1.0).backward(seed, true);
        EXPECT_EQ(seed.value().to_vector(), (std::vector<double>{0.5, -1, 2}));
        EXPECT_EQ(y.grad().value().to_vector(), (std::vector<double>{0.5 * k, -1.0 * k, 2.0 * k}));
        EXPECT_EQ(x.grad().value().to_vector(), (std::vector<double>{1.0 * k, -2.0 * k, 4.0 * k}));
    }
}

}  // namespace
