#pragma once
// parallel_for: the one way xgrad's own kernels use more than one thread. No xtensor here.
//
// The work [begin, end) is cut into chunks of `grain` indices at begin, begin + grain, ...:
// the boundaries depend only on the range and the grain, never on the thread count, so a
// kernel that reduces each chunk and then combines the chunk results in chunk order gives
// bit-identical results with 1 and N threads. Chunks run on a small pool of worker threads
// and on the caller. Idle workers sleep on a condition variable: under the default wait policy
// nothing spins (WaitPolicy::kActive, autograd/threads.h, polls up to 200 us first).

#include <cstddef>
#include <type_traits>
#include <utility>

namespace xgrad {

namespace detail {
using ChunkFn = void (*)(void* ctx, std::size_t chunk_begin, std::size_t chunk_end);
void parallel_for_impl(std::size_t begin, std::size_t end, std::size_t grain, ChunkFn fn,
                       void* ctx);
/// Test hook, off by default: while on, parallel_for multiplies every grain by the thread
/// count, i.e. makes chunk boundaries depend on the thread count, the bug the bit-identity
/// tests (tests/autograd/parallel_test.cpp) exist to catch; they turn it on to check that they
/// would. Not for use outside tests.
void set_thread_dependent_chunks_for_testing(bool on);
}  // namespace detail

/// Element count from which the element-wise and reduction kernels split their work, and the
/// chunk size they use (32K elements: below it the hand-off costs more than it saves).
inline constexpr std::size_t kParallelGrain = std::size_t(32) << 10;

/// Calls fn(chunk_begin, chunk_end) for every chunk [begin + k * grain, min(end, begin + (k+1) *
/// grain)) of [begin, end), each exactly once, in parallel on up to num_threads() threads (the
/// caller included), and returns when all have run. Chunks must write disjoint memory. A grain
/// of 0 is taken as 1. Calls made from inside fn, or while another thread's parallel_for holds
/// the pool, run their chunks inline, in order, on the calling thread. If fn throws, chunks not
/// yet started are skipped and the first exception is rethrown in the caller.
/// Example (a sum that is bit-identical for any thread count):
///   std::vector<double> part((n + g - 1) / g);
///   parallel_for(0, n, g, [&](std::size_t b, std::size_t e) {
///       for (std::size_t i = b; i < e; ++i) part[b / g] += x[i];
///   });
///   double s = 0;  for (double p : part) s += p;   // chunk order
template <class F>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, F&& fn) {
    using Fn = std::remove_reference_t<F>;
    detail::parallel_for_impl(
        begin, end, grain,
        [](void* ctx, std::size_t b, std::size_t e) { (*static_cast<Fn*>(ctx))(b, e); },
        const_cast<void*>(static_cast<const void*>(&fn)));
}

/// Number of chunks parallel_for cuts [begin, end) into with this grain.
inline std::size_t num_chunks(std::size_t begin, std::size_t end, std::size_t grain) {
    if (grain == 0) grain = 1;
    return end > begin ? (end - begin + grain - 1) / grain : 0;
}

}  // namespace xgrad
