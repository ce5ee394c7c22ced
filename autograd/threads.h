#pragma once
// Threads used inside one op: xgrad's own pool (autograd/parallel.h: element-wise ops,
// reductions and copies of >= 32K elements) and BLAS. The engine itself runs on the calling
// thread.

namespace xgrad {

/// Threads every op may use: the size of xgrad's pool (the caller plus n - 1 workers) and
/// BLAS's thread count, both set to n. Default 1 (set on first use), or XGRAD_NUM_THREADS when
/// set (then for both); OPENBLAS_NUM_THREADS or OMP_NUM_THREADS set alone leave BLAS to them.
/// Why 1: on a 2-core machine shared with other work, a second thread helps only when a core is
/// idle, and OpenBLAS's extra worker spins after each call while the program's own threads want
/// the core. Results do not depend on the setting: chunk boundaries do not change with it.
/// Throws std::invalid_argument for n < 1.
void set_num_threads(int n);
/// The current setting (the pool's thread count).
int num_threads();

/// How the pool's threads wait: an idle worker for the next job, and a caller for the workers
/// still running the last chunks of its job. The names and meaning are OpenMP's
/// OMP_WAIT_POLICY.
/// - kPassive (default): sleep on a condition variable at once. Nothing spins.
/// - kActive: poll for up to 200 us first (a pause instruction between reads), then sleep. For
///   virtual machines, where waking a sleeping thread goes through the host: on the 2-vCPU VM
///   these numbers come from, a sleeping worker starts its first chunk 32-34 us (median) after
///   the call (bench_elementwise, BM_ParallelWorkerJoin), and `a * b` forward+backward at 10^6
///   float32 runs 1.46x faster on 2 threads than on 1 passive, 1.95x active (medians of 8
///   alternating runs; a hand-written loop with a spinning hand-off gets 1.74-1.81x). The price:
///   each thread burns up to 200 us of CPU after every job.
/// Results are the same bits under either policy. Also set by XGRAD_WAIT_POLICY=passive|active
/// (read on first use, as XGRAD_NUM_THREADS; another value is an error then).
enum class WaitPolicy { kPassive, kActive };
void set_wait_policy(WaitPolicy policy);
WaitPolicy wait_policy();

namespace detail {
/// XGRAD_WAIT_POLICY's value as a policy. Throws std::invalid_argument naming the variable and
/// the value when it is neither "passive" nor "active" (any case).
WaitPolicy parse_wait_policy(const char* value);
}  // namespace detail

}  // namespace xgrad
