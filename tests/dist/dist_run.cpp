// Scenarios of xgrad::dist that need separate processes or end a job (tests/dist/dist_check.cmake
// runs them and checks exit codes, messages and times):
//   mpirun -np 2 xgrad_dist_run save2 DIR    2 epochs data-parallel, rank 0 saves DIR/epoch1.xgt
//                                            (after epoch 1), DIR/mid.xgt (mid-epoch) and
//                                            DIR/full.xgt (the end)
//   xgrad_dist_run resume1 DIR               one process, no MPI: resumes DIR/epoch1.xgt with
//                                            batch 128, compares with DIR/full.xgt; refuses
//                                            DIR/mid.xgt (another world size mid-epoch)
//   mpirun -np 2 xgrad_dist_run throw DIR    rank 1 throws at step 3; rank 0 must stop
//   mpirun -np 2 xgrad_dist_run disagree DIR rank 1 builds another model
//   xgrad_dist_run nompi DIR                 not started by mpirun

#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "dist/dist.h"
#include "nn/nn.h"
#include "tests/nn/blobs.h"

namespace {

using namespace xgrad;

std::shared_ptr<nn::Sequential> mlp(std::size_t hidden = 32) {
    nn::manual_seed(1);
    // NOTE: no Dropout: each rank draws masks for its own 64 rows, one process for 128, so
    // with Dropout the runs are equally valid but not equal.
    auto net =
        std::make_shared<nn::Sequential>(nn::Linear(8, hidden), nn::ReLU(), nn::Linear(hidden, 3));
    net->to(f64);
    return net;
}

data::Dataset data_set() { return testing::blobs(1280, 8, 3, /*seed=*/4, /*noise=*/5, f64); }

struct CopyAt : nn::Callback {
    CopyAt(std::string from, std::string to, std::size_t step)
        : from_(std::move(from)), to_(std::move(to)), step_(step) {}
    void on_after_backward(nn::StepContext& ctx) override {
        if (ctx.global_step == step_ && ctx.main_process) {
            std::filesystem::copy_file(from_, to_,
                                       std::filesystem::copy_options::overwrite_existing);
        }
    }
    std::string from_, to_;
    std::size_t step_;
};

struct ThrowAt : nn::Callback {
    explicit ThrowAt(std::size_t step) : step_(step) {}
    void on_after_backward(nn::StepContext& ctx) override {
        if (ctx.global_step == step_ && dist::rank() == 1) {
            throw std::runtime_error("rank 1 gave up at step " + std::to_string(step_));
        }
    }
    std::size_t step_;
};

int distributed(const std::string& mode, const std::string& dir, int argc, char** argv) {
    dist::Environment env(argc, argv);
    dist::set_timeout(60);
    try {
        const data::Dataset ds = data_set();
        auto net = mlp(mode == "disagree" && env.rank() == 1 ? 16 : 32);
        nn::optim::Adam adam(net->named_parameters(), nn::optim::AdamOptions(1e-2));
        const data::DataLoader shard(
            ds, {/*batch_size=*/64},
            data::DistributedSampler(ds.size(), static_cast<std::size_t>(env.world_size()),
                                     static_cast<std::size_t>(env.rank()), true, 3));
        dist::DataParallel dp;
        std::ostringstream quiet;
        nn::FitOptions fo;
        fo.epochs = 2;
        fo.out = &quiet;
        fo.distributed = &dp;
        fo.checkpoint_path = dir + "/last.xgt";
        fo.checkpoint_every = 4;
        CopyAt mid(dir + "/last.xgt", dir + "/mid.xgt", 6);  // saved after step 4 of epoch 0
        ThrowAt thrower(3);
        if (mode == "save2") fo.callbacks = {&mid};
        if (mode == "throw") fo.callbacks = {&thrower};
        fo.on_epoch = [&](const data::EpochMetrics& m) {
            if (m.epoch == 1 && env.rank() == 0) {
                std::filesystem::copy_file(dir + "/last.xgt", dir + "/epoch1.xgt",
                                           std::filesystem::copy_options::overwrite_existing);
            }
        };
        nn::fit(*net, adam, shard, nullptr, fo);
        if (env.rank() == 0) nn::save_checkpoint(dir + "/full.xgt", *net, &adam);
        std::printf("rank %d: %s done\n", env.rank(), mode.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d: %s\n", env.rank(), e.what());
        return 1;  // ~Environment aborts the job: a rank failed
    }
}

int resume1(const std::string& dir) {
    const data::Dataset ds = data_set();
    auto net = mlp();
    nn::optim::Adam adam(net->named_parameters(), nn::optim::AdamOptions(1e-2));
    const data::DataLoader all(ds, {/*batch_size=*/128, /*shuffle=*/true, /*seed=*/3});
    std::ostringstream quiet;
    nn::FitOptions fo;
    fo.epochs = 2;
    fo.out = &quiet;
    fo.resume_from = dir + "/mid.xgt";
    try {
        nn::fit(*net, adam, all, nullptr, fo);
        std::fprintf(stderr, "resume1: a mid-epoch checkpoint of 2 ranks was accepted\n");
        return 1;
    } catch (const std::runtime_error& e) {
        std::printf("refused as expected: %s\n", e.what());
    }
    fo.resume_from = dir + "/epoch1.xgt";
    nn::fit(*net, adam, all, nullptr, fo);
    auto ref = mlp();
    nn::optim::Adam ref_adam(ref->named_parameters(), nn::optim::AdamOptions(1e-2));
    nn::load_checkpoint(dir + "/full.xgt", *ref, &ref_adam);
    double diff = 0;
    const auto a = net->parameters(), b = ref->parameters();
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = a[i].to_vector(), y = b[i].to_vector();
        for (std::size_t k = 0; k < x.size(); ++k) diff = std::max(diff, std::abs(x[k] - y[k]));
    }
    std::printf(
        "resumed in 1 process from the 2-rank checkpoint: max |difference| %.3g from "
        "the 2-rank run\n",
        diff);
    return diff <= 1e-12 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s save2|resume1|throw|disagree|nompi DIR\n", argv[0]);
        return 2;
    }
    const std::string mode = argv[1], dir = argv[2];
    try {
        if (mode == "resume1") return resume1(dir);
        return distributed(mode, dir, argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dist_run: %s\n", e.what());
        return 1;
    }
}
