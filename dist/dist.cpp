#include "dist/dist.h"

#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "autograd/observer.h"

namespace xgrad::dist {

namespace {

constexpr int kFailTag = 1;  // "I failed", with the message, on the control communicator
constexpr int kAckTag = 2;   // "heard you", the answer to it
constexpr double kAckSeconds = 5;

// The process's MPI state. MPI is used from the thread that made the Environment only
// (MPI_THREAD_FUNNELED), so plain globals.
struct State {
    bool initialized = false;
    bool failed = false;  // this rank failed or heard that another did: abort, never finalise
    int rank = 0;
    int world = 1;
    MPI_Comm data = MPI_COMM_NULL;     // collectives
    MPI_Comm control = MPI_COMM_NULL;  // failure notices, so they never match a collective
    double timeout = 300;
    std::size_t bucket_bytes = 25u << 20;
    CommStats stats;
};
State g;

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void require(const char* op) {
    if (!g.initialized) {
        throw std::logic_error(std::string(op) +
                               ": MPI is not initialised (create a dist::Environment first)");
    }
}

void check(int rc, const char* op, const char* call) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    g.failed = true;
    throw std::runtime_error(std::string(op) + ": " + call + " failed on rank " +
                             std::to_string(g.rank) + ": " + std::string(text, len));
}

// Answers every failure notice that has arrived. Returns the first one's text ("rank R failed:
// ..."), or "" when none came.
std::string take_notices() {
    std::string first;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, kFailTag, g.control, &flag, &st);
        if (!flag) return first;
        int len = 0;
        MPI_Get_count(&st, MPI_CHAR, &len);
        std::string msg(static_cast<std::size_t>(len), '\0');
        MPI_Recv(msg.data(), len, MPI_CHAR, st.MPI_SOURCE, kFailTag, g.control, MPI_STATUS_IGNORE);
        char ack = 1;
        MPI_Send(&ack, 1, MPI_CHAR, st.MPI_SOURCE, kAckTag, g.control);
        if (first.empty()) first = "rank " + std::to_string(st.MPI_SOURCE) + " failed: " + msg;
    }
}

// Waits for `requests` by polling, so that a failure notice or the timeout ends the wait with an
// exception instead of a hang.
void wait_all(std::vector<MPI_Request>& requests, const char* op) {
    const double deadline = now() + g.timeout;
    for (std::size_t polls = 0;; ++polls) {
        int done = 0;
        check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done,
                          MPI_STATUSES_IGNORE),
              op, "MPI_Testall");
        if (done) return;
        if (polls % 64 == 0) {
            const std::string notice = take_notices();
            if (!notice.empty()) {
                g.failed = true;
                const std::string text = std::string(op) + ": stopping: " + notice;
                // Printed here: the failed rank aborts the job once we answered, which may end
                // this process before its caller prints anything.
                std::fprintf(stderr, "xgrad::dist: rank %d: %s\n", g.rank, text.c_str());
                std::fflush(stderr);
                throw std::runtime_error(text);
            }
            if (now() > deadline) {
                g.failed = true;
                throw std::runtime_error(
                    std::string(op) + ": rank " + std::to_string(g.rank) + " waited " +
                    std::to_string(static_cast<int>(g.timeout)) +
                    " s for the other ranks (got no answer, expected every rank in the same "
                    "collective): a rank is hung, or died without telling");
            }
        }
        sched_yield();
    }
}

void wait_one(MPI_Request request, const char* op) {
    std::vector<MPI_Request> r{request};
    wait_all(r, op);
}

MPI_Datatype mpi_type(DType d) { return d == f64 ? MPI_DOUBLE : MPI_FLOAT; }

// FNV-1a over the names, shapes and dtypes of the parameters and buffers.
std::uint64_t fingerprint(const std::vector<nn::NamedTensor>& tensors) {
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
    };
    for (const auto& [name, t] : tensors) {
        mix(name.data(), name.size() + 1);
        const std::uint64_t dt = t.dtype() == f64 ? 1 : 0, nd = t.ndim();
        mix(&dt, sizeof dt);
        mix(&nd, sizeof nd);
        for (std::size_t d : t.shape().vec()) {
            const std::uint64_t v = d;
            mix(&v, sizeof v);
        }
    }
    return h;
}

// A bucket: consecutive tensors of one dtype packed into one buffer.
struct Bucket {
    DType dtype;
    std::vector<std::size_t> members;  // indices into the tensor list
    std::vector<unsigned char> buffer;
    std::size_t count = 0;  // elements
};

