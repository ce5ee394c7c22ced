// train_epoch and evaluate, driving a softmax regression written with autograd ops only (no
// nn/): it learns a separable problem, and the same seed gives bit-identical weights.

#include "nn/data/training.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "autograd/autograd.h"
#include "nn/data/metrics.h"

namespace xgrad::data {
namespace {

// Three well-separated blobs in 2-D, `per_class` points each, label = blob index.
Dataset blobs(std::size_t per_class, std::uint64_t seed) {
    const double centers[3][2] = {{-2, 0}, {2, 0}, {0, 3}};
    const Tensor noise = uniform({3 * per_class, 2}, -0.5, 0.5, seed, f64);
    std::vector<double> f, l;
    for (std::size_t i = 0; i < 3 * per_class; ++i) {
        const std::size_t c = i % 3;
        f.push_back(centers[c][0] + noise.at({i, 0}));
        f.push_back(centers[c][1] + noise.at({i, 1}));
        l.push_back(static_cast<double>(c));
    }
    return Dataset(Array::from_values(f64, {3 * per_class, 2}, f),
                   Array::from_values(f64, {3 * per_class}, l));
}

// (B) class indices -> (B, C) one-hot rows.
Tensor one_hot(const Tensor& labels, std::size_t classes) {
    std::vector<double> v(labels.numel() * classes, 0.0);
    const std::vector<double> l = labels.to_vector();
    for (std::size_t i = 0; i < l.size(); ++i) v[i * classes + static_cast<std::size_t>(l[i])] = 1;
    return tensor(v, {labels.numel(), classes}, labels.dtype());
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
    // logits: (B, C)  labels: (B)  ->  mean_b -log softmax(logits_b)[label_b]
    return -mean(sum(one_hot(labels, logits.shape()[1]) * log_softmax(logits, 1), {1}));
}

struct Model {
    Tensor w, b;  // w: (2, 3)  b: (3)
    explicit Model(std::uint64_t seed)
        : w(uniform({2, 3}, -0.1, 0.1, seed, f64, true)), b(zeros({3}, f64, true)) {}
    Tensor operator()(const Tensor& x) const { return matmul(x, w) + b; }  // (B,2)·(2,3) + (3)
    void sgd(double lr) {
        for (Tensor* p : {&w, &b}) {
            const std::vector<double> g = p->grad().to_vector();
            double* v = p->mutable_value().data<double>();
            for (std::size_t i = 0; i < g.size(); ++i) v[i] -= lr * g[i];
            p->zero_grad();
        }
    }
};

// Trains for `epochs` and returns the model; progress goes to `log`.
Model train(std::uint64_t seed, std::size_t epochs, std::ostream* log) {
    const DataLoader loader(blobs(20, 1), {/*batch_size=*/8, /*shuffle=*/true, seed});
    Model model(seed);
    for (std::size_t e = 0; e < epochs; ++e) {
        ProgressOptions progress;
        progress.out = log;
        progress.label = "epoch " + std::to_string(e + 1);
        train_epoch(
            loader, e,
            [&](const Batch& batch) {
                const Tensor logits = model(batch.features);
                const Tensor loss = cross_entropy(logits, batch.labels);
                loss.backward();
                model.sgd(0.5);
                return StepResult{loss.item(), count_correct(logits, batch.labels)};
            },
            progress);
    }
    return model;
}

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.value().nbytes() == b.value().nbytes() &&
           std::memcmp(a.value().raw(), b.value().raw(), a.value().nbytes()) == 0;
}

TEST(TrainEpoch, AveragesLossAndAccuracyByBatchSize) {
    std::ostringstream log;
    const DataLoader loader(blobs(4, 1), {/*batch_size=*/5});  // 12 rows: batches 5, 5, 2
    ProgressOptions progress;
    progress.out = &log;
    const EpochStats s = train_epoch(
        loader, 0,
        [](const Batch& b) {
            return StepResult{static_cast<double>(b.size()), 1};
        },
        progress);
    EXPECT_EQ(s.count, 12u);
    EXPECT_DOUBLE_EQ(s.loss, (5.0 * 5 + 5.0 * 5 + 2.0 * 2) / 12);
    EXPECT_DOUBLE_EQ(s.accuracy, 3.0 / 12);
    EXPECT_NE(log.str().find("3/3 loss 4.0000"), std::string::npos) << log.str();
}

TEST(TrainEpoch, SoftmaxRegressionLearnsSeparableBlobs) {
    std::ostringstream log;
    const Model model = train(/*seed=*/3, /*epochs=*/15, &log);
    const DataLoader test(blobs(30, 2), {/*batch_size=*/16});
    const EpochStats s = evaluate(test, model, cross_entropy);
    EXPECT_EQ(s.count, 90u);
    EXPECT_EQ(s.accuracy, 1.0);
    EXPECT_LT(s.loss, 0.2);
    EXPECT_NE(log.str().find("epoch 15 8/8 loss"), std::string::npos) << log.str();
}

TEST(TrainEpoch, SameSeedGivesBitIdenticalWeights) {
    std::ostringstream log;
    const Model a = train(/*seed=*/11, /*epochs=*/5, &log);
    const Model b = train(/*seed=*/11, /*epochs=*/5, &log);
    const Model c = train(/*seed=*/12, /*epochs=*/5, &log);
    EXPECT_TRUE(same_bits(a.w, b.w));
    EXPECT_TRUE(same_bits(a.b, b.b));
    EXPECT_FALSE(same_bits(a.w, c.w));
}

TEST(Evaluate, RecordsNoGraph) {
    const Model model(1);
    const DataLoader loader(blobs(2, 1), {4});
    bool saw_grad = false;
    evaluate(
        loader,
        [&](const Tensor& x) {
            const Tensor y = model(x);
            saw_grad = saw_grad || y.requires_grad();
            return y;
        },
        cross_entropy);
    EXPECT_FALSE(saw_grad);
    EXPECT_FALSE(model.w.has_grad());
}

}  // namespace
}  // namespace xgrad::data
