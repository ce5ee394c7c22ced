"""Median times, in seconds, of a Google Benchmark binary's benchmarks at one thread (one BLAS
thread, one xgrad thread): {run_name: seconds}. Shared by the optional PyTorch comparisons."""
import json
import os
import subprocess


def medians(binary, flags=(), clock="real_time"):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", XGRAD_NUM_THREADS="1")
    out = subprocess.run([binary, "--benchmark_format=json",
                          "--benchmark_report_aggregates_only=true", *flags],
                         check=True, capture_output=True, text=True, env=env).stdout
    times = {}
    for r in json.loads(out)["benchmarks"]:
        if r.get("aggregate_name") == "median":
            scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9}[r["time_unit"]]
            times[r["run_name"]] = r[clock] * scale
    return times
