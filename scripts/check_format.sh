#!/usr/bin/env bash
# Fails if a tracked C++ file is not formatted with the repository's .clang-format.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bad=()
while IFS= read -r -d '' f; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files -z -- '*.cc' '*.h')
if [ ${#bad[@]} -ne 0 ]; then
  printf 'not clang-formatted (run clang-format -i): %s\n' "${bad[@]}"
  exit 1
fi
echo "check_format: ok"
