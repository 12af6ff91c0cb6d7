#!/usr/bin/env bash
# Installs the Debian 12 packages raftkit needs to build and test. Idempotent: when every package is
# already present it prints one line and changes nothing. Needs root (or sudo) only when something
# is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config clang-14 libclang-rt-14-dev clang-format clang-tidy
  # libraries
  protobuf-compiler libprotobuf-dev libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libboost-dev libssl-dev prometheus-cpp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # etcd 3.4's Go sources (raftpb oracle for golden vectors, later the conformance oracle) and Go
  golang-go golang-etcd-server-dev
  # the real etcd 3.4, the baseline of bench/kv_compare
  etcd-server
  # the local cluster launcher (scripts/cluster.sh) waits for health with curl; TLS tests make
  # their certificates with the openssl CLI
  curl openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "deps: missing packages and not root (no sudo): ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only if an install from the current lists fails.
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "deps: done"
