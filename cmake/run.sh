#!/usr/bin/env bash
# The README's commands. Each installs the Debian packages it needs when they are missing
# (quick when they are present), configures with a preset, builds with ninja, and runs.
#   bash cmake/run.sh demo       build and run the demo
#   bash cmake/run.sh test       build and run every test (Release)
#   bash cmake/run.sh sanitize   build and run every test under address+undefined sanitizers
#   bash cmake/run.sh tsan       build and run every test under the thread sanitizer
#   bash cmake/run.sh bench      build and run the benchmarks (one thread)
#   bash cmake/run.sh format     check that every C++ file is clang-formatted (CI runs it)
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything the tests use, so none of them skips on a fresh machine: dataset-fashion-mnist
# (the integration test trains on the real files), graphviz and gnuplot-nox (the rendering
# tests of the course figures and the loss curve), clang (a determinism test is compiled with
# clang++ too; libFuzzer builds), python3 (bench/ratios.py's test), libopenmpi-dev and
# openmpi-bin (xgrad::dist and its Distributed* tests, run under mpirun), wamerican (the word
# list the character-level language model trains on, and its test).
build_packages=(cmake ninja-build ccache g++ libxtensor-dev libxtensor-blas-dev libxsimd-dev
                xtl-dev libopenblas-dev libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
                dataset-fashion-mnist graphviz gnuplot-nox clang python3 libopenmpi-dev
                openmpi-bin wamerican)

ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing missing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# One thread for OpenBLAS unless the caller says otherwise: on 2 cores, BLAS worker threads
# only compete with the process's own threads.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

# Installs what is missing, configures, builds and runs ctest with one preset.
suite() {
    ensure_packages "${build_packages[@]}"
    cmake --preset "$1" >/dev/null
    cmake --build --preset "$1"
    ctest --preset "$1"
}

case "${1:-}" in
    demo)
        ensure_packages "${build_packages[@]}"
        cmake --preset release >/dev/null
        cmake --build --preset release
        mkdir -p out
        ./build/examples/demo out
        ;;
    test) suite release ;;
    sanitize) suite asan ;;
    tsan) suite tsan ;;
    bench)
        ensure_packages "${build_packages[@]}"
        cmake --preset release >/dev/null
        cmake --build --preset release
        for b in build/bench/bench_*; do "$b" --benchmark_min_time=0.2; done
        ;;
    format)
        # The repository's .clang-format (clang-format 14); lists every file that differs.
        ensure_packages clang-format git
        git ls-files -z '*.cpp' '*.h' '*.hpp' '*.cc' | xargs -0 clang-format --dry-run -Werror
        echo "clang-format: every C++ file is formatted"
        ;;
    *)
        echo "usage: bash cmake/run.sh demo|test|sanitize|tsan|bench|format" >&2
        exit 2
        ;;
esac
