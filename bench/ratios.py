#!/usr/bin/env python3
"""Engine/baseline ratios from one run of a bench_<area> binary.

Pairs every BM_<Area>Engine<rest> with BM_<Area><Baseline><rest> (Baseline: HandTape, Hand,
Blas, or Plain: the engine without the feature measured, e.g. without activation checkpoints)
from the same run, and prints the median CPU time of each and their ratio (wall time for
benchmarks that use real time: their names end in /real_time), plus the user counters. Usage:
    OPENBLAS_NUM_THREADS=1 python3 bench/ratios.py [--check] build/bench/bench_matmul [flags]
Repetitions default to 5 (--benchmark_repetitions overrides), randomly interleaved. With
--check (the ctest test BenchRatios.*), exits 1 unless the run had at least one engine
benchmark, every engine benchmark got a ratio, and no benchmark reported an error."""
import json
import re
import subprocess
import sys

BASELINES = ("HandTape", "Hand", "Blas", "Plain")


def main():
    args = sys.argv[1:]
    check = "--check" in args
    if check:
        args.remove("--check")
    binary, flags = args[0], args[1:]
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
    engines, unpaired, errors = 0, [], []
    for name, r in median.items():
        if r.get("error_occurred"):
            errors.append(name)
        m = re.match(r"BM_(\w+?)Engine(.*)$", name)
        if not m:
            continue
        engines += 1
        base = next((median[b] for b in (f"BM_{m[1]}{s}{m[2]}" for s in BASELINES)
                     if b in median), None)
        unit = r["time_unit"]
        # UseRealTime() benchmarks (named .../real_time) run several threads: the caller's CPU
        # time would leave the workers' out, so they compare wall time.
        t = "real_time" if name.endswith("/real_time") else "cpu_time"
        line = f"{name:40s} {r[t]:10.4g} {unit}"
        if base is not None:
            line += (f"   {base['run_name']:36s} {base[t]:10.4g} {unit}"
                     f"   ratio {r[t] / base[t]:7.3f}")
        else:
            unpaired.append(name)
        print(line)
    # Thread scaling: an engine benchmark run at 1 and 2 threads (its last argument before
    # /real_time) gives the 2-thread speedup, wall time at 1 over wall time at 2.
    for name, r in median.items():
        m = re.match(r"(BM_\w+?Engine.*)/1/real_time$", name)
        two = median.get(f"{m[1]}/2/real_time") if m else None
        if two is not None:
            print(f"{m[1]:40s} 1 thread {r['real_time']:10.4g} {r['time_unit']}   2 threads "
                  f"{two['real_time']:10.4g} {two['time_unit']}   speedup "
                  f"{r['real_time'] / two['real_time']:7.3f}")
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
    if check:
        problems = []
        if engines == 0:
            problems.append("no engine benchmark (BM_<Area>Engine<rest>) ran")
        problems += [f"{n}: no baseline BM_<Area>{{{','.join(BASELINES)}}}<rest> to pair with"
                     for n in unpaired]
        problems += [f"{n}: the benchmark reported an error" for n in errors]
        for p in problems:
            print(f"ratios.py --check: {p}", file=sys.stderr)
        if problems:
            sys.exit(1)
        print(f"ratios.py --check: {engines} engine benchmarks, each with its ratio")


if __name__ == "__main__":
    main()
