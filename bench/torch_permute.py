#!/usr/bin/env python3
"""xgrad's permute(...).contiguous() against PyTorch's, one thread, (64,128,256) float32.

Runs build/bench/bench_nd's permute benchmarks (Google Benchmark, median of 7, interleaved)
and the same permutations in PyTorch (Debian's python3-torch, `x.permute(p).contiguous()` and
`x.clone()` as its plain copy), and prints each time, its ratio to the same library's plain
copy, and xgrad's time over PyTorch's. Optional: says so and exits 0 when torch is not
installed. Not part of the test suite.
Usage: python3 bench/torch_permute.py [build/bench/bench_nd]"""
import sys
import time

from gbench_medians import medians

PERMS = {"021": (0, 2, 1), "201": (2, 0, 1), "210": (2, 1, 0)}


def xgrad_times(binary):
    return medians(binary, ["--benchmark_filter=Permute", "--benchmark_repetitions=7",
                            "--benchmark_enable_random_interleaving=true"], clock="cpu_time")


def median(f, reps=101):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bench/bench_nd"
    try:
        import torch
    except ImportError:
        print("torch_permute: PyTorch is not installed (Debian: python3-torch); skipped")
        return 0
    torch.set_num_threads(1)
    x = torch.rand(64, 128, 256)
    ours = xgrad_times(binary)
    print(f"{'permutation':12} {'xgrad ms':>9} {'/memcpy':>8} {'torch ms':>9} {'/clone':>7} "
          f"{'xgrad/torch':>12}")
    for name, p in PERMS.items():
        e, h = ours[f"BM_CopyEnginePermute{name}"], ours[f"BM_CopyHandPermute{name}"]
        clone = median(lambda: x.clone())
        t = median(lambda: x.permute(*p).contiguous())
        print(f"{str(p):12} {e * 1e3:9.3f} {e / h:8.2f} {t * 1e3:9.3f} {t / clone:7.2f} "
              f"{e / t:12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
