// Fashion-MNIST's 784-128-10 MLP trained data-parallel (xgrad::dist), to measure how the epoch
// time and the communication share change with the number of ranks:
//   mpirun -np 2 --oversubscribe ./build/examples/fashion_mnist_dist [--epochs N] [--batch N]
//   mpirun -np 1 ./build/examples/fashion_mnist_dist
// --batch is the global batch (default 128), split evenly over the ranks. Rank 0 prints one line
// per epoch and, at the end, the mean train-epoch time and the share of it spent in
// allreduce_gradients (packing, the MPI allreduce and the averaging).

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "dist/dist.h"
#include "examples/cli.h"
#include "examples/fashion_mnist.h"
#include "nn/data/training.h"
#include "nn/nn.h"

int main(int argc, char** argv) {
    using namespace xgrad;
    dist::Environment env(argc, argv);
    try {
        std::size_t epochs = 3, batch = 128;
        examples::Cli cli("usage: fashion_mnist_dist [--epochs N] [--batch N]");
        cli.count("--epochs", epochs).count("--batch", batch);
        if (!cli.parse(argc, argv)) return 2;
        const auto world = static_cast<std::size_t>(env.world_size());
        if (batch % world != 0) {
            throw std::invalid_argument("--batch " + std::to_string(batch) +
                                        " does not split over " + std::to_string(world) + " ranks");
        }
        const std::string dir = "/usr/share/datasets/fashion-mnist/";
        const data::Dataset train = data::load_mnist(dir + "train-images-idx3-ubyte.gz",
                                                     dir + "train-labels-idx1-ubyte.gz");
        const data::Dataset test =
            data::load_mnist(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz");
        auto net = examples::fashion_mlp(/*seed=*/1);
        nn::optim::Adam adam(net->named_parameters(), nn::optim::AdamOptions(1e-3));
        const data::DataLoader shard(
            train, {batch / world},
            data::DistributedSampler(train.size(), world, static_cast<std::size_t>(env.rank()),
                                     /*shuffle=*/true, /*seed=*/1));
        const data::DataLoader test_loader(test, {1000});
        dist::DataParallel dp;
        nn::FitOptions fo;
        fo.epochs = epochs;
        fo.distributed = &dp;
        fo.progress = data::ProgressStyle::Plain;
        double epoch_seconds = 0, comm_seconds = 0;
        struct StepCounter : nn::Callback {
            std::size_t steps = 0;
            void on_after_backward(nn::StepContext&) override { ++steps; }
        } counter;
        fo.callbacks = {&counter};
        dist::reset_comm_stats();
        fo.on_epoch = [&](const data::EpochMetrics& m) {
            epoch_seconds += m.seconds;
            comm_seconds += dist::comm_stats().seconds;
            dist::reset_comm_stats();
        };
        const auto history = nn::fit(*net, adam, shard, &test_loader, fo);
        // The test pass (every rank runs all of it) timed alone, to get the train pass's time.
        const auto t0 = std::chrono::steady_clock::now();
        data::evaluate(
            test_loader, [&](const Tensor& x) { return net->forward(x); },
            [](const Tensor& logits, const Tensor& labels) {
                return nn::cross_entropy(logits, labels);
            });
        const double test_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double e = static_cast<double>(epochs);
        const double train_seconds = epoch_seconds / e - test_seconds;
        const double steps = static_cast<double>(counter.steps) / e;
        if (env.rank() == 0) {
            std::printf(
                "%zu rank(s), global batch %zu: epoch %.2f s (train pass %.2f s, %.0f steps of "
                "%.0f us; test pass %.2f s); allreduce_gradients %.1f us per step = %.1f%% of a "
                "step; test accuracy %.4f\n",
                world, batch, epoch_seconds / e, train_seconds, steps, 1e6 * train_seconds / steps,
                test_seconds, 1e6 * comm_seconds / e / steps,
                100.0 * comm_seconds / e / train_seconds, history.back().test_accuracy);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d: %s\n", env.rank(), e.what());
        return 1;
    }
}
