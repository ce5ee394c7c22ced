// Views without a copy: reshape, unsqueeze, squeeze, flatten and contiguous share their input's
// buffer, and every write to a shared buffer copies it first (copy-on-write), so no holder sees
// another's writes: Array writes, a leaf changed in place, the engine adding into a shared
// gradient, capture's replays, two threads sharing a leaf.

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "autograd/capture.h"
#include "tests/autograd/ops/op_test_util.h"

namespace xgrad {
namespace {

using namespace testing;

const void* data_of(const Tensor& t) { return t.value().raw(); }  // const: no copy

constexpr std::size_t kBig = 1000000;

TEST(View, ArrayShareAndReshapedShareTheBufferUntilAWrite) {
    Array a = Array::arange(f64, 0, 1000);
    const Array& ca = a;
    Array v = a.reshaped(Shape{10, 100});
    const Array& cv = v;
    EXPECT_EQ(cv.raw(), ca.raw());
    EXPECT_TRUE(a.is_shared());
    EXPECT_TRUE(v.is_shared());
    v.set(3, -1.0);  // copies first
    EXPECT_NE(cv.raw(), ca.raw());
    EXPECT_EQ(a.at(3), 3.0);
    EXPECT_EQ(v.at(3), -1.0);
    EXPECT_FALSE(a.is_shared());
    EXPECT_FALSE(v.is_shared());
    // Every mutable accessor copies: data<T>(), raw(), fill(); the copy keeps the elements.
    Array s = a.share();
    s.data<double>()[0] = 7;
    EXPECT_EQ(a.at(0), 0.0);
    EXPECT_EQ(s.at(999), 999.0);
    Array f = a.share();
    f.fill(2);
    EXPECT_EQ(a.at(5), 5.0);
    Array r = a.share();
    static_cast<double*>(r.raw())[1] = 9;
    EXPECT_EQ(a.at(1), 1.0);
    // The original writes too: the view keeps its value.
    Array w = a.share();
    a.set(2, 42);
    EXPECT_EQ(w.at(2), 2.0);
    // A plain copy is still a copy.
    const Array c = a;
    EXPECT_NE(c.raw(), ca.raw());
    EXPECT_FALSE(a.is_shared());
}

TEST(View, ABorrowedArrayReshapedKeepsBorrowingTheCallersMemory) {
    std::vector<double> mem(16, 1.0);
    Array b = Array::from_blob(mem.data(), Shape{16}, f64);
    Array v = b.reshaped(Shape{4, 4});
    EXPECT_TRUE(v.is_borrowed());
    EXPECT_EQ(static_cast<const Array&>(v).raw(), static_cast<const void*>(mem.data()));
    v.set(0, 5);  // borrowed memory is the caller's: written, not copied
    EXPECT_EQ(mem[0], 5.0);
    EXPECT_EQ(b.at(0), 5.0);
}

TEST(View, ShapeOpsOfALargeTensorShareItsBuffer) {
    Tensor x = uniform({1000, 1000}, -1, 1, 3, f32, /*requires_grad=*/true);
    EXPECT_EQ(data_of(reshape(x, {-1})), data_of(x));
    EXPECT_EQ(data_of(reshape(x, Shape{100, 10000})), data_of(x));
    EXPECT_EQ(data_of(unsqueeze(x, 1)), data_of(x));
    EXPECT_EQ(data_of(squeeze(unsqueeze(x, 0), 0)), data_of(x));
    EXPECT_EQ(data_of(squeeze(reshape(x, Shape{1, kBig, 1}))), data_of(x));
    EXPECT_EQ(data_of(flatten(x)), data_of(x));
    EXPECT_EQ(data_of(contiguous(x)), data_of(x));
    // Constants (no graph) share too.
    const Tensor c = uniform({kBig}, -1, 1, 4);
    EXPECT_EQ(data_of(reshape(c, {1000, -1})), data_of(c));
    // The ones that move elements copy.
    EXPECT_NE(data_of(transpose(x)), data_of(x));
}

TEST(View, GradientsThroughViewsAreRight) {
    // L = sum(flatten(unsqueeze(reshape(x)))^2 * w): dL/dx = 2 x w, laid out as x.
    Tensor x = rand64({3, 4}, 1);
    const Tensor w = uniform({12}, -1, 1, 2, f64);
    Tensor y = flatten(unsqueeze(squeeze(reshape(x, {1, 12, 1}), 2), 0));
    sum(square(y) * w).backward();
    const std::vector<double> xv = x.value().to_vector(), wv = w.value().to_vector();
    std::vector<double> want(12);
    for (std::size_t i = 0; i < 12; ++i) want[i] = 2 * xv[i] * wv[i];
    EXPECT_TRUE(values_are(x.grad(), {3, 4}, want));
    auto f = [](const V& in) {
        return sum(square(flatten(contiguous(unsqueeze(reshape(in[0], {4, 3}), 1)))));
    };
    EXPECT_TRUE(grad_ok(f, {rand64({2, 6}, 5)}));
    EXPECT_TRUE(gradgrad_ok(f, {rand64({2, 6}, 6)}));
}

// A retained gradient and a leaf's gradient share one buffer (reshape's backward passes the
// incoming gradient on reshaped); the leaf then receives a second contribution, added in place.
// Without copy-on-write the add lands in the retained gradient too. Both orders of the two
// terms, so that the view's contribution arrives first in one of them.
TEST(View, AddingIntoASharedGradientLeavesTheOtherHolderAlone) {
    for (const bool view_first : {true, false}) {
        SCOPED_TRACE(view_first ? "view term first" : "view term second");
        Tensor x = rand64({1000}, 7);
        const Tensor w = uniform({10, 100}, -1, 1, 8, f64), v = uniform({1000}, -1, 1, 9, f64);
        Tensor y = reshape(x, {10, 100});
        y.retain_grad();
        const Tensor a = sum(y * w), b = sum(x * v);
        (view_first ? a + b : b + a).backward();
        EXPECT_TRUE(values_are(y.grad(), {10, 100}, w.value().to_vector()));
        std::vector<double> want = w.value().to_vector();
        const std::vector<double> vv = v.value().to_vector();
        for (std::size_t i = 0; i < want.size(); ++i) want[i] += vv[i];
        EXPECT_TRUE(values_are(x.grad(), {1000}, want));
    }
}

TEST(View, AGradientTakenBeforeAnotherBackwardKeepsItsValue) {
    Tensor x = rand64({1000}, 10);
    sum(x * 3.0).backward();
    const Tensor g = x.grad();  // shares the leaf's gradient buffer
    sum(x * 2.0).backward();    // adds into it: copies first
    EXPECT_TRUE(values_are(g, {1000}, std::vector<double>(1000, 3.0)));
    EXPECT_TRUE(values_are(x.grad(), {1000}, std::vector<double>(1000, 5.0)));
    // mutable_grad (optimizers) writes in place, not into grad()'s copies.
    const Tensor h = x.grad();
    x.mutable_grad().data<double>()[0] = 0;
    EXPECT_EQ(h.value().at(0), 5.0);
    EXPECT_EQ(x.grad().value().at(0), 0.0);
}

// An in-place change of a leaf after a view was taken: the view keeps the value it was computed
// with (copy-on-write), and its backward agrees with that value.
TEST(View, ChangingALeafInPlaceAfterAViewCopiesAndKeepsTheViewsValue) {
    Tensor x = rand64({1000}, 11);
    const std::vector<double> before = x.value().to_vector();
    Tensor y = reshape(x, {10, 100});
    ASSERT_EQ(data_of(y), data_of(x));
    x.mutable_value().data<double>()[0] = 100.0;
    EXPECT_NE(data_of(y), data_of(x));
    EXPECT_EQ(y.value().at(0), before[0]);
    EXPECT_EQ(x.value().at(0), 100.0);
    // d sum(y^2)/dx = 2 y: the view's value, the one the loss was computed from.
    sum(square(y)).backward();
    std::vector<double> want(before.size());
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = 2 * before[i];
    EXPECT_TRUE(values_are(x.grad(), {1000}, want));

    // set_data and a whole-array assignment leave a view alone too.
    Tensor z = reshape(x, {1, 1000});  // (flatten of a 1-D tensor is the tensor itself)
    x.mutable_value() = Array::full(f64, Shape{1000}, 1.0);
    EXPECT_EQ(z.value().at(0), 100.0);
    Tensor u = unsqueeze(x, 0);
    x.set_data(Array::full(f64, Shape{1000}, 2.0));
    EXPECT_EQ(u.value().at(0), 1.0);
}

// Replay recomputes values in place; a view re-shares its input's new value.
TEST(View, CaptureReplaysAGraphWithViews) {
    Tensor w = rand64({4, 3}, 12);
    auto fn = [&](const V& in) { return sum(square(reshape(in[0], {4, 3}) * w)); };
    const Tensor x0 = uniform({12}, -1, 1, 13, f64);
    Capture step(fn, {x0});
    const Array x1 = uniform({12}, -1, 1, 14, f64).value();
    step.replay({x1});
    const double replayed = step.output().item();
    const std::vector<double> g_replay = w.grad().value().to_vector();
    w.zero_grad();
    const Tensor dyn = fn({Tensor(x1)});
    dyn.backward();
    EXPECT_EQ(replayed, dyn.item());
    EXPECT_EQ(g_replay, w.grad().value().to_vector());
    EXPECT_EQ(x1.at(0), 0.0 + x1.at(0));  // the caller's input values are not written
}

// Two threads take views of one leaf and backpropagate through them at once: the holder count is
// atomic, and the leaf's buffer is only read (run under TSan by the tsan preset).
TEST(View, TwoThreadsShareALeafsBuffer) {
    Tensor w = uniform({100, 100}, -1, 1, 15, f64, /*requires_grad=*/true);
    const void* before = data_of(w);
    constexpr int kSteps = 50;
    auto work = [&](double scale) {
        for (int i = 0; i < kSteps; ++i) {
            Tensor y = flatten(unsqueeze(reshape(w, {-1}), 0));
            if (data_of(y) != before) ADD_FAILURE() << "the view did not share";
            sum(y * scale).backward();
        }
    };
    std::thread t1(work, 1.0), t2(work, 2.0);
    t1.join();
    t2.join();
    EXPECT_EQ(data_of(w), before);
    EXPECT_FALSE(w.value().is_shared());
    EXPECT_TRUE(values_are(w.grad(), {100, 100}, std::vector<double>(10000, 3.0 * kSteps)));
}

}  // namespace
}  // namespace xgrad
