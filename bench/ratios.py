#!/usr/bin/env python3
"""Engine/baseline ratios from one run of a bench_<area> binary.

Pairs every BM_<Area>Engine<rest> with BM_<Area><Baseline><rest> (Baseline: HandTape, Hand,
Blas) from the same run, and prints the median CPU time of each and their ratio, plus the
user counters. Usage:
    OPENBLAS_NUM_THREADS=1 python3 bench/ratios.py build/bench/bench_matmul [benchmark flags]
Repetitions default to 5 (--benchmark_repetitions overrides), randomly interleaved."""
import json
import re
import subprocess
import sys

BASELINES = ("HandTape", "Hand", "Blas")


def main():
    binary, flags = sys.argv[1], sys.argv[2:]
    if not any(f.startswith("--benchmark_repetitions") for f in flags):
        flags.append("--benchmark_repetitions=5")
    # Repetitions of engine and baseline alternate in random order, so a load change on the
    # shared machine does not fall on one side of a ratio only.
    if not any(f.startswith("--benchmark_enable_random_interleaving") for f in flags):
        flags.append("--benchmark_enable_random_interleaving=true")
    out = subprocess.run([binary, "--benchmark_format=json",
                          "--benchmark_report_aggregates_only=true", *flags],
                         check=True, capture_output=True, text=True).stdout
    runs = json.loads(out)["benchmarks"]
    median = {}
    for r in runs:
        if r.get("aggregate_name") == "median" or r.get("run_type") == "iteration":
            median.setdefault(r["run_name"], r)
    for name, r in median.items():
        m = re.match(r"BM_(\w+?)Engine(.*)$", name)
        if not m:
            continue
        base = next((median[b] for b in (f"BM_{m[1]}{s}{m[2]}" for s in BASELINES)
                     if b in median), None)
        unit = r["time_unit"]
        line = f"{name:40s} {r['cpu_time']:10.4g} {unit}"
        if base is not None:
            line += (f"   {base['run_name']:36s} {base['cpu_time']:10.4g} {unit}"
                     f"   ratio {r['cpu_time'] / base['cpu_time']:7.3f}")
        print(line)
    keys = ("name", "run_name", "run_type", "aggregate_name", "repetitions", "repetition_index",
            "threads", "iterations", "real_time", "cpu_time", "time_unit", "family_index",
            "per_family_instance_index", "aggregate_unit", "items_per_second",
            "error_occurred", "error_message")
    for name, r in median.items():
        counters = {k: v for k, v in r.items() if k not in keys}
        if counters:
            print(f"{name:40s} " + "  ".join(
                f"{k}={v * 1e9:.4g}ns" if k.startswith("time_per") else f"{k}={v:.4g}"
                for k, v in counters.items()))
        if r.get("error_occurred"):
            print(f"{name}: ERROR {r.get('error_message')}")


if __name__ == "__main__":
    main()
