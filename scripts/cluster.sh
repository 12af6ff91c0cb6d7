#!/usr/bin/env bash
# Builds raftkit and starts a local 3-node raftkit-kv cluster on 127.0.0.1 with embedded defaults.
#
# raftkit-kv (the replicated key-value service) is not built yet: the Raft core, storage and
# transport come first (see README.md, "Status"). Until it exists this script builds everything,
# says so, and starts nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/deps.sh"
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$ROOT/build"
if [ ! -x "$ROOT/build/apps/kv/raftkit-kv" ]; then
  echo
  echo "raftkit-kv does not exist yet: the build succeeded, but there is no cluster to start."
  echo "Today you can run the tests (scripts/test.sh) and the core benchmark (build/bench/core_bench)."
  exit 0
fi
