#!/usr/bin/env bash
# Regenerates tests/raftpb/testdata/golden_vectors.txt with etcd 3.4's own Go raftpb
# (tests/interop/golden/gen_golden.go). Works from any directory.
#
#   scripts/gen_golden.sh          regenerate the checked-in file (atomically: temp file, then mv)
#   scripts/gen_golden.sh --check  regenerate into a temp file and diff it against the checked-in
#                                  file; exit 1 when they differ
#
# Needs Go (Debian: golang-go) and etcd 3.4's Go sources in GOPATH mode (Debian:
# golang-etcd-server-dev, under /usr/share/gocode). Environment overrides:
#   RAFTKIT_GOPATH  GOPATH holding src/go.etcd.io/etcd (default /usr/share/gocode)
#   GOCACHE         Go build cache (default: a per-user directory under ${TMPDIR:-/tmp})
# Exit status: 0 ok, 1 --check found a difference, 2 missing tools/sources or generator failure.
set -euo pipefail

usage() {
  echo "usage: $0 [--check]" >&2
  exit 2
}

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h | --help)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) usage ;;
esac
[ $# -le 1 ] || usage

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
generator="$repo/tests/interop/golden/gen_golden.go"
target="$repo/tests/raftpb/testdata/golden_vectors.txt"
gopath="${RAFTKIT_GOPATH:-/usr/share/gocode}"

if ! command -v go >/dev/null 2>&1; then
  echo "gen_golden: 'go' not found in PATH; install Go (Debian: apt-get install golang-go)" >&2
  exit 2
fi
if [ ! -f "$gopath/src/go.etcd.io/etcd/raft/raftpb/raft.pb.go" ]; then
  echo "gen_golden: etcd 3.4 Go sources not found under $gopath/src/go.etcd.io/etcd" >&2
  echo "gen_golden: install them (Debian: apt-get install golang-etcd-server-dev) or set RAFTKIT_GOPATH" >&2
  exit 2
fi
if [ ! -f "$generator" ]; then
  echo "gen_golden: generator $generator is missing" >&2
  exit 2
fi

export GO111MODULE=off
export GOPATH="$gopath"
export GOFLAGS=
export GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/raftkit-gocache-$(id -u)}"
mkdir -p "$GOCACHE"

tmp="$(mktemp "${TMPDIR:-/tmp}/golden_vectors.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

if ! (cd "$repo" && go run "$generator") >"$tmp"; then
  echo "gen_golden: the Go generator failed; $target left unchanged" >&2
  exit 2
fi
if [ ! -s "$tmp" ]; then
  echo "gen_golden: the Go generator printed nothing; $target left unchanged" >&2
  exit 2
fi

if [ "$check" -eq 1 ]; then
  if [ ! -f "$target" ]; then
    echo "gen_golden: $target does not exist; run $0 to create it" >&2
    exit 1
  fi
  if ! diff -u "$target" "$tmp"; then
    echo "gen_golden: $target is out of date; run $0 to regenerate it" >&2
    exit 1
  fi
  echo "gen_golden: $target is up to date ($(grep -vc '^#' "$target") vectors)"
  exit 0
fi

mkdir -p "$(dirname "$target")"
# Copy next to the target first so that the final mv is an atomic rename on the same file system.
staged="$(mktemp "$(dirname "$target")/.golden_vectors.XXXXXX")"
trap 'rm -f "$tmp" "$staged"' EXIT
cp "$tmp" "$staged"
chmod 0644 "$staged"
mv -f "$staged" "$target"
echo "gen_golden: wrote $target ($(grep -vc '^#' "$target") vectors)"