std::vector<Bucket> make_buckets(const std::vector<Tensor>& tensors) {
    std::vector<Bucket> buckets;
    for (DType d : {f32, f64}) {
        Bucket b{d, {}, {}, 0};
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            if (tensors[i].dtype() != d) continue;
            const std::size_t nb = tensors[i].value().nbytes();
            if (!b.members.empty() && bytes + nb > g.bucket_bytes) {
                buckets.push_back(std::move(b));
                b = Bucket{d, {}, {}, 0};
                bytes = 0;
            }
            b.members.push_back(i);
            bytes += nb;
            b.count += tensors[i].numel();
        }
        if (!b.members.empty()) buckets.push_back(std::move(b));
    }
    return buckets;
}

// Packs bucket b's gradients (zeros where a parameter has none) and starts its allreduce.
void launch(Bucket& b, std::vector<Tensor>& params, MPI_Request& request, const char* op) {
    const std::size_t esize = b.dtype == f64 ? 8 : 4;
    b.buffer.assign(b.count * esize, 0);
    std::size_t at = 0;
    for (std::size_t i : b.members) {
        Tensor& p = params[i];
        const std::size_t nb = p.value().nbytes();
        GradRef grad = p.mutable_grad();
        const void* src = b.dtype == f64 ? static_cast<const void*>(grad.data<double>())
                                         : static_cast<const void*>(grad.data<float>());
        if (src != nullptr) std::memcpy(b.buffer.data() + at, src, nb);
        at += nb;
    }
    check(MPI_Iallreduce(MPI_IN_PLACE, b.buffer.data(), static_cast<int>(b.count),
                         mpi_type(b.dtype), MPI_SUM, g.data, &request),
          op, "MPI_Iallreduce");
    g.stats.bytes += b.buffer.size();
    ++g.stats.buckets;
}

// Overlap with backward: the engine tells when each parameter's gradient is complete
// (on_leaf_ready); a bucket's allreduce starts once all its parameters are. Buckets hold the
// parameters in reverse order (backward produces the last layers' gradients first, as PyTorch
// DDP) and are started strictly in order, so every rank starts the same collectives in the same
// order whatever order its gradients complete in.
struct Overlap : GraphObserver {
    const nn::Module* module = nullptr;
    std::vector<Tensor> params;
    std::unordered_map<const Node*, std::size_t> index;
    std::vector<Bucket> buckets;
    std::vector<std::size_t> bucket_of, pending;
    std::vector<bool> ready;
    std::vector<MPI_Request> requests;
    std::size_t next = 0;  // the first bucket not started
    std::unique_ptr<ObserverGuard> guard;

    bool wants_leaf_events() const override { return true; }
    void on_leaf_ready(const Tensor& leaf) override {
        const auto it = index.find(leaf.node());
        if (it == index.end() || ready[it->second]) return;  // not ours, or already counted
        ready[it->second] = true;
        --pending[bucket_of[it->second]];
        start_ready();
    }
    void start_ready() {
        for (; next < buckets.size() && pending[next] == 0; ++next) {
            launch(buckets[next], params, requests[next], "allreduce_gradients");
        }
    }
};
std::unique_ptr<Overlap> g_overlap;

std::vector<Tensor> trainable(nn::Module& module) {
    std::vector<Tensor> params;
    for (Tensor& p : module.parameters()) {
        if (p.requires_grad()) params.push_back(p);
    }
    return params;
}

// The buckets of `module`'s trainable parameters, in reverse order, none started.
std::unique_ptr<Overlap> plan(nn::Module& module) {
    auto o = std::make_unique<Overlap>();
    o->module = &module;
    o->params = trainable(module);
    std::reverse(o->params.begin(), o->params.end());
    o->buckets = make_buckets(o->params);
    o->bucket_of.resize(o->params.size());
    o->ready.assign(o->params.size(), false);
    for (std::size_t b = 0; b < o->buckets.size(); ++b) {
        for (std::size_t i : o->buckets[b].members) o->bucket_of[i] = b;
        o->pending.push_back(o->buckets[b].members.size());
    }
    for (std::size_t i = 0; i < o->params.size(); ++i) o->index.emplace(o->params[i].node(), i);
    o->requests.assign(o->buckets.size(), MPI_REQUEST_NULL);
    return o;
}

}  // namespace

void prepare_backward(nn::Module& module) {
    require("prepare_backward");
    g_overlap.reset();  // one an exception left behind
    std::unique_ptr<Overlap> o = plan(module);
    o->guard = std::make_unique<ObserverGuard>(*o);
    g_overlap = std::move(o);
}

