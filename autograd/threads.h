#pragma once
// Threads used inside one op (BLAS). The engine itself runs on the calling thread.

namespace xgrad {

/// Threads BLAS may use per matmul. Default 1 (set on first use), unless OPENBLAS_NUM_THREADS,
/// OMP_NUM_THREADS or XGRAD_NUM_THREADS is set: on 2 cores OpenBLAS's extra worker spins after
/// each call while the program's own threads want the core, and small products gain nothing.
void set_num_threads(int n);
/// The current setting (1 if the BLAS in use cannot be configured).
int num_threads();

}  // namespace xgrad
