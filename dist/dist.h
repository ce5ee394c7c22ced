#pragma once
// xgrad::dist: data-parallel training over MPI (Open MPI from Debian). No MPI in this header.
//
// Every rank (process) holds a whole copy of the model and trains on its own shard of each
// epoch (data::DistributedSampler). After each backward, allreduce_gradients averages every
// gradient over the ranks, so every rank takes the same optimizer step and the copies stay
// identical. Collectives are non-blocking MPI calls waited on by polling, so that a rank that
// fails can tell the others (they stop with "rank 1 failed: ..." instead of waiting forever) and
// a rank that never answers is reported after a timeout.
//
// Example (run as `mpirun -np 2 ./train`):
//   int main(int argc, char** argv) {
//       xgrad::dist::Environment env(argc, argv);
//       data::DataLoader train(train_set, {/*batch_size=*/64},
//           data::DistributedSampler(train_set.size(), env.world_size(), env.rank(), true, 1));
//       xgrad::dist::DataParallel dp;
//       nn::FitOptions fo;
//       fo.distributed = &dp;          // every rank trains; rank 0 prints, logs and saves
//       nn::fit(*net, adam, train, &test, fo);
//   }

#include <cstddef>
#include <string>
#include <vector>

#include "nn/fit.h"
#include "nn/module.h"

namespace xgrad::dist {

/// RAII for MPI: initialises it (MPI_Init_thread, funneled) and finalises it. Throws
/// std::runtime_error when the process was not started by an MPI launcher (mpirun/mpiexec), or
/// when MPI fails to start. When the environment ends by an exception, or after a rank failed,
/// it aborts the whole job (MPI_Abort) instead of finalising, so that no rank is left waiting.
/// One per process.
class Environment {
public:
    Environment(int& argc, char**& argv);
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
    int rank() const;
    int world_size() const;
};

/// This process's rank in MPI_COMM_WORLD (0 .. world_size()-1). Throws std::logic_error without
/// an Environment.
int rank();
/// The number of ranks.
int world_size();

/// Seconds a collective waits for the other ranks before it throws (default 300).
void set_timeout(double seconds);
/// Largest gradient bucket in bytes (default 25 MiB, PyTorch DDP's bucket_cap_mb): gradients of
/// one dtype are packed in order into buckets up to this size, one allreduce each.
void set_bucket_bytes(std::size_t bytes);

/// Checks that every rank holds the same model (parameter and buffer count, names, shapes and
/// dtypes), then copies `root`'s parameters and buffers to every rank. When the ranks disagree,
/// every rank throws the same std::runtime_error, listing each rank's parameter count and
/// element count; nothing is copied.
void broadcast_parameters(nn::Module& module, int root = 0);

/// Replaces the gradient of every parameter by its mean over the ranks: gradients are packed
/// into a few large buckets (set_bucket_bytes), summed by one MPI allreduce each and divided by
/// world_size(); after prepare_backward(module), the buckets already started during backward
/// are only waited for. A parameter without a gradient contributes zeros; throws std::runtime_error
/// on every rank when the ranks disagree on how many parameters have gradients.
void allreduce_gradients(nn::Module& module);

/// Overlaps the next backward with communication: until allreduce_gradients(module) on this
/// thread, the engine reports each parameter's gradient as soon as it is complete (the
/// autograd/observer.h leaf event), and each bucket's allreduce starts as soon as all of its
/// gradients are; buckets hold the parameters in reverse order (the last layers' gradients come
/// first) and start in order on every rank. allreduce_gradients then starts what is left and
/// waits. Call it before backward: `prepare_backward(net); loss.backward();
/// allreduce_gradients(net);` (nn::fit does, when distributed).
void prepare_backward(nn::Module& module);

/// Sums `values` over the ranks, in place.
void allreduce_sum(std::vector<double>& values);

/// Tells every other rank that this one failed with `what`: they stop with an error naming this
/// rank and the message. Returns after they acknowledged (or after a few seconds).
void abort(const std::string& what);

/// Time and traffic spent in allreduce_gradients since the last reset.
struct CommStats {
    double seconds = 0;       // wall time inside allreduce_gradients (packing included)
    std::size_t calls = 0;    // allreduce_gradients calls
    std::size_t buckets = 0;  // MPI allreduce calls for gradients
    std::size_t bytes = 0;    // gradient bytes reduced
};
CommStats comm_stats();
void reset_comm_stats();

/// nn::fit's data-parallel hook over MPI (FitOptions::distributed = &dp).
class DataParallel : public nn::DataParallel {
public:
    int rank() const override { return dist::rank(); }
    int world_size() const override { return dist::world_size(); }
    void broadcast_parameters(nn::Module& model, int root) override {
        dist::broadcast_parameters(model, root);
    }
    void before_backward(nn::Module& model) override { dist::prepare_backward(model); }
    void allreduce_gradients(nn::Module& model) override { dist::allreduce_gradients(model); }
    void allreduce_sum(std::vector<double>& values) override { dist::allreduce_sum(values); }
    void abort(const std::string& what) override { dist::abort(what); }
};

}  // namespace xgrad::dist
