#!/usr/bin/env bash
# Enforces the dependency direction of docs/architecture.md on #include lines: a layer may include
# only itself and the layers below it. Prints every violation and exits 1 if there is any.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# layer -> allowed raftkit include prefixes (besides its own)
declare -A ALLOWED=(
  [util]="raftkit/util/"
  [raftpb]="raftkit/util/ raftkit/raftpb/"
  [core/quorum]="raftkit/util/ raftkit/core/quorum/"
  [core/tracker]="raftkit/util/ raftkit/raftpb/ raftkit/core/quorum/ raftkit/core/tracker/"
  [core/confchange]="raftkit/util/ raftkit/raftpb/ raftkit/core/quorum/ raftkit/core/tracker/ raftkit/core/confchange/"
  [core]="raftkit/util/ raftkit/raftpb/ raftkit/core/ core/"
  [storage/fs]="raftkit/util/ raftkit/storage/fs/ storage/fs/"
  [storage/wal]="raftkit/util/ raftkit/raftpb/ raftkit/storage/fs/ raftkit/storage/wal/ storage/wal/"
  [storage/snap]="raftkit/util/ raftkit/raftpb/ raftkit/storage/fs/ raftkit/storage/snap/ storage/snap/"
  [storage]="raftkit/util/ raftkit/raftpb/ raftkit/core/ raftkit/storage/ storage/"
  [transport/http]="raftkit/util/ raftkit/transport/http/ transport/http/"
  [transport/rafthttp]="raftkit/util/ raftkit/raftpb/ raftkit/transport/http/ raftkit/transport/rafthttp/ transport/http/ transport/rafthttp/"
  [server]="raftkit/util/ raftkit/raftpb/ raftkit/core/ raftkit/storage/ raftkit/transport/http/ raftkit/transport/rafthttp/ raftkit/server/ server/"
)

violations=0
check() {  # <layer> <files...>
  local layer="$1"; shift
  local allowed="${ALLOWED[$layer]}"
  for f in "$@"; do
    [ -f "$f" ] || continue
    while IFS= read -r inc; do
      local ok=0
      for prefix in $allowed; do
        case "$inc" in "$prefix"*) ok=1 ;; esac
      done
      # Generated protobuf code is private to raftpb.
      if [ "$layer" = raftpb ] && [ "$inc" = "raft.pb.h" ]; then ok=1; fi
      if [ $ok -eq 0 ]; then
        echo "layering: $f ($layer) includes \"$inc\""
        violations=$((violations + 1))
      fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
  done
}

shopt -s nullglob
check util include/raftkit/util/*.h src/util/*.cc src/util/*.h
check raftpb include/raftkit/raftpb/*.h src/raftpb/*.cc src/raftpb/*.h
check core/quorum include/raftkit/core/quorum/*.h src/core/quorum/*
check core/tracker include/raftkit/core/tracker/*.h src/core/tracker/*
check core/confchange include/raftkit/core/confchange/*.h src/core/confchange/*
check core include/raftkit/core/*.h src/core/*.cc src/core/*.h
check storage/fs include/raftkit/storage/fs/*.h src/storage/fs/*
check storage/wal include/raftkit/storage/wal/*.h src/storage/wal/*
check storage/snap include/raftkit/storage/snap/*.h src/storage/snap/*
check storage include/raftkit/storage/*.h src/storage/*.cc src/storage/*.h
check transport/http include/raftkit/transport/http/*.h src/transport/http/*
check transport/rafthttp include/raftkit/transport/rafthttp/*.h src/transport/rafthttp/*
check server include/raftkit/server/*.h src/server/*

if [ $violations -ne 0 ]; then
  echo "check_layers: $violations violation(s)"
  exit 1
fi
echo "check_layers: ok"
