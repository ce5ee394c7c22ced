// The thread pool behind parallel_for. One job at a time: the submitting thread publishes it
// under the mutex and wakes the workers; everyone (the caller too) claims chunks from an atomic
// counter; the caller then withdraws the job and sleeps until every worker that joined it has
// left. Workers sleep on a condition variable between jobs. Under WaitPolicy::kActive both
// waits first poll an atomic for up to kActiveWait (autograd/threads.h says why).

#include "autograd/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace xgrad {

void ensure_thread_defaults();  // autograd/threads.cpp

namespace detail {

namespace {

struct Job {
    ChunkFn fn;
    void* ctx;
    std::size_t begin, end, grain, chunks;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;  // the first exception; written under Pool::mutex_
    // Workers inside run(): changed under Pool::mutex_; read without it by a caller polling
    // (kActive), which the decrement's release then orders after the worker's writes.
    std::atomic<int> joined{0};
};

thread_local bool t_inside_chunk = false;  // nested calls run inline

// How long a waiter polls before sleeping under kActive: longer than the gap between two ops'
// kernels in a step (a few us), far shorter than a pause in the program.
constexpr std::chrono::microseconds kActiveWait{200};
std::atomic<bool> g_active{false};

// Polls done() until it holds or `until` has passed; whether it held.
template <class Done>
bool poll(std::chrono::steady_clock::time_point until, Done done) {
    for (;;) {
        for (int k = 0; k < 64; ++k) {
            if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        if (std::chrono::steady_clock::now() >= until) return done();
    }
}

class Pool {
public:
    ~Pool() { resize(1); }

    // n threads in all: the caller and n - 1 workers.
    void resize(int n) {
        std::lock_guard<std::mutex> submit(submit_mutex_);  // no job is running
        const std::size_t want = static_cast<std::size_t>(std::max(n, 1) - 1);
        if (want == workers_.size()) return;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
            stopping_.store(true, std::memory_order_release);
        }
        wake_.notify_all();
        for (std::thread& t : workers_) t.join();
        workers_.clear();
        stop_ = false;
        stopping_.store(false, std::memory_order_relaxed);
        for (std::size_t i = 0; i < want; ++i) workers_.emplace_back([this] { work(); });
        threads_.store(n < 1 ? 1 : n, std::memory_order_relaxed);
    }
    int threads() const { return threads_.load(std::memory_order_relaxed); }

    void run(std::size_t begin, std::size_t end, std::size_t grain, ChunkFn fn, void* ctx) {
        Job job;
        job.fn = fn;
        job.ctx = ctx;
        job.begin = begin;
        job.end = end;
        job.grain = grain;
        job.chunks = num_chunks(begin, end, grain);
        std::unique_lock<std::mutex> submit(submit_mutex_, std::try_to_lock);
        if (!submit.owns_lock() || workers_.empty() || job.chunks < 2) {
            run_inline(job);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = &job;
            ++generation_;
            published_.store(generation_, std::memory_order_release);
        }
        wake_.notify_all();
        claim(job);
        std::unique_lock<std::mutex> lock(mutex_);
        job_ = nullptr;  // no worker joins any more
        const auto left = [&] { return job.joined.load(std::memory_order_acquire) == 0; };
        if (!left() && g_active.load(std::memory_order_relaxed)) {
            lock.unlock();
            poll(std::chrono::steady_clock::now() + kActiveWait, left);
            lock.lock();
        }
        done_.wait(lock, left);
        if (job.error) std::rethrow_exception(job.error);
    }

private:
    static void run_inline(Job& job) {
        const bool outer = t_inside_chunk;
        t_inside_chunk = true;
        try {
            for (std::size_t c = 0; c < job.chunks; ++c) {
                const std::size_t b = job.begin + c * job.grain;
                job.fn(job.ctx, b, b + std::min(job.grain, job.end - b));
            }
        } catch (...) {
            t_inside_chunk = outer;
            throw;
        }
        t_inside_chunk = outer;
    }

    void claim(Job& job) {
        const bool outer = t_inside_chunk;
        t_inside_chunk = true;
        for (;;) {
            if (job.failed.load(std::memory_order_relaxed)) break;
            const std::size_t c = job.next.fetch_add(1, std::memory_order_relaxed);
            if (c >= job.chunks) break;
            const std::size_t b = job.begin + c * job.grain;
            try {
                job.fn(job.ctx, b, b + std::min(job.grain, job.end - b));
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!job.error) job.error = std::current_exception();
                job.failed.store(true, std::memory_order_relaxed);
            }
        }
        t_inside_chunk = outer;
    }

    void work() {
        std::uint64_t seen = 0;
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            const auto ready = [&] { return stop_ || (job_ != nullptr && generation_ != seen); };
            if (g_active.load(std::memory_order_relaxed) && !ready()) {
                // Poll for a job for kActiveWait after the last one. A job published and
                // withdrawn before this worker got the mutex counts as seen, so that the
                // polling goes on for the next one.
                const auto until = std::chrono::steady_clock::now() + kActiveWait;
                do {
                    if (job_ == nullptr) seen = generation_;
                    lock.unlock();
                    const bool published = poll(until, [&] {
                        return published_.load(std::memory_order_acquire) != seen ||
                               stopping_.load(std::memory_order_acquire);
                    });
                    lock.lock();
                    if (!published) break;
                } while (!ready());
            }
            wake_.wait(lock, ready);
            if (stop_) return;
            seen = generation_;
            Job* job = job_;
            job->joined.fetch_add(1, std::memory_order_relaxed);
            lock.unlock();
            claim(*job);
            lock.lock();
            // The last access to *job: the caller may return once it reads 0.
            if (job->joined.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_one();
        }
    }

    std::mutex submit_mutex_;  // held by the thread whose job the pool runs
    std::mutex mutex_;         // guards job_, generation_, stop_, Job::joined and Job::error
    std::condition_variable wake_, done_;
    Job* job_ = nullptr;
    std::uint64_t generation_ = 0;
    bool stop_ = false;
    // Mirrors of generation_ and stop_ that a polling worker reads without the mutex.
    std::atomic<std::uint64_t> published_{0};
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> workers_;
    std::atomic<int> threads_{1};
};

Pool& pool() {
    static Pool p;
    return p;
}

std::atomic<bool> g_thread_dependent_chunks{false};  // the test hook

}  // namespace

void set_thread_dependent_chunks_for_testing(bool on) {
    g_thread_dependent_chunks.store(on, std::memory_order_relaxed);
}

void set_pool_threads(int n) { pool().resize(n); }
void set_pool_active(bool on) { g_active.store(on, std::memory_order_relaxed); }
bool pool_active() { return g_active.load(std::memory_order_relaxed); }
int pool_threads() { return pool().threads(); }

void parallel_for_impl(std::size_t begin, std::size_t end, std::size_t grain, ChunkFn fn,
                       void* ctx) {
    if (grain == 0) grain = 1;
    if (end <= begin) return;
    ensure_thread_defaults();
    if (g_thread_dependent_chunks.load(std::memory_order_relaxed)) {
        grain *= static_cast<std::size_t>(pool().threads());
    }
    if (t_inside_chunk || end - begin <= grain) {
        // Inline, but with the same chunk boundaries.
        for (std::size_t c = 0, n = num_chunks(begin, end, grain); c < n; ++c) {
            const std::size_t b = begin + c * grain;
            fn(ctx, b, b + std::min(grain, end - b));
        }
        return;
    }
    pool().run(begin, end, grain, fn, ctx);
}

}  // namespace detail
}  // namespace xgrad
