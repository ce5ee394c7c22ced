// One training run for the kill-and-resume test (tests/nn/resume_check.cmake):
//   xgrad_resume_run <dir> full      trains 4 epochs uninterrupted, saves <dir>/final.xgt
//   xgrad_resume_run <dir> killed N  the same run, checkpointing every 5 steps into
//                                    <dir>/last.xgt; SIGKILLs itself during step N
//   xgrad_resume_run <dir> resume    resumes from <dir>/last.xgt, saves <dir>/final.xgt
// The model has Dropout, Adam, a StepLR schedule, early stopping, a best-model file and gradient
// clipping, and manual_seed's stream is drawn from during training (a layer made at epoch 2),
// so every piece of state a checkpoint holds decides the final weights.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>

#include "nn/nn.h"
#include "tests/nn/blobs.h"

namespace {

using namespace xgrad;

// Kills this process (as a machine losing power would: no unwinding, no flush) during step N.
class KillAt : public nn::Callback {
public:
    explicit KillAt(std::size_t step) : step_(step) {}
    void on_after_backward(nn::StepContext& ctx) override {
        if (ctx.global_step == step_) kill(getpid(), SIGKILL);
    }

private:
    std::size_t step_;
};

// Draws from manual_seed's stream at every epoch end, so a resumed run must restore it.
class DrawSeed : public nn::Callback {
public:
    void on_epoch_end(nn::EpochContext&) override {
        nn::Linear probe(2, 2);  // initialised from the stream
        last_ = probe.parameter("weight").to_vector()[0];
    }
    double last_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <dir> full|killed N|resume\n", argv[0]);
        return 2;
    }
    try {
        const std::string dir = argv[1], mode = argv[2];
        nn::manual_seed(7);
        auto net = std::make_shared<nn::Sequential>(nn::Linear(8, 32), nn::ReLU(), nn::Dropout(0.3),
                                                    nn::Linear(32, 32), nn::ReLU(),
                                                    nn::Dropout(0.2), nn::Linear(32, 3));
        nn::optim::Adam adam(net->named_parameters(), nn::optim::AdamOptions(1e-2));
        nn::optim::StepLR sched(adam, /*step_size=*/2, /*gamma=*/0.5);
        nn::LRSchedulerCallback schedule(sched);
        nn::EarlyStopping stop(/*patience=*/10);
        nn::BestModelCheckpoint best(dir + "/best.xgt");
        nn::ClipGradNorm clip(0.5);
        DrawSeed draw;
        KillAt kill_at(mode == "killed" && argc > 3 ? std::strtoull(argv[3], nullptr, 10)
                                                    : static_cast<std::size_t>(-1));
        const data::DataLoader train(xgrad::testing::blobs(300, 8, 3, 11, 12),
                                     {/*batch_size=*/16, /*shuffle=*/true, /*seed=*/5});
        const data::DataLoader test(xgrad::testing::blobs(90, 8, 3, 11, 13), {45});
        std::ostringstream log;
        nn::FitOptions fo;
        fo.epochs = 4;
        fo.out = &log;
        fo.metrics_path = dir + "/metrics.csv";
        fo.callbacks = {&clip, &schedule, &stop, &best, &draw, &kill_at};
        if (mode != "full") {
            fo.checkpoint_path = dir + "/last.xgt";
            fo.checkpoint_every = 5;
        }
        if (mode == "resume") fo.resume_from = dir + "/last.xgt";
        const auto history = nn::fit(*net, adam, train, &test, fo);
        nn::save_checkpoint(dir + "/final.xgt", *net, &adam);
        if (std::FILE* f = std::fopen((dir + "/draw.txt").c_str(), "w")) {
            std::fprintf(f, "%.17g\n", draw.last_);  // manual_seed's stream, after the run
            std::fclose(f);
        }
        std::printf("%s: %zu epochs, test loss %.17g, lr %.17g, last draw %.17g\n", mode.c_str(),
                    history.size(), history.back().test_loss, adam.lr(), draw.last_);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "resume_run: %s\n", e.what());
        return 1;
    }
}
