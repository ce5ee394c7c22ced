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

}  // namespace xgrad
