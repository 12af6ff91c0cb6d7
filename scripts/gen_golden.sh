#!/usr/bin/env bash
# Regenerates raftkit's golden vectors with etcd 3.4's own Go code. Works from any directory.
#   tests/raftpb/testdata/golden_vectors.txt            raftpb (tests/interop/golden/gen_golden.go)
#   tests/transport/rafthttp/testdata/stream_vectors.txt  rafthttp stream codecs
#                                                       (tests/interop/rafthttp_golden/)
#
#   scripts/gen_golden.sh          regenerate the checked-in files (atomically: temp file, then mv)
#   scripts/gen_golden.sh --check  regenerate into temp files and diff them against the checked-in
#                                  files; exit 1 when one differs
#
# Needs Go (Debian: golang-go) and etcd 3.4's Go sources in GOPATH mode (Debian:
# golang-etcd-server-dev, under /usr/share/gocode). etcd's stream codecs are unexported, so the
# rafthttp generator is built in a temporary GOPATH whose package rafthttp is etcd's files
# (symlinked) plus tests/interop/rafthttp_golden/export/raftkit_export.go; the system tree is
# never modified. Environment overrides:
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
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) usage ;;
esac
[ $# -le 1 ] || usage

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gopath="${RAFTKIT_GOPATH:-/usr/share/gocode}"
rafthttp_pkg="src/go.etcd.io/etcd/etcdserver/api/rafthttp"

if ! command -v go >/dev/null 2>&1; then
  echo "gen_golden: 'go' not found in PATH; install Go (Debian: apt-get install golang-go)" >&2
  exit 2
fi
if [ ! -f "$gopath/src/go.etcd.io/etcd/raft/raftpb/raft.pb.go" ] ||
  [ ! -f "$gopath/$rafthttp_pkg/msgappv2_codec.go" ]; then
  echo "gen_golden: etcd 3.4 Go sources not found under $gopath/src/go.etcd.io/etcd" >&2
  echo "gen_golden: install them (Debian: apt-get install golang-etcd-server-dev) or set RAFTKIT_GOPATH" >&2
  exit 2
fi
for f in tests/interop/golden/gen_golden.go \
  tests/interop/rafthttp_golden/gen_rafthttp_golden.go \
  tests/interop/rafthttp_golden/export/raftkit_export.go; do
  if [ ! -f "$repo/$f" ]; then
    echo "gen_golden: generator $repo/$f is missing" >&2
    exit 2
  fi
done

export GO111MODULE=off
export GOFLAGS=
export GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/raftkit-gocache-$(id -u)}"
mkdir -p "$GOCACHE"

work="$(mktemp -d "${TMPDIR:-/tmp}/gen_golden.XXXXXX")"
staged=""
trap 'rm -rf "$work"; [ -z "$staged" ] || rm -f "$staged"' EXIT

# The shadow GOPATH for the rafthttp generator: in GOPATH mode each import path resolves in the
# first GOPATH entry that has it, so only package rafthttp needs shadowing; everything else still
# comes from $gopath.
shadow="$work/gopath"
mkdir -p "$shadow/$rafthttp_pkg"
for f in "$gopath/$rafthttp_pkg"/*.go; do
  case "$f" in
    *_test.go) ;;
    *) ln -s "$f" "$shadow/$rafthttp_pkg/" ;;
  esac
done
cp "$repo/tests/interop/rafthttp_golden/export/raftkit_export.go" "$shadow/$rafthttp_pkg/"

status=0

# generate <name> <GOPATH> <generator> <target>: runs the generator, then checks or installs its
# output as the target file.
generate() {
  local name="$1" path="$2" generator="$repo/$3" target="$repo/$4"
  local tmp="$work/$name.txt"
  if ! (cd "$repo" && GOPATH="$path" go run "$generator") >"$tmp"; then
    echo "gen_golden: the Go generator $generator failed; $target left unchanged" >&2
    exit 2
  fi
  if [ ! -s "$tmp" ]; then
    echo "gen_golden: the Go generator $generator printed nothing; $target left unchanged" >&2
    exit 2
  fi

  if [ "$check" -eq 1 ]; then
    if [ ! -f "$target" ]; then
      echo "gen_golden: $target does not exist; run $0 to create it" >&2
      status=1
    elif ! diff -u "$target" "$tmp"; then
      echo "gen_golden: $target is out of date; run $0 to regenerate it" >&2
      status=1
    else
      echo "gen_golden: $target is up to date ($(grep -vc "^#" "$target") $name lines)"
    fi
    return
  fi

  mkdir -p "$(dirname "$target")"
  # Copy next to the target first so that the final mv is an atomic rename on the same file system.
  staged="$(mktemp "$(dirname "$target")/.$(basename "$target").XXXXXX")"
  cp "$tmp" "$staged"
  chmod 0644 "$staged"
  mv -f "$staged" "$target"
  staged=""
  echo "gen_golden: wrote $target ($(grep -vc "^#" "$target") $name lines)"
}

generate raftpb "$gopath" tests/interop/golden/gen_golden.go \
  tests/raftpb/testdata/golden_vectors.txt
generate rafthttp "$shadow:$gopath" tests/interop/rafthttp_golden/gen_rafthttp_golden.go \
  tests/transport/rafthttp/testdata/stream_vectors.txt
exit "$status"
