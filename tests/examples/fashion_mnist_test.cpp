// Integration test: the demo's Fashion-MNIST run (examples/fashion_mnist.h) on a few hundred
// images of the real files, for a few epochs. It needs Debian's dataset-fashion-mnist (which
// `bash cmake/run.sh test` installs) and fails, rather than skips, without it.

#include "examples/fashion_mnist.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nn/serialize.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::examples {
namespace {

using xgrad::testing::TempDir;

TEST(FashionMnist, ASmallRunLearnsSavesReloadsAndWritesItsFiles) {
    TempDir dir;
    FashionOptions opts;
    opts.train_limit = 600;
    opts.test_limit = 400;
    opts.epochs = 3;
    opts.batch_size = 32;
    opts.lr = 2e-3;
    std::ostringstream out;
    opts.out = &out;
    FashionResult r;
    try {
        r = train_fashion_mnist(dir.file("out"), opts);
    } catch (const std::exception& e) {
        FAIL() << e.what()
               << "\n(this test needs the Fashion-MNIST files of Debian's dataset-fashion-mnist "
                  "in "
               << opts.data_dir << "; `bash cmake/run.sh test` installs the package)";
    }
    SCOPED_TRACE(out.str());
    EXPECT_EQ(r.train_images, 600u);
    EXPECT_EQ(r.test_images, 400u);
    ASSERT_EQ(r.history.size(), 3u);
    EXPECT_LT(r.history[2].train_loss, r.history[0].train_loss);
    EXPECT_GT(r.test_accuracy, 0.5);  // chance is 0.1
    std::printf("test accuracy %.4f on %zu images\n", r.test_accuracy, r.test_images);
    EXPECT_EQ(r.history[2].test_accuracy, r.test_accuracy);
    EXPECT_TRUE(r.same_predictions);
    EXPECT_EQ(r.reloaded_test_accuracy, r.test_accuracy);

    // The files, next to each other in the output directory.
    EXPECT_EQ(r.model_path, dir.file("out/fashion_mnist_model.xgt"));
    EXPECT_EQ(r.metrics_path, dir.file("out/fashion_mnist_metrics.csv"));
    EXPECT_TRUE(r.plot_path == dir.file("out/fashion_mnist_loss.png") ||
                r.plot_path == dir.file("out/fashion_mnist_loss.svg"))
        << r.plot_path;
    EXPECT_GT(std::filesystem::file_size(r.plot_path), 1000u);
    std::ifstream csv(r.metrics_path);
    std::string line;
    std::size_t lines = 0;
    while (std::getline(csv, line)) ++lines;
    EXPECT_EQ(lines, 4u);  // the header and 3 epochs
    std::vector<std::string> names;
    for (const auto& [name, t] : io::load(r.model_path)) names.push_back(name);
    ASSERT_EQ(names.size(), 4u + 1u + 12u);  // model, the optimizer marker, Adam's state
    EXPECT_EQ(names[0], "model.0.weight");

    // What it printed: the epochs, the reload, the time per epoch, the files.
    const std::string text = out.str();
    for (const char* part : {"600 training and 400 test images", "epoch 3/3: train loss ",
                             "(identical predictions)", " s per epoch", "loss curve: "}) {
        EXPECT_NE(text.find(part), std::string::npos) << part;
    }
}

// The CNN of the demo (LeNet-5 style) for 2 epochs on 600 images: it learns, and the reloaded
// checkpoint predicts exactly as the trained model.
TEST(FashionMnist, TheCnnLearnsOnASmallRunAndReloadsIdentically) {
    TempDir dir;
    FashionOptions opts;
    opts.cnn = true;
    opts.train_limit = 600;
    opts.test_limit = 400;
    opts.epochs = 2;
    opts.batch_size = 32;
    opts.lr = 2e-3;
    std::ostringstream out;
    opts.out = &out;
    FashionResult r;
    try {
        r = train_fashion_mnist(dir.file("out"), opts);
    } catch (const std::exception& e) {
        FAIL() << e.what() << "\n(this test needs Debian's dataset-fashion-mnist)";
    }
    SCOPED_TRACE(out.str());
    ASSERT_EQ(r.history.size(), 2u);
    EXPECT_LT(r.history[1].train_loss, r.history[0].train_loss);
    EXPECT_GT(r.test_accuracy, 0.4);  // chance is 0.1
    std::printf("CNN test accuracy %.4f on %zu images\n", r.test_accuracy, r.test_images);
    EXPECT_TRUE(r.same_predictions);
    EXPECT_EQ(r.model_path, dir.file("out/fashion_cnn_model.xgt"));
    std::vector<std::string> names;
    for (const auto& [name, t] : io::load(r.model_path)) names.push_back(name);
    ASSERT_GE(names.size(), 10u);
    EXPECT_EQ(names[0], "model.1.weight");  // 0 is the Unflatten
    EXPECT_NE(out.str().find("Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"),
              std::string::npos);
}

TEST(FashionMnist, TheCnnHasLeNetsParameterCountWithAndWithoutBatchNorm) {
    std::size_t n = 0;
    for (const Tensor& p : fashion_cnn(1)->parameters()) n += p.numel();
    EXPECT_EQ(n, 61706u);  // PyTorch's LeNet-5 (padding 2 on the first conv)
    n = 0;
    for (const Tensor& p : fashion_cnn(1, /*batch_norm=*/true)->parameters()) n += p.numel();
    EXPECT_EQ(n, 61706u + 2 * (6 + 16));
    EXPECT_EQ(fashion_cnn(1, true)->named_buffers().size(), 6u);
    // The demo's wider variant, 16 and 32 channels with BatchNorm, as PyTorch counts it:
    // conv 16*25+16, bn 32, conv 32*16*25+32, bn 64, 800*120+120, 120*84+84, 84*10+10.
    n = 0;
    for (const Tensor& p : fashion_cnn(1, true, 16, 32)->parameters()) n += p.numel();
    EXPECT_EQ(n, 416u + 32 + 12832 + 64 + 96120 + 10164 + 850);
    EXPECT_EQ(fashion_cnn(1, true, 16, 32)->forward(zeros({2, 784})).shape(), (Shape{2, 10}));
    Tensor y = fashion_cnn(1)->forward(zeros({3, 784}));
    EXPECT_EQ(y.shape(), (Shape{3, 10}));
}

TEST(FashionMnist, MissingDataIsAClearError) {
    TempDir dir;
    FashionOptions opts;
    opts.data_dir = dir.file("no-such-dir");
    std::ostringstream out;
    opts.out = &out;
    EXPECT_THROW_MSG(train_fashion_mnist(dir.file("out"), opts), std::runtime_error,
                     dir.file("no-such-dir") + "/train-images-idx3-ubyte.gz");
    EXPECT_EQ(run_fashion_mnist(dir.file("out"), opts), 1);
}

}  // namespace
}  // namespace xgrad::examples