Environment::Environment(int& argc, char**& argv) {
    if (g.initialized) throw std::logic_error("dist::Environment: MPI is already initialised");
    const char* launchers[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    bool launched = false;
    for (const char* v : launchers) launched = launched || std::getenv(v) != nullptr;
    if (!launched) {
        throw std::runtime_error(
            "dist::Environment: this process was not started by an MPI launcher "
            "(OMPI_COMM_WORLD_SIZE, PMIX_RANK and PMI_RANK are unset); run it as "
            "`mpirun -np N <program>` (Debian: apt-get install openmpi-bin), or train without "
            "xgrad::dist");
    }
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        throw std::runtime_error("dist::Environment: MPI_Init_thread failed");
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g.world);
    MPI_Comm_dup(MPI_COMM_WORLD, &g.data);
    MPI_Comm_dup(MPI_COMM_WORLD, &g.control);
    MPI_Comm_set_errhandler(g.data, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(g.control, MPI_ERRORS_RETURN);
    g.initialized = true;
    g.failed = false;
}

Environment::~Environment() {
    if (std::uncaught_exceptions() > 0 && !g.failed) {
        abort("an exception ended rank " + std::to_string(g.rank) + "'s dist::Environment");
    }
    if (g.failed) {
        // Some rank may still wait in a collective that will never complete: end them all.
        std::fflush(stdout);
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Comm_free(&g.data);
    MPI_Comm_free(&g.control);
    MPI_Finalize();
    g.initialized = false;
}

int Environment::rank() const { return g.rank; }
int Environment::world_size() const { return g.world; }

int rank() {
    require("dist::rank");
    return g.rank;
}

int world_size() {
    require("dist::world_size");
    return g.world;
}

void set_timeout(double seconds) {
    if (!(seconds > 0)) {
        throw std::invalid_argument("dist::set_timeout: seconds must be > 0 (got " +
                                    std::to_string(seconds) + ")");
    }
    g.timeout = seconds;
}

void set_bucket_bytes(std::size_t bytes) {
    if (bytes == 0)
        throw std::invalid_argument("dist::set_bucket_bytes: bytes must be > 0 (got 0)");
    g.bucket_bytes = bytes;
}

void broadcast_parameters(nn::Module& module, int root) {
    const char* op = "broadcast_parameters";
    require(op);
    if (root < 0 || root >= g.world) {
        throw std::invalid_argument(std::string(op) + ": root out of range (got " +
                                    std::to_string(root) + ", expected 0 <= root < " +
                                    std::to_string(g.world) + ")");
    }
    std::vector<nn::NamedTensor> named = module.named_parameters();
    for (auto& b : module.named_buffers()) named.push_back(std::move(b));
    std::uint64_t elements = 0;
    for (const auto& [n, t] : named) elements += t.numel();
    const std::uint64_t mine[3] = {named.size(), elements, fingerprint(named)};
    std::vector<std::uint64_t> all(3 * static_cast<std::size_t>(g.world));
    MPI_Request req;
    check(MPI_Iallgather(mine, 3, MPI_UINT64_T, all.data(), 3, MPI_UINT64_T, g.data, &req), op,
          "MPI_Iallgather");
    wait_one(req, op);
    bool same = true;
    for (int r = 1; r < g.world; ++r) {
        for (int k = 0; k < 3; ++k) same = same && all[3 * r + k] == all[k];
    }
    if (!same) {
        // Every rank has the same gathered numbers, so every rank throws the same message.
        std::string msg = std::string(op) + ": ranks disagree on the model (";
        for (int r = 0; r < g.world; ++r) {
            msg += (r ? "; rank " : "rank ") + std::to_string(r) + ": " +
                   std::to_string(all[3 * r]) + " parameters and buffers, " +
                   std::to_string(all[3 * r + 1]) + " elements" +
                   (all[3 * r + 2] != all[2] ? ", other names/shapes/dtypes than rank 0" : "");
        }
        throw std::runtime_error(msg + "); every rank must build the same model");
    }
    std::vector<Tensor> tensors;
    for (auto& [n, t] : named) tensors.push_back(t);
    std::vector<Bucket> buckets = make_buckets(tensors);
    std::vector<MPI_Request> requests;
    for (Bucket& b : buckets) {
        const std::size_t esize = b.dtype == f64 ? 8 : 4;
        b.buffer.resize(b.count * esize);
        std::size_t at = 0;
        for (std::size_t i : b.members) {
            const Array& v = tensors[i].value();
            if (g.rank == root) std::memcpy(b.buffer.data() + at, v.raw(), v.nbytes());
            at += v.nbytes();
        }
        requests.emplace_back();
        check(MPI_Ibcast(b.buffer.data(), static_cast<int>(b.count), mpi_type(b.dtype), root,
                         g.data, &requests.back()),
              op, "MPI_Ibcast");
    }
    wait_all(requests, op);
    for (Bucket& b : buckets) {
        std::size_t at = 0;
        for (std::size_t i : b.members) {
            const std::size_t nb = tensors[i].value().nbytes();
            MutableValue v = tensors[i].mutable_value();
            std::memcpy(v.raw(), b.buffer.data() + at, nb);
            at += nb;
        }
    }
}

void allreduce_gradients(nn::Module& module) {
    const char* op = "allreduce_gradients";
    require(op);
    const double start = now();
    std::unique_ptr<Overlap> o;
    if (g_overlap && g_overlap->module == &module) {
        o = std::move(g_overlap);
        o->guard.reset();  // backward is over
    } else {
        g_overlap.reset();
        o = plan(module);
    }
    // The buckets not started during backward (no overlap, or a parameter without a gradient),
    // in order.
    for (; o->next < o->buckets.size(); ++o->next) {
        launch(o->buckets[o->next], o->params, o->requests[o->next], op);
    }
    // How many parameters have a gradient, and its square: equal everywhere iff
    // world * sum(c^2) == sum(c)^2.
    std::int64_t counts[2] = {0, 0};
    for (const Tensor& p : o->params) counts[0] += p.has_grad() ? 1 : 0;
    const std::int64_t mine = counts[0];
    counts[1] = counts[0] * counts[0];
    std::vector<MPI_Request> requests = o->requests;
    requests.emplace_back();
    check(MPI_Iallreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_SUM, g.data, &requests.back()),
          op, "MPI_Iallreduce");
    wait_all(requests, op);
    if (counts[1] * g.world != counts[0] * counts[0]) {
        throw std::runtime_error(
            std::string(op) + ": ranks disagree on which parameters have gradients (rank " +
            std::to_string(g.rank) + " has " + std::to_string(mine) + ", " +
            std::to_string(counts[0]) + " over all " + std::to_string(g.world) +
            " ranks); every rank must run the same forward");
    }
    for (Bucket& b : o->buckets) {
        std::size_t at = 0;
        for (std::size_t i : b.members) {
            Tensor& p = o->params[i];
            const std::size_t n = p.numel();
            GradRef grad = p.mutable_grad();
            // The mean: the sum over ranks divided by the world size.
            if (b.dtype == f64) {
                double* dst = grad.data<double>();
                const auto* src = reinterpret_cast<const double*>(b.buffer.data() + at);
                const double w = static_cast<double>(g.world);
                if (dst != nullptr) {
                    for (std::size_t k = 0; k < n; ++k) dst[k] = src[k] / w;
                }
            } else {
                float* dst = grad.data<float>();
                const auto* src = reinterpret_cast<const float*>(b.buffer.data() + at);
                const float w = static_cast<float>(g.world);
                if (dst != nullptr) {
                    for (std::size_t k = 0; k < n; ++k) dst[k] = src[k] / w;
                }
            }
            at += p.value().nbytes();
        }
    }
    g.stats.seconds += now() - start;
    ++g.stats.calls;
}

void allreduce_sum(std::vector<double>& values) {
    const char* op = "allreduce_sum";
    require(op);
    MPI_Request req;
    check(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                         MPI_SUM, g.data, &req),
          op, "MPI_Iallreduce");
    wait_one(req, op);
}

