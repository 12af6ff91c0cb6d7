#!/usr/bin/env bash
# Builds raftkit and runs the whole test suite. This is the command README.md gives and .ci/run
# calls. Works on a fresh Debian 12 machine as root: missing packages are installed first.
#
#   scripts/test.sh           CI budget: every label, slow suites bounded (RAFTKIT_BUDGET=ci)
#   scripts/test.sh --long    the long local mode of the slow suites (RAFTKIT_BUDGET=long)
#
# Stages: dependencies -> layering and format checks -> release build (warnings are errors) + all
# tests -> ASan+UBSan build + unit tests -> libFuzzer runs (clang-14) -> golden-vector freshness
# (when Go is present) -> benchmark smoke runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUDGET="ci"
for arg in "$@"; do
  case "$arg" in
    --long) BUDGET="long" ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

JOBS="$(nproc 2>/dev/null || echo 2)"
stage() { printf '\n== %s ==\n' "$*"; }

stage "dependencies"
"$ROOT/scripts/deps.sh"

# ccache: key objects on paths relative to the checkout so a fresh clone elsewhere hits the cache.
export CCACHE_BASEDIR="$ROOT"
export CCACHE_NOHASHDIR=true
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"

stage "layering and format"
"$ROOT/scripts/check_layers.sh"
"$ROOT/scripts/check_format.sh"

stage "release build (RelWithDebInfo, -Werror)"
cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRAFTKIT_WERROR=ON -DRAFTKIT_BUDGET="$BUDGET" >/dev/null
ninja -C "$ROOT/build"

stage "tests (all labels)"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$JOBS"

stage "ASan+UBSan build, unit tests"
cmake -S "$ROOT" -B "$ROOT/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRAFTKIT_WERROR=ON \
  -DRAFTKIT_SANITIZE=address,undefined -DRAFTKIT_BUILD_BENCH=OFF -DRAFTKIT_BUDGET="$BUDGET" >/dev/null
ninja -C "$ROOT/build-asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$ROOT/build-asan" --output-on-failure -j "$JOBS" -L unit

stage "fuzzing (clang-14 libFuzzer + ASan/UBSan, label fuzz)"
# The g++ builds above replay the kept corpora (tests/fuzz/corpus); here each target fuzzes for
# RAFTKIT_FUZZ_SECONDS (60 s in CI, 600 s with --long) starting from them.
cmake -S "$ROOT" -B "$ROOT/build-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DRAFTKIT_FUZZ=ON -DRAFTKIT_SANITIZE=address,undefined \
  -DRAFTKIT_WERROR=ON -DRAFTKIT_BUILD_BENCH=OFF -DRAFTKIT_BUDGET="$BUDGET" >/dev/null
ninja -C "$ROOT/build-fuzz" raftkit_fuzzers
ctest --test-dir "$ROOT/build-fuzz" --output-on-failure -j "$JOBS" -L fuzz

stage "golden vectors are current"
if command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/go.etcd.io/etcd/raft/raftpb ]; then
  "$ROOT/scripts/gen_golden.sh" --check
else
  echo "go or etcd sources missing: skipping the regeneration check (the golden test itself ran)"
fi

stage "benchmark smoke run"
"$ROOT/build/bench/core_bench" --benchmark_min_time=0.01 --benchmark_filter='Batch/64' >/dev/null
echo "core_bench ran"
RAFTKIT_BENCH_DIR="$ROOT/build" "$ROOT/build/bench/wal_bench" --benchmark_min_time=0.01 \
  --benchmark_filter='bytes:100/batch:16' >/dev/null
echo "wal_bench ran"
"$ROOT/build/bench/transport_bench" --seconds 0.5 --batch 64 | tail -3
echo "transport_bench ran"
# raftkit-kv and etcd 3.4 as 3-node clusters under raftkit-bench's load (about 30 s).
"$ROOT/build/bench/kv_compare/kv_compare" --quick | tail -6
echo "kv_compare ran"

printf '\nscripts/test.sh: all stages passed (budget=%s)\n' "$BUDGET"
