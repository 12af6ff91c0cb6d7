#!/usr/bin/env bash
# Builds raftkit and starts a local 3-node raftkit-kv cluster on 127.0.0.1 with embedded defaults.
#
#   scripts/cluster.sh                 data and logs under ./cluster-data (kept between runs)
#   CLUSTER_DIR=/tmp/c scripts/cluster.sh
#
# Members: peer URLs http://127.0.0.1:{12379,22379,32379}, key-value API on 127.0.0.1:{12380,22380,32380}.
# Ctrl-C stops all three. Try, from another terminal:
#   curl -X PUT -d bar http://127.0.0.1:12380/v1/kv/foo
#   curl http://127.0.0.1:22380/v1/kv/foo
#   curl http://127.0.0.1:32380/v1/cluster
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/deps.sh"
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$ROOT/build" raftkit-kv

DIR="${CLUSTER_DIR:-$ROOT/cluster-data}"
mkdir -p "$DIR"
CLUSTER="http://127.0.0.1:12379,http://127.0.0.1:22379,http://127.0.0.1:32379"
PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "cluster stopped (data kept in $DIR)"
}
trap stop EXIT
trap 'exit 0' INT TERM
for i in 1 2 3; do
  "$ROOT/build/apps/kv/raftkit-kv" --id "$i" --cluster "$CLUSTER" --port "${i}2380" \
    --data-dir "$DIR/node$i" >"$DIR/node$i.log" 2>&1 &
  PIDS+=("$!")
done
echo "raftkit-kv cluster: 3 members, logs in $DIR/node{1,2,3}.log"
for i in 1 2 3; do
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:${i}2380/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
done
curl -s "http://127.0.0.1:12380/v1/cluster" || true
echo
echo "try: curl -X PUT -d bar http://127.0.0.1:12380/v1/kv/foo && curl http://127.0.0.1:22380/v1/kv/foo"
echo "Ctrl-C stops the cluster."
wait