void abort(const std::string& what) {
    if (!g.initialized || g.failed) {
        g.failed = g.initialized;
        return;
    }
    g.failed = true;
    std::fprintf(stderr, "xgrad::dist: rank %d failed: %s\n", g.rank, what.c_str());
    std::fflush(stderr);
    std::vector<MPI_Request> sends, acks;
    std::vector<char> ack(static_cast<std::size_t>(g.world));
    for (int r = 0; r < g.world; ++r) {
        if (r == g.rank) continue;
        sends.emplace_back();
        MPI_Isend(what.data(), static_cast<int>(what.size()), MPI_CHAR, r, kFailTag, g.control,
                  &sends.back());
        acks.emplace_back();
        MPI_Irecv(&ack[static_cast<std::size_t>(r)], 1, MPI_CHAR, r, kAckTag, g.control,
                  &acks.back());
    }
    // Until every other rank answered: they answer when their next collective polls. A rank
    // that failed too waits for our answer, so answer notices meanwhile.
    const double deadline = now() + kAckSeconds;
    int done = 0;
    while (!done && now() < deadline) {
        MPI_Testall(static_cast<int>(acks.size()), acks.data(), &done, MPI_STATUSES_IGNORE);
        take_notices();
        sched_yield();
    }
}

CommStats comm_stats() { return g.stats; }
void reset_comm_stats() { g.stats = CommStats{}; }

}  // namespace xgrad::dist
