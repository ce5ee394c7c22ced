#pragma once
// The Fashion-MNIST demo: a 784-128-10 MLP (ReLU, softmax cross-entropy, Adam, float32), or
// with FashionOptions::cnn a LeNet-5-style CNN (conv-relu-pool twice, three linear layers,
// optionally BatchNorm), trained on the real data from Debian's dataset-fashion-mnist, with a
// progress bar and one line per epoch; then the model is saved, reloaded into a fresh model, and
// checked to predict the same. Everything it writes goes to one directory (fashion_cnn_* for
// the CNN):
//   fashion_mnist_model.xgt     the checkpoint (model and Adam state, nn/checkpoint.h)
//   fashion_mnist_metrics.csv   per-epoch loss and accuracy on train and test data, and seconds
//   fashion_mnist_loss.png      the loss and accuracy curves (gnuplot; .svg without gnuplot),
//   fashion_mnist_loss.gp       with the gnuplot script that drew them
//
// Header-only, so that any program can run it: examples/fashion_mnist.cpp (the standalone
// main), the demo, and the integration test (tests/examples/fashion_mnist_test.cpp), which runs
// a few hundred images of the same data. Link xgrad::nn.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "nn/data/data.h"
#include "nn/nn.h"

namespace xgrad::examples {

/// What the Fashion-MNIST run trains on, for how long, and where it reports.
struct FashionOptions {
    /// The directory of the four .gz files (Debian: dataset-fashion-mnist).
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    std::size_t epochs = 10;
    std::size_t batch_size = 128;
    /// Use only the first N training / test images; 0 means all (60000 / 10000).
    std::size_t train_limit = 0;
    std::size_t test_limit = 0;
    /// Seeds the initial weights and the shuffling.
    std::uint64_t seed = 1;
    double lr = 1e-3;
    data::PlotFormat plot = data::PlotFormat::Auto;
    data::ProgressStyle progress = data::ProgressStyle::Auto;
    /// Where to print; nullptr means std::cout.
    std::ostream* out = nullptr;
    /// Train fashion_cnn instead of the MLP, with BatchNorm2d after each convolution if
    /// batch_norm.
    bool cnn = false;
    bool batch_norm = false;
    /// Convolution channels of the CNN (LeNet-5: 6 and 16).
    std::size_t conv1_channels = 6, conv2_channels = 16;
    /// Anneal the learning rate from lr to 0 over the epochs (CosineAnnealingLR, per epoch).
    bool cosine_lr = false;
};

/// What the run measured and wrote.
struct FashionResult {
    std::vector<data::EpochMetrics> history;  // one row per epoch
    double test_accuracy = 0;                 // the trained model on the test images
    double reloaded_test_accuracy = 0;        // a fresh model loaded from the saved file
    bool same_predictions = false;            // the two models' logits are bit-identical
    std::size_t train_images = 0, test_images = 0;
    double load_seconds = 0, train_seconds = 0, total_seconds = 0;
    std::string model_path, metrics_path, plot_path;
};

/// The 10 Fashion-MNIST classes, by label.
inline const char* const kFashionClasses[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};

/// 784 -> 128 -> ReLU -> 10, float32, initialised from `seed` (PyTorch's default init).
inline std::shared_ptr<nn::Sequential> fashion_mlp(std::uint64_t seed) {
    nn::manual_seed(seed);
    return std::make_shared<nn::Sequential>(nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
}

/// LeNet-5 style, float32, from `seed`: (N, 784) -> (N, 1, 28, 28) -> Conv2d(1, 6, 5, pad 2)
/// -> ReLU -> MaxPool 2 -> (N, 6, 14, 14) -> Conv2d(6, 16, 5) -> ReLU -> MaxPool 2 ->
/// (N, 16, 5, 5) -> Flatten -> 400-120-84-10 with ReLUs; BatchNorm2d after each convolution
/// when batch_norm. 61706 parameters without BatchNorm, as PyTorch's LeNet-5.
inline std::shared_ptr<nn::Sequential> fashion_cnn(std::uint64_t seed, bool batch_norm = false,
                                                   std::size_t c1 = 6, std::size_t c2 = 16) {
    nn::manual_seed(seed);
    auto net = std::make_shared<nn::Sequential>();
    net->push_back(nn::Unflatten(1, {1, 28, 28}));
    net->push_back(nn::Conv2d(nn::Conv2dOptions(1, c1, 5).padding(2)));
    if (batch_norm) net->push_back(nn::BatchNorm2d(nn::BatchNormOptions(c1)));
    net->push_back(nn::ReLU());
    net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    net->push_back(nn::Conv2d(nn::Conv2dOptions(c1, c2, 5)));
    if (batch_norm) net->push_back(nn::BatchNorm2d(nn::BatchNormOptions(c2)));
    net->push_back(nn::ReLU());
    net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    net->push_back(nn::Flatten());
    net->push_back(nn::Linear(c2 * 25, 120));
    net->push_back(nn::ReLU());
    net->push_back(nn::Linear(120, 84));
    net->push_back(nn::ReLU());
    net->push_back(nn::Linear(84, 10));
    return net;
}

namespace detail {

inline std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The model's logits (N, 10) for every test image, in order, computed without a graph.
inline std::vector<float> predict(nn::Module& model, const data::DataLoader& loader) {
    NoGradGuard no_grad;
    model.eval();
    std::vector<float> logits;
    for (const data::Batch& batch : loader.epoch(0)) {
        const Tensor y = model.forward(batch.features);  // (B, 784) -> (B, 10)
        const float* p = y.value().data<float>();
        logits.insert(logits.end(), p, p + y.numel());
    }
    return logits;
}

// The predicted class of each row of (N, 10) logits (the first maximum on ties).
inline std::vector<std::size_t> argmax_rows(const std::vector<float>& logits) {
    std::vector<std::size_t> out(logits.size() / 10);
    for (std::size_t r = 0; r < out.size(); ++r) {
        const float* row = logits.data() + 10 * r;
        std::size_t best = 0;
        for (std::size_t c = 1; c < 10; ++c) best = row[c] > row[best] ? c : best;
        out[r] = best;
    }
    return out;
}

}  // namespace detail

/// Loads Fashion-MNIST, trains, saves, reloads and compares, printing as it goes (see the top
/// of this file), and returns what it measured. Throws std::runtime_error naming the file when
/// the data is missing or broken, or an output file cannot be written.
inline FashionResult train_fashion_mnist(const std::string& out_dir, const FashionOptions& opts) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    std::ostream& out = opts.out != nullptr ? *opts.out : std::cout;
    FashionResult r;
    std::filesystem::create_directories(out_dir);
    const std::string stem =
        (std::filesystem::path(out_dir) / (opts.cnn ? "fashion_cnn_" : "fashion_mnist_")).string();
    const auto make_model = [&opts](std::uint64_t seed) {
        return opts.cnn
                   ? fashion_cnn(seed, opts.batch_norm, opts.conv1_channels, opts.conv2_channels)
                   : fashion_mlp(seed);
    };
    r.model_path = stem + "model.xgt";
    r.metrics_path = stem + "metrics.csv";

    // Data: images scaled to [0, 1], flattened to 784 features; labels 0..9.
    const std::string dir = opts.data_dir + "/";
    data::Dataset train =
        data::load_mnist(dir + "train-images-idx3-ubyte.gz", dir + "train-labels-idx1-ubyte.gz");
    data::Dataset test =
        data::load_mnist(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz");
    if (opts.train_limit != 0 && opts.train_limit < train.size()) {
        train = train.slice(0, opts.train_limit);
    }
    if (opts.test_limit != 0 && opts.test_limit < test.size()) {
        test = test.slice(0, opts.test_limit);
    }
    r.train_images = train.size();
    r.test_images = test.size();
    r.load_seconds = detail::seconds_since(start);
    out << "Fashion-MNIST: " << r.train_images << " training and " << r.test_images
        << " test images (28x28, 10 classes) from " << opts.data_dir << ", loaded in "
        << detail::fmt("%.1f", r.load_seconds) << " s\n";

    auto model = make_model(opts.seed);
    nn::optim::Adam adam(model->named_parameters(), nn::optim::AdamOptions(opts.lr));
    out << "model: " << *model << "\n";
    out << "Adam lr " << opts.lr << ", batch " << opts.batch_size << ", " << opts.epochs
        << " epochs, seed " << opts.seed << "\n";
    out.flush();

    const data::DataLoader train_loader(train, {opts.batch_size, /*shuffle=*/true, opts.seed});
    const data::DataLoader test_loader(test, {/*batch_size=*/1000});
    nn::FitOptions fit;
    fit.epochs = opts.epochs;
    fit.metrics_path = r.metrics_path;
    fit.out = &out;
    fit.progress = opts.progress;
    nn::optim::CosineAnnealingLR cosine(adam, std::max<std::size_t>(1, opts.epochs));
    nn::LRSchedulerCallback cosine_callback(cosine);
    if (opts.cosine_lr) fit.callbacks.push_back(&cosine_callback);
    const auto train_start = Clock::now();
    r.history = nn::fit(*model, adam, train_loader, &test_loader, fit);
    r.train_seconds = detail::seconds_since(train_start);

    // Save, reload into a model with other initial values, and compare the predictions.
    nn::save_checkpoint(r.model_path, *model, &adam);
    const std::vector<float> logits = detail::predict(*model, test_loader);
    auto reloaded = make_model(opts.seed + 1);
    nn::load_checkpoint(r.model_path, *reloaded);
    const std::vector<float> logits2 = detail::predict(*reloaded, test_loader);
    r.same_predictions = logits.size() == logits2.size() &&
                         std::memcmp(logits.data(), logits2.data(), 4 * logits.size()) == 0;

    const std::vector<double> labels = test.labels().to_vector();
    const std::vector<std::size_t> pred = detail::argmax_rows(logits);
    const std::vector<std::size_t> pred2 = detail::argmax_rows(logits2);
    std::size_t correct = 0, correct2 = 0, per_class[10] = {}, per_class_total[10] = {};
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto label = static_cast<std::size_t>(labels[i]);
        correct += pred[i] == label;
        correct2 += pred2[i] == label;
        per_class[label] += pred[i] == label;
        ++per_class_total[label];
    }
    const auto n = static_cast<double>(labels.size());
    r.test_accuracy = static_cast<double>(correct) / n;
    r.reloaded_test_accuracy = static_cast<double>(correct2) / n;

    r.plot_path = data::plot_metrics(
        r.history, stem + "loss", opts.plot,
        opts.cnn ? "Fashion-MNIST, LeNet-5 CNN, Adam" : "Fashion-MNIST, 784-128-10 MLP, Adam");
    r.total_seconds = detail::seconds_since(start);

    out << "test accuracy per class:";
    for (std::size_t c = 0; c < 10; ++c) {
        if (per_class_total[c] == 0) continue;
        out << (c % 5 == 0 ? "\n  " : "  ") << kFashionClasses[c] << " "
            << detail::fmt("%.3f", static_cast<double>(per_class[c]) /
                                       static_cast<double>(per_class_total[c]));
    }
    out << "\nsaved " << r.model_path << " (" << std::filesystem::file_size(r.model_path)
        << " bytes); reloaded into a fresh model: test accuracy "
        << detail::fmt("%.4f", r.reloaded_test_accuracy)
        << (r.same_predictions ? " (identical predictions)" : " (PREDICTIONS DIFFER)") << "\n";
    const double per_epoch =
        r.history.empty() ? 0.0 : r.train_seconds / static_cast<double>(r.history.size());
    out << "test accuracy " << detail::fmt("%.4f", r.test_accuracy) << " after " << opts.epochs
        << " epochs; " << detail::fmt("%.1f", per_epoch) << " s per epoch (with the test pass), "
        << detail::fmt("%.1f", r.total_seconds) << " s in all\n";
    out << "metrics: " << r.metrics_path << "\nloss curve: " << r.plot_path << "\n";
    out.flush();
    return r;
}

/// train_fashion_mnist for a main(): prints errors instead of throwing. Returns 0 when the
/// reloaded model predicts exactly as the trained one, else 1.
/// Example:
///   int main() { return xgrad::examples::run_fashion_mnist("out", {}); }
inline int run_fashion_mnist(const std::string& out_dir, const FashionOptions& opts = {}) {
    try {
        const FashionResult r = train_fashion_mnist(out_dir, opts);
        return r.same_predictions && r.reloaded_test_accuracy == r.test_accuracy ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "fashion_mnist: " << e.what() << "\n";
        if (std::string(e.what()).find(opts.data_dir) != std::string::npos) {
            std::cerr << "(Debian: sudo apt-get install dataset-fashion-mnist)\n";
        }
        return 1;
    }
}

}  // namespace xgrad::examples
